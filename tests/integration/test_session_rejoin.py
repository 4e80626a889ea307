"""Sessions that lose the rendezvous and get back into the call, against a real rendezvous
(stopped, restarted, with or without its state file) and real aiortc connections."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from app.config import IceServer
from app.meeting import events as ev
from app.meeting import rejoin
from app.meeting.links import Link, new_secret
from app.net.rendezvous import RendezvousServer
from app.net.rooms import Rooms
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.test_session import Peer, room_link, two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_a_guest_that_lost_the_rendezvous_gets_back_into_the_call(
    server: RendezvousServer,
) -> None:
    """Its websocket dropped (laptop asleep, Wi-Fi gone for longer than the server waits): it
    joins again by itself, under a new id, and tells the host so over their link, which carries
    on: the host keeps it as it was (same key, same link, same safety code)."""
    async with two_in_a_room(server) as (_link, host, guest):
        old, hid = guest.session.my_id, host.session.my_id
        await until(lambda: host.media.video_frames(old) > 3 and guest.media.video_frames(hid) > 3)
        assert guest.session._client is not None
        await guest.session._client.close()  # as if the connection had died
        link = host.session._links[old]
        await until(lambda: guest.session.my_id != old and guest.session._signaling_ok)
        new = guest.session.my_id
        await until(lambda: host.session._whois.rendezvous_id(old) == new)
        frames = (host.media.video_frames(old), guest.media.video_frames(hid))
        await until(lambda: host.media.video_frames(old) > frames[0] + 3)
        await until(lambda: guest.media.video_frames(hid) > frames[1] + 3)
        assert guest.session.ended is None and host.session.ended is None
        assert guest.of(ev.Rejoined) and not guest.of(ev.PeerLeft)  # the host never left
        assert not host.of(ev.PeerLeft) and len(host.of(ev.PeerJoined)) == 1  # nor the guest
        assert set(host.session.peers) == {old} and host.session._links[old] is link
        assert set(guest.session.peers) == {hid}
        assert guest.session.peers[hid].name == "Hana"  # what was known of it is kept
        # the same connection, the same safety code
        assert len(guest.of(ev.PeerConnected)) == len(host.of(ev.PeerConnected)) == 1


async def test_a_lone_guest_waits_for_a_restarted_host(server: RendezvousServer) -> None:
    """The host's app (and the rendezvous in it) went away and came back on the same port with
    the same room: a guest left on its own keeps trying, and is in the call again."""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    again = Peer("Hana")
    restarted: RendezvousServer | None = None
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await until(lambda: gus.media.video_frames(host.session.my_id) > 3)
        await server.close()
        await host.close()
        await until(lambda: not gus.session.peers)  # alone, and trying
        await asyncio.sleep(1.0)
        restarted = RendezvousServer(host="127.0.0.1", port=link.port)
        await restarted.start()
        await again.session.create(link, "small", 3600)
        await until(lambda: gus.media.video_frames(again.session.my_id) > 3, limit=20)
        assert gus.session.ended is None
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_WITH_OTHERS, rejoin.LOST_ALONE]  # each said once
    finally:
        for peer in (gus, again, host):
            await peer.close()
        if restarted is not None:
            await restarted.close()


async def test_losing_the_rendezvous_when_already_alone_is_said_once(
    server: RendezvousServer,
) -> None:
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus", watch_interval=0.25)
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        # connected first: Hana leaving in the middle of her offer relays it after her bye,
        # and Gus, done with her after the bye, answers it (Hana is back, with a link), so
        # the rendezvous is lost "with others" and then "alone"
        await until(lambda: gus.media.video_frames(host.session.my_id) > 3)
        await host.close()  # with a goodbye: Gus waits alone in the room
        await until(lambda: not gus.session.peers and not gus.session._links)
        await server.close()
        await until(lambda: bool(gus.of(ev.RendezvousLost)))
        await asyncio.sleep(0.75)  # a few watch ticks (0.25 s apart here, 1 s in the app)
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_ALONE]
    finally:
        await gus.close()
        await host.close()


async def test_a_call_through_a_restarted_rendezvous_with_a_state_file_carries_on(
    tmp_path: Path,
) -> None:
    """An outside rendezvous restarted with --state: the room comes back with it, and both
    participants get back in by themselves (new ids, new links), media both ways."""
    state = tmp_path / "rooms.json"
    first = RendezvousServer(host="127.0.0.1", port=0, state_path=state)
    await first.start()
    link = room_link(first)
    host, gus = Peer("Hana"), Peer("Gus")
    second: RendezvousServer | None = None
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await until(lambda: gus.media.video_frames(host.session.my_id) > 3)
        old = hid, gid = (host.session.my_id, gus.session.my_id)
        await first.close()  # writes the state; every connection drops
        second = RendezvousServer(host="127.0.0.1", port=link.port, state_path=state)
        await second.start()
        await until(lambda: (host.session.my_id, gus.session.my_id) != old, limit=15)
        await until(lambda: host.session.my_id not in old and gus.session.my_id not in old, 15)
        frames = (gus.media.video_frames(hid), host.media.video_frames(gid))  # (their keys stay)
        await until(lambda: gus.media.video_frames(hid) > frames[0] + 3, limit=15)
        await until(lambda: host.media.video_frames(gid) > frames[1] + 3, limit=15)
        assert host.session.ended is None and gus.session.ended is None
        assert host.session.owner_token is not None
        await host.session.end_room()  # its owner token still holds
        await until(lambda: gus.session.ended == "ended")
    finally:
        await gus.close()
        await host.close()
        await first.close()
        if second is not None:
            await second.close()


async def test_rejoining_is_quiet_and_never_ended_by_a_namesake_room(
    server: RendezvousServer,
) -> None:
    """A rendezvous that lost our room (restarted without --state) while another room of the
    same name (another secret) is open answers "wrong secret": that ends nobody's call; the
    room's creator opens it again. Relays to the dead connection meanwhile make no notices."""
    async with two_in_a_room(server) as (link, host, guest):
        hid, gid = host.session.my_id, guest.session.my_id
        await until(lambda: guest.media.video_frames(hid) > 3)
        namesake = await SignalingClient.connect(link.rendezvous_url, 3.0)
        try:
            other = Link(link.host, link.port, link.room, new_secret())
            await namesake.create(
                RoomKeys.from_secret(other.secret).room_id, link.room, "small", 600
            )
            room_id = RoomKeys.from_secret(link.secret).room_id
            server.rooms._bury(server.rooms.get(room_id), "gone")  # type: ignore[arg-type]
            server.rooms._tombstones.pop(room_id)  # as after a restart without --state
            assert guest.session._client is not None and host.session._client is not None
            await guest.session._client.close()
            await host.session._client.close()
            # answered "wrong secret", the host (it created the room) opens it again, the guest
            # keeps trying, and both are back in, with media both ways
            await until(lambda: host.session._signaling_ok and guest.session._signaling_ok, 15)
            frames = (guest.media.video_frames(hid), host.media.video_frames(gid))  # (keys stay)
            await until(lambda: guest.media.video_frames(hid) > frames[0] + 3, 15)
            await until(lambda: host.media.video_frames(gid) > frames[1] + 3, 15)
            assert guest.session.ended is None and host.session.ended is None
            notes = [e.text for e in guest.of(ev.Notice) + host.of(ev.Notice)]  # type: ignore[attr-defined]
            assert not [n for n in notes if "closed" in n or "rendezvous:" in n], notes
        finally:
            await namesake.close()


