"""Sessions against a real rendezvous and real aiortc connections, in one process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs.vpx import Vp8Decoder

from app.config import EngineConfig, IceServer
from app.errors import RoomRefused
from app.meeting import events as ev
from app.meeting import regain, rejoin, roster
from app.meeting.headless import MediaOptions, build_media, close_media
from app.meeting.links import Link, new_secret
from app.meeting.recovery import Recovery
from app.meeting.session import Session
from app.net import protocol as p
from app.net.peers import handshake_safety_code
from app.net.rendezvous import RendezvousServer
from app.net.seal import b64d
from app.net.signaling import SignalingClient

pytestmark = pytest.mark.usefixtures("loopback")


class Peer:
    def __init__(
        self,
        name: str,
        connect: Callable[[str, float], Awaitable[SignalingClient]] = SignalingClient.connect,
        *,
        watch_interval: float = 1.0,
    ) -> None:
        self.media = build_media(MediaOptions(True, 160, 120, 15, label=name))
        config = EngineConfig(display_name=name, loopback_only=True)
        self.session = Session(config, self.media, connect=connect, watch_interval=watch_interval)
        self.events: list[ev.Event] = []
        self.session.subscribe(self.events.append)

    def of(self, kind: type[ev.Event]) -> list[ev.Event]:
        return [e for e in self.events if isinstance(e, kind)]

    async def close(self) -> None:
        await self.session.leave()
        await close_media(self.media)


async def until(check: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def room_link(server: RendezvousServer, name: str = "team-sync") -> Link:
    return Link("127.0.0.1", server.port, name, new_secret())


@contextlib.asynccontextmanager
async def two_in_a_room(server: RendezvousServer) -> AsyncIterator[tuple[Link, Peer, Peer]]:
    """Hana creates a room and Gus joins it; both leave afterwards."""
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Gus")
    try:
        await host.session.create(link, "small", 3600)
        await guest.session.join(link)
        yield link, host, guest
    finally:
        await guest.close()
        await host.close()


async def offering_side(host: Peer, guest: Peer) -> tuple[Peer, str]:
    """The peer that offers (the lower id) and the other's id, once video flows to it."""
    offerer, other = sorted((host, guest), key=lambda peer: peer.session.my_id)
    oid = other.session.my_id
    await until(lambda: offerer.media.video_frames(oid) > 5)
    return offerer, oid


async def test_two_peers_call_chat_mute_and_leave(server: RendezvousServer) -> None:
    relayed: list[str] = []
    server.on_relay = lambda room_id, blob: relayed.append(blob)
    before = asyncio.all_tasks()
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Gus")
    token = await host.session.create(link, "small", 3600)
    assert token
    await guest.session.join(link)
    await until(lambda: host.media.video_frames(guest.session.my_id) > 5)
    await until(lambda: guest.media.video_frames(host.session.my_id) > 5)
    await until(lambda: guest.media.audio_frames(host.session.my_id) > 10)

    (hc,) = host.of(ev.PeerConnected)
    (gc,) = guest.of(ev.PeerConnected)
    assert hc.name == "Gus" and gc.name == "Hana"  # type: ignore[attr-defined]
    assert hc.safety_code == gc.safety_code  # type: ignore[attr-defined]
    assert hc.path == "host"  # type: ignore[attr-defined]
    # with the offerer's nonce in it (app.net.sas), committed to before its offer
    pc = host.session._links[guest.session.my_id].pc
    assert handshake_safety_code(pc) not in ("", hc.safety_code)  # type: ignore[attr-defined]

    host.session.send_chat("hello Gus")
    guest.session.send_chat("hi Hana")
    await until(lambda: bool(guest.session.chat_log) and bool(host.session.chat_log))
    assert guest.session.chat_log[0].text == "hello Gus"
    assert host.session.chat_log[0].name == "Gus"

    guest.session.set_mic(False)
    await until(lambda: host.session.peers[guest.session.my_id].mic is False)
    assert any(not e.mic for e in host.of(ev.PeerMediaChanged))  # type: ignore[attr-defined]

    # the rendezvous relayed only sealed blobs: no SDP, names or chat in the clear
    assert relayed
    for blob in relayed:
        raw = b64d(blob)
        # (needles long enough that random ciphertext never holds one: b"Gus" did, 1 in ~400)
        for needle in (b'"sdp":"v=0', b"fingerprint", b'"Hana"', b'"Gus"', b"candidate:"):
            assert needle not in raw

    await guest.close()
    await until(lambda: bool(host.of(ev.PeerLeft)))
    assert [e.reason for e in host.of(ev.PeerLeft)] == ["left"]  # type: ignore[attr-defined]
    assert host.session.peers == {}
    await host.close()
    await asyncio.sleep(0.1)
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    leftover.discard(asyncio.current_task())  # type: ignore[arg-type]
    assert not leftover, leftover


