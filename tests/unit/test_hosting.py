"""HostService against real embedded rendezvous servers on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.errors import RendezvousUnreachable, RoomEnded, RoomRefused
from app.meeting import hosting
from app.meeting.host_servers import IDLE_CLOSE_S
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import ENDED, EXPIRED, LIVE, UNAVAILABLE, MeetingStore
from app.net import protocol, rendezvous
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


def service(path: Path, clock: Clock) -> HostService:
    return HostService(
        MeetingStore(path), clock=clock, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0
    )


@pytest.fixture
async def host(tmp_path: Path, clock: Clock) -> AsyncIterator[HostService]:
    svc = service(tmp_path / "meetings.json", clock)
    yield svc
    await svc.close()


async def join(link_text: str) -> tuple[SignalingClient, protocol.Joined]:
    link = parse_link(link_text)
    client = await SignalingClient.connect(link.rendezvous_url, 3.0)
    try:
        return client, await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
    except BaseException:
        await client.close()
        raise


async def refused(link_text: str) -> str:
    with pytest.raises(RoomRefused) as info:
        client, _ = await join(link_text)
        await client.close()
    return info.value.code


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


async def test_resume_reopens_on_the_same_port(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    live = await first.start("keep me", lifetime_s=3600)
    gone = await first.start("end me")
    await first.end(gone.link)
    short = await first.start("nearly over", lifetime_s=100)
    await first.close()
    await first.close()  # idempotent
    clock.t += 60
    second = service(path, clock)
    try:
        reopened = await second.resume()
        assert [r.link for r in reopened] == [live.link]
        assert second.store.find(short.link).state == EXPIRED  # type: ignore[union-attr]
        client, joined = await join(live.link)  # the very same link works again
        assert joined.expires_at == live.expires_at
        assert await refused(gone.link) == "room_ended"  # late joiners still hear "ended"
        await client.close()
        await second.extend(live.link)  # with the new owner token
    finally:
        await second.close()


async def test_resume_says_why_when_the_port_is_taken(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("blocked")
    await first.close()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", record.port))
        squatter.listen()
        second = service(path, clock)
        try:
            assert await second.resume() == []
            again = second.store.find(record.link)
            assert again is not None and again.state == UNAVAILABLE
            assert f"port {record.port}" in again.note and "taken" in again.note
            assert "(Address already in use)" in again.note  # not asyncio's raw text
            assert second.participants(record.link) == 0
            await second.end(record.link)  # the user can still clear it
            assert second.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        finally:
            await second.close()


async def test_outside_rendezvous_keeps_the_owner_token(host: HostService) -> None:
    outside = RendezvousServer("127.0.0.1", 0)
    port = await outside.start()
    try:
        record = await host.start("remote", rendezvous=f"peermeet://127.0.0.1:{port}/")
        assert record.rendezvous and record.owner_token and record.port == port
        assert parse_link(record.link).port == port
        assert host.participants(record.link) is None
        client, joined = await join(record.link)
        assert joined.peers == ()  # the creator's seat was given back
        before = record.expires_at
        extended = await host.extend(record.link, 600)
        assert extended.expires_at == pytest.approx(before + 600, abs=1)
        await host.end(record.link)
        assert host.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        await client.close()
        assert await refused(record.link) == "room_ended"
        assert [r.state for r in await host.resume()] == []
    finally:
        await outside.close()


async def test_a_meeting_link_as_rendezvous_keeps_only_its_server(
    host: HostService, tmp_path: Path
) -> None:
    """A meeting link pasted into Start's server field: the meeting starts on that link's
    server, and what is stored (and shown in My meetings) is the server, never the other
    meeting's room and secret."""
    outside = RendezvousServer("127.0.0.1", 0)
    port = await outside.start()
    try:
        pasted = f"peermeet://127.0.0.1:{port}/their-standup#k=THEIRSECRET"
        record = await host.start("mine", rendezvous=pasted)
        assert record.rendezvous == f"peermeet://127.0.0.1:{port}"
        assert parse_link(record.link).room == "mine" and record.port == port
        assert "THEIRSECRET" not in (tmp_path / "meetings.json").read_text()
        assert "their-standup" not in (tmp_path / "meetings.json").read_text()
        client, _ = await join(record.link)  # it is open on that server
        await client.close()
    finally:
        await outside.close()


