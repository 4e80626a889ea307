"""Sessions against a real rendezvous and real aiortc connections, in one process: a call between
two (chat, mute, leave), wrong secrets, tampered signaling, the room ended by its host, two
leaves at once, and the times of a later arrival. The helpers here (Peer, until, room_link,
two_in_a_room, _blackhole, kill) are shared by the other session tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from app.config import EngineConfig
from app.errors import RoomRefused
from app.meeting import events as ev
from app.meeting.headless import MediaOptions, build_media, close_media
from app.meeting.links import Link, new_secret
from app.meeting.session import Session
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