async def test_wrong_secret_cannot_join(server: RendezvousServer) -> None:
    link = room_link(server)
    host, intruder = Peer("Hana"), Peer("Ivan")
    try:
        await host.session.create(link, "small", 3600)
        wrong = Link(link.host, link.port, link.room, new_secret())
        with pytest.raises(RoomRefused) as info:
            await intruder.session.join(wrong)
        assert info.value.code == "wrong_secret"
        assert "Wrong or outdated link" in str(info.value)
    finally:
        await intruder.close()
        await host.close()


async def test_tampered_and_replayed_signaling_is_dropped(server: RendezvousServer) -> None:
    captured: list[str] = []
    server.on_relay = lambda room_id, blob: captured.append(blob)
    async with two_in_a_room(server) as (link, host, guest):
        await until(lambda: host.media.video_frames(guest.session.my_id) > 3)
        # An attacker who knows the room id (as the server does) joins and replays/tampers.
        from app.net.seal import RoomKeys

        attacker = await SignalingClient.connect(link.rendezvous_url, 5.0)
        await attacker.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        tampered = captured[0][:-6] + ("AAAAAA" if not captured[0].endswith("AAAAAA") else "BBBBBB")
        for blob in (captured[0], tampered, "bm90IGEgc2VhbA"):
            await attacker.relay(None, blob)
        await until(lambda: host.session.dropped_messages + guest.session.dropped_messages >= 6)
        await attacker.close()
        frames = host.media.video_frames(guest.session.my_id)
        await asyncio.sleep(0.5)
        assert host.media.video_frames(guest.session.my_id) > frames  # the call went on


async def test_room_end_by_host_ends_everyones_call(server: RendezvousServer) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        await host.session.end_room()
        await until(lambda: bool(guest.of(ev.SessionEnded)))
        assert guest.of(ev.SessionEnded)[0].reason == "ended"  # type: ignore[attr-defined]
        await until(lambda: bool(host.of(ev.SessionEnded)))


async def test_a_second_leave_waits_for_the_first(server: RendezvousServer) -> None:
    """The room's end starts a leave; the window's own leave, right after, must wait for it:
    the engine stops once it returns, and the rendezvous connection was left open."""
    async with two_in_a_room(server) as (_link, host, _guest):
        first = asyncio.ensure_future(host.session.leave("ended"))
        await asyncio.sleep(0)  # the first leave has begun
        await host.session.leave()
        assert host.session._client is not None and host.session._client.closed
        assert [e.reason for e in host.of(ev.SessionEnded)] == ["ended"]  # type: ignore[attr-defined]
        await first


def _blackhole(session: Session, peer_id: str) -> list[tuple[object, object]]:
    """Silently drop every UDP datagram this side sends to ``peer_id`` (a dead network path)."""
    link = session._links[peer_id]
    ice = link.pc.getTransceivers()[0].receiver.transport.transport
    saved = []
    for proto in ice._connection._protocols:
        transport = proto.transport
        saved.append((transport, transport.sendto))
        transport.sendto = lambda *args, **kwargs: None
    return saved


async def kill(peer: Peer) -> None:
    """Its app dies (kill -9): nothing more leaves it, nothing of it gets back in."""
    await peer.session._tasks.close()  # no signaling loop, no watch, no rejoin
    for key in list(peer.session._links):
        _blackhole(peer.session, key)
    assert peer.session._client is not None
    await peer.session._client.close()