@pytest.mark.parametrize("knows_manage", [True, False], ids=["manage", "older-rendezvous"])
async def test_outside_meeting_ends_and_extends_while_full(
    host: HostService, knows_manage: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """My meetings' End and +1 hour reach a full room on an outside rendezvous (they take no
    seat); one from before ``manage`` is asked as a member, and says when the room is full."""
    if not knows_manage:
        monkeypatch.setattr(rendezvous, "_TO_SERVER", tuple(
            kind for kind in rendezvous._TO_SERVER if kind is not protocol.Manage
        ))  # fmt: skip
    outside = RendezvousServer("127.0.0.1", 0)
    port = await outside.start()
    members = []
    try:
        # typed without a scheme: tried as https, then plain, as this server speaks no TLS
        record = await host.start("full", size="small", rendezvous=f"127.0.0.1:{port}")
        members = [(await join(record.link))[0] for _ in range(4)]
        before = record.expires_at
        if not knows_manage:
            with pytest.raises(RoomRefused) as info:
                await host.extend(record.link, 600)
            assert info.value.code == "room_full"
            await members.pop().close()
        extended = await host.extend(record.link, 600)
        assert extended.expires_at == pytest.approx(before + 600, abs=1)
        with pytest.raises(RoomRefused):  # extending by nothing is refused, never an end
            await host.extend(record.link, 0)
        assert outside.room_count == 1
        await host.end(record.link)
        assert host.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        for member in members:
            async with asyncio.timeout(3):
                while not isinstance(msg := await member.recv(), protocol.RoomEnded):
                    assert msg is not None, "closed before being told the meeting ended"
    finally:
        for member in members:
            await member.close()
        await outside.close()


async def test_a_meeting_whose_port_was_taken_reopens_when_tried_again(
    tmp_path: Path, clock: Clock
) -> None:
    """My meetings' Try again: once the program holding the port is gone, the same link
    works again (it stayed unavailable until the next restart)."""
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("blocked")
    await first.close()
    second = service(path, clock)
    try:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", record.port))
            squatter.listen()
            await second.resume()
            again = await second.reopen(record.link)  # still taken: still unavailable
            assert again.state == UNAVAILABLE and "taken" in again.note
        again = await second.reopen(record.link)
        assert again.state == LIVE and again.note == "" and again.link == record.link
        assert second.participants(record.link) == 0  # its room is there again
    finally:
        await second.close()


async def test_an_outside_meeting_the_rendezvous_lost_is_opened_again_to_extend_it(
    host: HostService, clock: Clock
) -> None:
    """Its rendezvous restarted without its rooms: +1 hour opens it again, as it was (until
    its old expiry, not for a fresh lifetime), with a new owner token that ends it too."""
    outside = RendezvousServer("127.0.0.1", 0, clock=clock)
    port = await outside.start()
    record = await host.start("remote", "mid", 7200, rendezvous=f"peermeet://127.0.0.1:{port}")
    old_token, ends = record.owner_token, record.expires_at
    await outside.close()
    again = RendezvousServer("127.0.0.1", port, clock=clock)  # the same server, started afresh
    await again.start()
    try:
        clock.t += 600
        await host.extend(record.link, 3600)
        found = host.store.find(record.link)
        assert found is not None and found.state == LIVE and found.note == ""
        assert found.expires_at == ends + 3600 and found.owner_token not in ("", old_token)
        client, joined = await join(record.link)  # the link works again
        assert joined.capacity == 8 and joined.expires_at == ends + 3600
        await host.end(record.link)
        assert await client.recv() == protocol.RoomEnded("ended")  # the new token ended it
        await client.close()
        assert MeetingStore(host.store.path).find(record.link).state == ENDED  # type: ignore[union-attr]
    finally:
        await again.close()


async def test_an_outside_meeting_the_rendezvous_lost_near_its_end_is_over_here_too(
    host: HostService, clock: Clock
) -> None:
    """With less than a minute left there is nothing to open again: My meetings stops
    showing it as live (it offered Enter and Copy link for a link that no longer works)."""
    outside = RendezvousServer("127.0.0.1", 0, clock=clock)
    port = await outside.start()
    record = await host.start("remote", rendezvous=f"peermeet://127.0.0.1:{port}")
    await outside.close()
    again = RendezvousServer("127.0.0.1", port, clock=clock)
    await again.start()
    try:
        clock.t = record.expires_at - 30
        await host.extend(record.link)
        found = host.store.find(record.link)
        assert found is not None and not found.is_live(host.now()) and found.state == EXPIRED
        assert again.room_count == 0  # not opened again
    finally:
        await again.close()


async def test_an_outside_meeting_someone_else_opened_again_is_theirs_to_end(
    host: HostService, clock: Clock
) -> None:
    """Its server restarted without its rooms and someone else with the link opened it again
    (the server answers "not owner"): +1 hour and End say what happened and what to do, and
    the meeting is marked so (on disk too) for My meetings to offer Remove. Should the server
    lose it once more, +1 hour opens it again as ours, and the mark goes."""
    outside = RendezvousServer("127.0.0.1", 0, clock=clock)
    port = await outside.start()
    record = await host.start("remote", rendezvous=f"peermeet://127.0.0.1:{port}")
    await outside.close()
    link = parse_link(record.link)
    servers = [RendezvousServer("127.0.0.1", port, clock=clock)]
    await servers[0].start()
    other = await SignalingClient.connect(link.rendezvous_url, 3.0)
    try:
        await other.create(RoomKeys.from_secret(link.secret).room_id, link.room, "small", 600)
        for action in ("extend", "end"):
            with pytest.raises(RoomRefused) as info:
                await getattr(host, action)(record.link)
            said = str(info.value)
            assert info.value.code == "not_owner" and "Only the host" not in said
            assert "someone else with its link opened it again" in said, said
            assert "can end or extend it" in said and "press Remove" in said, said
        saved = MeetingStore(host.store.path).find(record.link)
        assert saved is not None and saved.taken and saved.state == LIVE
        assert "Opened again by someone else" in saved.note
        assert servers[0].room_count == 1  # theirs, still running
        await other.close()
        await servers[0].close()
        servers.append(RendezvousServer("127.0.0.1", port, clock=clock))
        await servers[1].start()  # lost once more
        await host.extend(record.link)
        assert not record.taken and record.note == "" and record.state == LIVE
        await host.end(record.link)  # ours again
        assert record.state == ENDED
    finally:
        await other.close()
        for server in servers:
            await server.close()


async def test_resume_leaves_outside_meetings_alone(tmp_path: Path, clock: Clock) -> None:
    outside = RendezvousServer("127.0.0.1", 0)
    port = await outside.start()
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("remote", rendezvous=f"peermeet://127.0.0.1:{port}")
    await first.close()
    second = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", sweep_interval=0.02)
    expired = asyncio.Event()
    second.subscribe(lambda: expired.set() if second.records()[0].state == EXPIRED else None)
    try:
        assert [r.link for r in await second.resume()] == [record.link]
        assert second.store.find(record.link).state == LIVE  # type: ignore[union-attr]
        clock.t = record.expires_at  # its time runs out with only outside meetings open:
        await asyncio.wait_for(expired.wait(), 3)  # My meetings says so (nothing swept them)
    finally:
        await second.close()
        await outside.close()


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


async def test_resume_makes_a_new_link_when_the_address_changed(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meetings.json"
    monkeypatch.setattr(hosting, "advertised_host", lambda bind: "10.0.0.5")
    first = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", preferred_port=0)
    record = await first.start("moved")
    await first.close()
    assert parse_link(record.link).host == "10.0.0.5"
    monkeypatch.setattr(hosting, "advertised_host", lambda bind: "10.0.0.6")
    second = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", preferred_port=0)
    try:
        [again] = await second.resume()
        old, new = parse_link(record.link), parse_link(again.link)
        assert (new.host, new.port, new.secret) == ("10.0.0.6", old.port, old.secret)
        assert "address changed" in again.note and "10.0.0.5" in again.note
        assert MeetingStore(path).find(again.link) is not None
    finally:
        await second.close()