async def test_a_room_whose_time_runs_out_while_the_rendezvous_is_gone_ends_the_call(
    server: RendezvousServer,
) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: guest.media.video_frames(host.session.my_id) > 3)
        await server.close()  # nobody left to say "expired"
        await until(lambda: not guest.session._signaling_ok)
        guest.session.expires_at = time.time() - 1  # its time ran out meanwhile
        await until(lambda: guest.session.ended == "expired", limit=5)


async def test_a_guest_that_leaves_does_not_rebuild_the_links_it_is_closing(
    server: RendezvousServer,
) -> None:
    """Leaving closes every link, and the other side closes its end on our goodbye: the
    watchdog, still running for a moment, must not take that for a failure and reconnect
    (the host then showed the leaver joining again, and leaving with "connection lost")."""
    link = room_link(server)
    host = Peer("Hana")
    try:
        await host.session.create(link, "small", 3600)
        for round_ in range(3):
            gus = Peer("Gus")
            gus.session._watch_interval = 0.005  # looks at the links all through the leave
            await gus.session.join(link)
            gid = gus.session.my_id
            await until(lambda: host.media.video_frames(gid) > 3)  # noqa: B023
            await gus.close()
            await until(lambda: gid not in host.session.peers)  # noqa: B023
            await asyncio.sleep(0.5)
            left = [e for e in host.of(ev.PeerLeft) if e.peer_id == gid]  # type: ignore[attr-defined]
            connected = [e for e in host.of(ev.PeerConnected) if e.peer_id == gid]  # type: ignore[attr-defined]
            assert [e.reason for e in left] == ["left"] and len(connected) == 1, round_  # type: ignore[attr-defined]
            assert not gus.of(ev.ConnectionChanged) or all(
                e.state != "reconnecting"
                for e in gus.of(ev.ConnectionChanged)  # type: ignore[attr-defined]
            )
    finally:
        await host.close()