async def test_dead_media_path_is_rebuilt(server: RendezvousServer) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        gid, hid = guest.session.my_id, host.session.my_id
        await until(lambda: host.media.video_frames(gid) > 5 and guest.media.video_frames(hid) > 5)
        _blackhole(host.session, gid)
        _blackhole(guest.session, hid)
        await asyncio.sleep(1.0)
        host.session.send_chat("are you still there?")  # into the dead path
        frozen = guest.media.video_frames(hid)
        await asyncio.sleep(1.0)
        assert guest.media.video_frames(hid) - frozen <= 1  # the path is really dead
        assert guest.session.chat_log == []
        start = asyncio.get_running_loop().time()
        await until(lambda: guest.media.video_frames(hid) > frozen + 15, limit=12)
        assert asyncio.get_running_loop().time() - start < 10
        # the line went again over the rebuilt link, and shows once
        await until(lambda: bool(guest.session.chat_log), limit=3)
        host.session.send_chat("good")
        await until(lambda: len(guest.session.chat_log) == 2, limit=3)
        assert [c.text for c in guest.session.chat_log] == ["are you still there?", "good"]
        states = [e.state for e in host.of(ev.ConnectionChanged) + guest.of(ev.ConnectionChanged)]
        assert "reconnecting" in states
        assert host.of(ev.PeerLeft) == [] and guest.of(ev.PeerLeft) == []
        assert any("reconnected" in e.text for e in guest.of(ev.Notice) + host.of(ev.Notice))
        flowing = [e for e in host.of(ev.Progress) if e.step == 5]  # type: ignore[attr-defined]
        assert len(flowing) == 1  # "media flowing" is said once, not again after the rebuild

        # the rebuilt connection has a safety code of its own: both sides show the new one
        # (under load a rebuilt link may be rebuilt once more: then a third code, the same way)
        def latest() -> list[str]:
            return [x.of(ev.PeerConnected)[-1].safety_code for x in (host, guest)]  # type: ignore[attr-defined]

        await until(
            lambda: min(len(host.of(ev.PeerConnected)), len(guest.of(ev.PeerConnected))) >= 2
        )
        await until(lambda: latest()[0] == latest()[1], limit=20)
        assert latest()[0] != host.of(ev.PeerConnected)[0].safety_code  # type: ignore[attr-defined]


async def test_a_requested_rebuild_and_a_stale_watchdog_verdict_make_one_offer(
    server: RendezvousServer,
) -> None:
    """The peer's "reconnect" request and our own watchdog's verdict on the same dead link can
    land in one loop iteration: the second must not replace the first's new connection (its
    answer would then cross the second offer and be applied to the wrong connection)."""
    async with two_in_a_room(server) as (_link, host, guest):
        offerer, oid = await offering_side(host, guest)
        s = offerer.session
        offers: list[str] = []
        make_offer = s._exchange.offer

        async def counted(peer_id: str) -> None:
            offers.append(peer_id)
            await make_offer(peer_id)

        s._exchange.offer = counted  # type: ignore[method-assign]
        other = guest if offerer is host else host
        s.send_chat("before the rebuild")
        await until(lambda: len(other.session.chat_log) == 1)
        judged_dead = s._links[oid]
        s._tasks.for_peer(oid, s._exchange.rebuild(oid, "asked by peer"))
        s._tasks.for_peer(oid, s._exchange.rebuild(oid, "no media", judged_dead))
        await until(lambda: s._links.get(oid) not in (None, judged_dead))
        frames = offerer.media.video_frames(oid)
        await until(lambda: offerer.media.video_frames(oid) > frames + 15)
        assert offers == [oid]
        assert s._links[oid].pc.connectionState == "connected"
        # the line went again over the new link (it might have been lost): shown once still
        s.send_chat("after")
        await until(lambda: len(other.session.chat_log) >= 2)
        assert [c.text for c in other.session.chat_log] == ["before the rebuild", "after"]


