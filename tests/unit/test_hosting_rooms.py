"""HostService against real embedded rendezvous servers on 127.0.0.1, with an injected clock:
its rooms started (the host joins like anyone), ended, extended and expired, and the sweeper
that expires meetings and closes idle servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.errors import RendezvousUnreachable, RoomEnded
from app.meeting.host_servers import IDLE_CLOSE_S
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import ENDED, EXPIRED, MeetingStore
from app.net import protocol
from tests.unit.hosting_fixtures import (
    Clock,
    clock_fixture,  # noqa: F401  (the "clock" fixture)
    host_fixture,  # noqa: F401  (the "host" fixture)
    join,
    refused,
)


async def test_start_opens_an_empty_room_the_host_joins_like_anyone(host: HostService) -> None:
    record = await host.start("Team Sync (Mon)", "mid", 3 * 3600)
    link = parse_link(record.link)
    assert (link.host, link.room, record.room) == ("127.0.0.1", "team-sync-mon", "team-sync-mon")
    assert record.title == "Team Sync (Mon)" and record.port == link.port and record.owner_token
    assert record.expires_at == host.now() + 3 * 3600
    assert host.participants(record.link) == 0
    client, joined = await join(record.link)
    assert joined.peers == () and joined.capacity == 8 and joined.owner_token is None
    assert host.participants(record.link) == 1
    second = await host.start("other")
    assert parse_link(second.link).port == link.port  # one server for every room
    entry = host._servers.get(link.port)
    assert entry is not None and entry[0].own_rooms_only  # (others may join, not create)
    await client.close()


async def test_end_tells_everyone_and_refuses_later_joins(host: HostService) -> None:
    record = await host.start("standup")
    client, _ = await join(record.link)
    ended = await host.end(record.link)
    assert ended.state == ENDED and host.store.find(record.link).state == ENDED  # type: ignore[union-attr]
    msg = await asyncio.wait_for(client.recv(), 3)
    assert isinstance(msg, protocol.RoomEnded)
    await client.close()
    assert await refused(record.link) == "room_ended"
    assert host.participants(record.link) == 0
    await host.end(record.link)  # idempotent


async def test_extend_adds_an_hour_and_tells_members(host: HostService) -> None:
    record = await host.start("standup", lifetime_s=3600)
    client, _ = await join(record.link)
    extended = await host.extend(record.link)
    assert extended.expires_at == host.now() + 7200
    msg = await asyncio.wait_for(client.recv(), 3)
    assert isinstance(msg, protocol.Extended) and msg.expires_at == extended.expires_at
    await client.close()


async def test_expiry_sweep_with_the_injected_clock(host: HostService, clock: Clock) -> None:
    changes: list[int] = []
    host.subscribe(lambda: changes.append(1))
    record = await host.start("short", lifetime_s=60)
    clock.t += 59
    assert host.sweep() == [] and host.records()[0].time_left(clock()) == 1
    clock.t += 1
    assert [r.link for r in host.sweep()] == [record.link]
    assert host.store.find(record.link).state == EXPIRED  # type: ignore[union-attr]
    assert await refused(record.link) == "room_expired"
    with pytest.raises(RoomEnded):
        await host.extend(record.link)
    assert len(changes) >= 2


async def test_the_sweeper_expires_meetings_and_closes_idle_servers(
    tmp_path: Path, clock: Clock
) -> None:
    svc = HostService(
        MeetingStore(tmp_path / "m.json"),
        clock=clock,
        bind="127.0.0.1",
        advertise="127.0.0.1",
        preferred_port=0,
        sweep_interval=0.02,
    )
    expired = asyncio.Event()
    svc.subscribe(lambda: expired.set() if svc.records()[0].state == EXPIRED else None)
    try:
        record = await svc.start("brief", lifetime_s=60)
        clock.t += 60
        await asyncio.wait_for(expired.wait(), 3)
        assert await refused(record.link) == "room_expired"  # the server is still there
        clock.t += IDLE_CLOSE_S
        for _ in range(100):
            if svc.participants(record.link) == 0 and not svc._servers:
                break
            await asyncio.sleep(0.02)
        assert not svc._servers  # an idle server does not stay open for nothing
        with pytest.raises(RendezvousUnreachable):
            await join(record.link)
    finally:
        await svc.close()