async def test_leaving_while_getting_back_in_closes_the_new_seat(
    server: RendezvousServer,
) -> None:
    """Gus lost the rendezvous and is back in the room (a new connection, a new seat), but his
    call is still making way for it: the link to Hana is busy (its ICE gathering waits 5 s for
    a STUN server that does not answer) and must be dropped first. He leaves then: the new
    connection is closed with him, so the room does not keep his new seat (Hana would see a
    ghost until the server times it out), and nothing is said after the call ended."""
    link = room_link(server)
    hana, gus = Peer("Hana"), Peer("Gus")
    silent = IceServer("stun:127.0.0.1:9")  # nothing listens there
    gus.session.config = dataclasses.replace(gus.session.config, ice_servers=(silent,))
    room = server.rooms
    try:
        await hana.session.create(link, "small", 3600)
        await gus.session.join(link)
        hid, old = hana.session.my_id, gus.session.my_id
        await until(lambda: hid in gus.session._links)  # its offer or answer is gathering
        assert gus.session._client is not None
        await gus.session._client.close()  # as if the connection had died
        room_id = RoomKeys.from_secret(link.secret).room_id

        def seats() -> set[str]:
            found = room.get(room_id)
            return set(found.members) if found is not None else set()

        await until(lambda: len(seats() - {hid, old}) == 1)  # back in, under a new id
        new = (seats() - {hid, old}).pop()
        assert not gus.of(ev.Rejoined)  # still dropping the old link to Hana
        await gus.close()
        assert seats() == {hid}, "the new seat was left in the room"
        await until(lambda: new not in hana.session.peers)
        ended = gus.events.index(gus.of(ev.SessionEnded)[0])
        assert gus.events[ended + 1 :] == []
        assert gus.session._client is not None and gus.session._client.closed
    finally:
        await gus.close()
        await hana.close()