async def test_an_answer_to_a_superseded_offer_is_dropped(server: RendezvousServer) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        offerer, oid = await offering_side(host, guest)
        s = offerer.session
        relay, held = s.relay, []

        async def hold(peer_id: str, msg: p.Message) -> None:
            held.append(msg)

        s.relay = hold  # type: ignore[method-assign]
        await s._exchange.rebuild(oid, "test")  # a second attempt, its offer held back for now
        commit, offer = held  # (the commitment to its safety code's nonce goes first)
        assert isinstance(commit, p.Commit) and commit.attempt == 2
        assert isinstance(offer, p.Offer) and offer.attempt == 2
        new = s._links[oid]
        late = p.Answer(sdp="v=0\r\n", name="Gus", attempt=1)  # an answer to the first offer
        await s._exchange.accept(oid, late)
        assert s._links[oid] is new and new.pc.signalingState == "have-local-offer"
        s.relay = relay  # type: ignore[method-assign]
        await relay(oid, commit)
        await relay(oid, offer)  # the real offer goes out: its answer is taken, media is back
        frames = offerer.media.video_frames(oid)
        await until(lambda: offerer.media.video_frames(oid) > frames + 15)


async def test_times_of_a_later_arrival_count_from_its_arrival(server: RendezvousServer) -> None:
    """The host has been in the room for long (here: its clock moved 1000 s) when Gus comes:
    his connect and first-frame times are his own, not the host's time in the room."""
    shift = [0.0]
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Gus")
    host.session = Session(
        host.session.config, host.media, clock=lambda: asyncio.get_running_loop().time() + shift[0]
    )
    host.session.subscribe(host.events.append)
    try:
        await host.session.create(link, "small", 3600)
        shift[0] = 1000.0
        await guest.session.join(link)
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(host.of(ev.FirstFrame)))
        (connected,) = host.of(ev.PeerConnected)
        assert 0 < connected.connect_ms < 10_000  # type: ignore[attr-defined]
        assert all(0 < e.after_ms < 10_000 for e in host.of(ev.FirstFrame))  # type: ignore[attr-defined]
        (gc,) = guest.of(ev.PeerConnected)  # the guest counts from its own start of joining
        assert 0 < gc.connect_ms < 10_000  # type: ignore[attr-defined]
    finally:
        await guest.close()
        await host.close()


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


def _threads() -> int:
    gc.collect()  # (a guest's side, in this same process, goes with its reference cycles)
    return len(os.listdir("/proc/self/task"))


async def test_people_coming_and_going_leave_nothing_behind(server: RendezvousServer) -> None:
    """Every connection, decoder and decoder thread of a peer who left is released: a long
    meeting with people coming and going does not grow."""
    link = room_link(server)
    host = Peer("Hana")
    try:
        await host.session.create(link, "small", 3600)
        threads = []
        for n in range(3):
            guest = Peer(f"Gus{n}")
            await guest.session.join(link)
            gid = guest.session.my_id
            await until(lambda: host.media.video_frames(gid) > 5)  # noqa: B023
            await guest.close()
            await until(lambda: not host.session.peers)
            await asyncio.sleep(0.2)  # the receivers' last callbacks
            threads.append(_threads())
        assert _alive(RTCPeerConnection) == 0
        assert _alive(Vp8Decoder) == 0
        assert threads[-1] <= threads[0], threads  # no thread per past peer
    finally:
        await host.close()


