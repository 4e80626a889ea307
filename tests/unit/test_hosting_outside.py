"""HostService with meetings on an outside rendezvous (a real one on 127.0.0.1), with an injected
clock: the owner token kept, a meeting link given as the rendezvous, End and +1 hour on a full
room, and a meeting the rendezvous lost (opened again, over near its end, or someone else's)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.errors import RoomRefused
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import ENDED, EXPIRED, LIVE, MeetingStore
from app.net import protocol, rendezvous
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.unit.hosting_fixtures import (
    Clock,
    clock_fixture,  # noqa: F401  (the "clock" fixture)
    host_fixture,  # noqa: F401  (the "host" fixture)
    join,
    refused,
)


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