async def test_leaving_while_trying_to_get_back_in_leaves_nothing_behind(
    server: RendezvousServer,
) -> None:
    """Gus lost the rendezvous; in its place something takes the connection and never answers
    (his try back in waits up to 5 s for it). He leaves meanwhile: at once, the half-made
    connection is closed, no task of his is left running, and nothing is said after the end."""
    link = room_link(server)
    before = asyncio.all_tasks()
    gus = Peer("Gus")
    hung: list[asyncio.StreamReader] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hung.append(reader)
        await reader.read()  # (until the other side closes)
        writer.close()

    mute: asyncio.Server | None = None
    try:
        await gus.session.create(link, "small", 3600)
        await server.close()
        mute = await asyncio.start_server(silent, "127.0.0.1", link.port)
        await until(lambda: bool(hung))  # a try back in is connecting
        started = time.monotonic()
        await gus.close()
        assert time.monotonic() - started < 1.0
        await until(lambda: all(r.at_eof() for r in hung), limit=2)  # its socket was closed
        ended = gus.events.index(gus.of(ev.SessionEnded)[0])
        assert gus.events[ended + 1 :] == []
        await asyncio.sleep(0.1)
        leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
        leftover.discard(asyncio.current_task())  # type: ignore[arg-type]
        assert not {t for t in leftover if "silent" not in repr(t.get_coro())}, leftover
    finally:
        await gus.close()
        if mute is not None:
            mute.close()


async def test_someone_who_leaves_before_offering_is_not_kept_as_a_ghost() -> None:
    """Hana waits for an offer from each newcomer with a lower id (the lower id offers). One
    joins and leaves before offering: Hana forgets them (no link was ever made, so nothing to
    close), and is not told that someone she never saw left. (The rendezvous hands out ids in
    an order that makes it so: random ones made it Hana's turn to offer about half the time.)"""
    ids = iter(["zzzzzzzzzzzz", "AAAAAAAAAAAA"])  # Hana's, then the newcomer's: lower
    server = RendezvousServer(host="127.0.0.1", port=0)
    server.rooms = Rooms(new_id=lambda: next(ids))
    await server.start()
    link = room_link(server)
    hana = Peer("Hana")
    room_id = RoomKeys.from_secret(link.secret).room_id
    try:
        await hana.session.create(link, "small", 3600)
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        try:
            newcomer = (await client.join(room_id, link.room)).peer_id
            assert newcomer < hana.session.my_id  # (Hana waits for its offer)
            await until(lambda: newcomer in hana.session.peers)
        finally:
            await client.close()
        await until(lambda: newcomer not in hana.session.peers)
        assert not hana.session.peers
        assert newcomer not in [e.peer_id for e in hana.of(ev.PeerLeft)]  # type: ignore[attr-defined]
    finally:
        await hana.close()
        await server.close()


async def test_someone_shown_while_getting_back_in_is_taken_away_when_they_leave(
    server: RendezvousServer,
) -> None:
    """Hana loses the rendezvous while waiting for a newcomer's offer (their app may take
    seconds to gather its addresses). Back in, she must not put up a tile ("reconnecting") for
    someone never named: when they leave unnamed, nobody is told, so such a tile would stay
    for the rest of the call."""
    link = room_link(server)
    hana = Peer("Hana")
    room_id = RoomKeys.from_secret(link.secret).room_id
    client = await SignalingClient.connect(link.rendezvous_url, 3.0)
    try:
        await hana.session.create(link, "small", 3600)
        for _ in range(60):  # ids are random: until one low enough for Hana's to top it soon
            newcomer = (await client.join(room_id, link.room)).peer_id
            if newcomer < "K":
                break
            await client.close()
            client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        await until(lambda: newcomer in hana.session.peers)
        for _ in range(40):  # until Hana's new id is the higher one: she waits for an offer
            old = hana.session.my_id
            assert hana.session._client is not None
            await hana.session._client.close()  # as if the connection had died
            await until(lambda: hana.session.my_id != old and hana.session._signaling_ok)  # noqa: B023
            if hana.session.my_id > newcomer:
                break
        assert hana.session.my_id > newcomer and newcomer not in hana.session._links
        assert not hana.session.peers[newcomer].name
        await client.close()  # they leave, never having offered
        await until(lambda: newcomer not in hana.session.peers)
        shown = [e for e in hana.of(ev.ConnectionChanged) if e.peer_id == newcomer]  # type: ignore[attr-defined]
        left = [e for e in hana.of(ev.PeerLeft) if e.peer_id == newcomer]  # type: ignore[attr-defined]
        assert not shown or left, "a tile was put up for them and never taken away"
    finally:
        await client.close()
        await hana.close()