async def test_a_rebuilt_connection_is_released(
    server: RendezvousServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection a rebuild replaced is freed at once, not kept by the once-a-second watch
    (its loop variable held the last dead link until the next rebuild or the call's end)."""
    async with two_in_a_room(server) as (_link, host, guest):
        gid, hid = guest.session.my_id, host.session.my_id
        await until(lambda: host.media.video_frames(gid) > 5 and guest.media.video_frames(hid) > 5)
        old = host.session._links[gid]
        dead = weakref.ref(old.pc)
        due = [(gid, old, "stalled")]  # the watch finds the link stalled, once
        roster = host.session._roster
        monkeypatch.setattr(roster, "needing_rebuild", lambda: [due.pop()] if due else [])
        del old
        links = host.session._links
        await until(lambda: gid in links and links[gid].pc is not dead())  # a new one
        await until(lambda: links[gid].pc.connectionState == "connected")
        frames = host.media.video_frames(gid)
        await until(lambda: host.media.video_frames(gid) > frames + 5)  # the new link carries on
        await asyncio.sleep(2 * host.session._watch_interval)  # a few quiet looks
        gc.collect()
        assert dead() is None, "the replaced connection is still alive"
        assert _alive(RTCPeerConnection) == 2  # ours and the guest's, nothing else


async def test_a_host_gone_without_a_word_is_dropped_and_a_lone_guest_is_told(
    server: RendezvousServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's process dies (kill -9): no goodbye, its rendezvous gone, its packets stop.
    The guests drop it and carry on between themselves; when their own path dies too, with no
    rendezvous to rebuild it through, each is told the call is over instead of waiting forever."""
    # shorter than in the app: a stall is seen after 1.5 s (3 s), looked for every 0.25 s (1 s)
    monkeypatch.setattr(roster, "Recovery", functools.partial(Recovery, stall_s=1.5))
    monkeypatch.setattr(regain, "LOST_S", 3.0)  # (past the stall)
    monkeypatch.setattr(rejoin, "ALONE_S", 1.5)  # how long a lone guest tries to get back in
    link = room_link(server)
    host, gus, ivy = (Peer(name, watch_interval=0.25) for name in ("Hana", "Gus", "Ivy"))
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await ivy.session.join(link)
        hid, gid, iid = host.session.my_id, gus.session.my_id, ivy.session.my_id
        await until(
            lambda: (
                min(gus.media.video_frames(hid), ivy.media.video_frames(hid)) > 5
                and min(gus.media.video_frames(iid), ivy.media.video_frames(gid)) > 5
            )
        )
        for peer_id in (gid, iid):
            _blackhole(host.session, peer_id)
        await server.close()
        await until(lambda: bool(gus.of(ev.PeerLeft)) and bool(ivy.of(ev.PeerLeft)), limit=10)
        shown = [e.state for e in gus.of(ev.ConnectionChanged) if e.peer_id == hid]  # type: ignore[attr-defined]
        assert shown[-1] == "reconnecting"  # its frozen picture said so before it was dropped
        assert [e.peer_id for e in gus.of(ev.PeerLeft) + ivy.of(ev.PeerLeft)] == [hid, hid]  # type: ignore[attr-defined]
        flowing = gus.media.video_frames(iid)
        await until(lambda: gus.media.video_frames(iid) > flowing + 10)  # the two carry on
        assert gus.session.ended is None and ivy.session.ended is None
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_WITH_OTHERS]  # (said when the rendezvous went)

        _blackhole(gus.session, iid)
        _blackhole(ivy.session, gid)
        await until(lambda: bool(gus.of(ev.SessionEnded)) and bool(ivy.of(ev.SessionEnded)), 10)
        assert gus.session.ended == ivy.session.ended == "disconnected"
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_WITH_OTHERS, rejoin.LOST_ALONE]  # and again when alone
    finally:
        for peer in (ivy, gus, host):
            await peer.close()


async def test_names_and_chat_from_others_are_made_safe_to_show(server: RendezvousServer) -> None:
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Eve\u202eexe.gpj\x1b[31m")
    try:
        await host.session.create(link, "small", 3600)
        await guest.session.join(link)
        await until(lambda: bool(guest.of(ev.PeerConnected)))
        guest.session.send_chat("y" * 70_000)  # over the data channel's message limit
        guest.session.send_chat("after \u202eevil\x07")
        await until(lambda: len(host.session.chat_log) == 2)
        big, after = host.session.chat_log
        assert big.text == "y" * 4000 and after.text == "after evil"
        assert after.name == "Eveexe.gpj[31m"  # no override, no escape
        hid = host.session.my_id
        guest.session._links[hid].send(p.Chat(text="huge id", msg_id="i" * 60_000))
        guest.session.send_chat("then this")
        await until(lambda: len(host.session.chat_log) == 3)
        assert host.session.chat_log[-1].text == "then this"  # the huge id: dropped, not kept
        assert all(len(i) <= 64 for i in host.session._roster.chat._seen[guest.session.my_id])
    finally:
        await guest.close()
        await host.close()


async def test_a_peer_flooding_the_chat_is_cut_short_and_said_once(
    server: RendezvousServer,
) -> None:
    """A broken or hostile app sending chat lines without end must not bury the chat, grow
    memory or hold up the call: past a burst, its lines are dropped and that is said once."""
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        hid, gid = host.session.my_id, guest.session.my_id
        guest.session.send_chat("hello")  # (the data channel is open)
        await until(lambda: len(host.session.chat_log) == 1)
        started = asyncio.get_running_loop().time()
        for n in range(2000):
            guest.session._links[hid].send(p.Chat(text=f"spam {n}", msg_id=f"m{n}"))
        dropped = host.session._roster.chat.dropped
        await until(lambda: len(host.session.chat_log) - 1 + dropped.get(gid, 0) == 2000)
        took = asyncio.get_running_loop().time() - started
        got = len(host.session.chat_log) - 1
        assert 100 <= got <= 100 + 10 * took + 1, (got, took)  # a burst, then 10 a second
        notes = [e.text for e in host.of(ev.Notice) if "faster than anyone" in e.text]
        assert len(notes) == 1 and notes[0].startswith("Gus is sending"), notes
        await asyncio.sleep(0.3)  # (a flood's own lines take every token as it comes back)
        frames = host.media.video_frames(guest.session.my_id)
        await until(lambda: host.media.video_frames(guest.session.my_id) > frames + 10)
        guest.session.send_chat("and now something worth reading")
        await until(lambda: host.session.chat_log[-1].text == "and now something worth reading")
        await guest.session.leave()  # a goodbye always gets through
        await until(lambda: guest.session.my_id not in host.session.peers)
        assert [e.reason for e in host.of(ev.PeerLeft)] == ["left"]


async def test_a_guest_gone_without_a_goodbye_is_reported_as_lost(server: RendezvousServer) -> None:
    """Its app killed or its computer asleep: the rendezvous reports it gone while its link
    still looks connected, then nothing more comes from it, and nobody had a goodbye from it:
    "connection lost", not "left", within a few seconds. (Its websocket alone dropping is no
    leaving: tests/integration/test_identity.py.)"""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        gid = gus.session.my_id
        await until(lambda: host.media.video_frames(gid) > 3)
        await kill(gus)  # its websocket drops, its packets stop; no goodbye on the data channel
        await until(lambda: bool(host.of(ev.PeerLeft)), limit=9)
        (left,) = host.of(ev.PeerLeft)
        assert (left.peer_id, left.reason) == (gid, "connection lost")  # type: ignore[attr-defined]
    finally:
        await gus.close()
        await host.close()


async def test_a_stun_server_that_does_not_answer_is_named_once(server: RendezvousServer) -> None:
    """aioice waits 5 s for it on every connection: the call goes on, and says which one."""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    silent = IceServer("stun:127.0.0.1:9")  # nothing listens there
    host.session.config = dataclasses.replace(host.session.config, ice_servers=(silent,))
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await until(lambda: bool(host.of(ev.PeerConnected)), limit=15)
        said = [e.text for e in host.of(ev.Notice) if "did not answer" in e.text]  # type: ignore[attr-defined]
        assert len(said) == 1 and "stun:127.0.0.1:9" in said[0], said
        assert not [e for e in gus.of(ev.Notice) if "did not answer" in e.text]  # type: ignore[attr-defined]
    finally:
        await gus.close()
        await host.close()


async def test_relay_only_without_a_working_turn_server_says_why_nobody_connects(
    server: RendezvousServer,
) -> None:
    """Hide my IP address with a TURN server that gives no relay address: the call cannot
    connect, and the person is told so (it used to say "reconnecting…" for ever)."""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    turn = IceServer("turn:127.0.0.1:9?transport=udp", "u", "p")  # nothing listens there
    host.session.config = dataclasses.replace(
        host.session.config, ice_servers=(turn,), relay_only=True
    )
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)

        def said() -> list[str]:
            return [e.text for e in host.of(ev.Notice) if "gave no relay address" in e.text]  # type: ignore[attr-defined]

        await until(lambda: bool(said()), limit=20)
        assert len(said()) == 1 and "turn:127.0.0.1:9" in said()[0], said()
        assert "relay only" in said()[0].lower()
    finally:
        await gus.close()
        await host.close()
