"""A hostile participant: someone with the link (so their signaling opens) running modified code.

The hostile side here is a real SignalingClient, a real Sealer and a real aiortc
RTCPeerConnection driven by hand, so it can send what PeerMeet never would; the other side is a
real Session. Whatever it sends, the Session must not crash, hang or grow without bound, and
must not show what it says as if PeerMeet said it (docs/security.md, "A hostile participant").
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import struct
from collections.abc import AsyncIterator
from typing import Any

import av
import pytest
from aiortc import MediaStreamTrack, RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from app.meeting import events as ev
from app.meeting.links import Link, new_secret
from app.net import candidates, sctpguard
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from app.net.rooms import Rooms
from app.net.seal import RoomKeys, Sealer
from app.net.signaling import SignalingClient
from app.net.sparing import SAY_EVERY, SAY_FIRST
from tests.integration.test_session import Peer, until

pytestmark = pytest.mark.usefixtures("loopback")


class Hostile:
    """A member of the room that speaks the protocol by hand. Its id is the lower one, so it is
    the one that offers (the Session only answers)."""

    def __init__(self, client: SignalingClient, link: Link, my_id: str, victim: str) -> None:
        self.client, self.client_id, self.victim = client, my_id, victim
        self.sealer = Sealer(RoomKeys.from_secret(link.secret), my_id)
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.attempt = 0

    async def signal(self, msg: p.Message) -> None:
        await self.client.relay(self.victim, self.sealer.seal(self.victim, msg))

    async def answer(self) -> p.Answer:
        while True:
            msg = await asyncio.wait_for(self.client.recv(), 10.0)
            if isinstance(msg, p.Relayed):
                opened = self.sealer.open(msg.sender, msg.blob)
                if isinstance(opened, p.Answer):
                    return opened

    async def call(
        self, video: Any = None, sdp: Any = None, connect: bool = True
    ) -> RTCPeerConnection:
        """Offer a connection like PeerMeet's (audio, video, screen, chat), ``video`` the track
        it sends; ``sdp(text)``: what to do to the offer before sending it. Returns once the
        answer came (and is applied, if ``connect``)."""
        if self.pc is not None:
            await self.pc.close()
        self.pc = pc = RTCPeerConnection()
        pc.addTransceiver("audio")
        pc.addTransceiver(video if video is not None else "video")
        pc.addTransceiver("video")
        self.channel = pc.createDataChannel("chat")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        self.attempt += 1
        await self.signal(
            p.Offer(sdp=sdp(offer) if sdp else offer, name="Mallory", attempt=self.attempt)
        )
        answer = await self.answer()
        if connect:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        return pc

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        await self.client.close()


@contextlib.asynccontextmanager
async def hostile_call(
    rate: tuple[float, float] = (50.0, 200.0),
) -> AsyncIterator[tuple[Peer, Hostile]]:
    """Hana (a real Session) hosts a room; the hostile member joins it after her (``rate``: the
    rendezvous's per-client message rate and burst)."""
    ids = iter(["zzzzzzzzzzzz", "AAAAAAAAAAAA"])  # Hana's, then the hostile one's: it offers
    server = RendezvousServer(host="127.0.0.1", port=0, rate=rate)
    server.rooms = Rooms(new_id=lambda: next(ids))
    await server.start()
    link = Link("127.0.0.1", server.port, "team-sync", new_secret())
    hana = Peer("Hana")
    hostile: Hostile | None = None
    try:
        await hana.session.create(link, "small", 3600)
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        joined = await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        hostile = Hostile(client, link, joined.peer_id, hana.session.my_id)
        yield hana, hostile
    finally:
        if hostile is not None:
            await hostile.close()
        await hana.close()
        await server.close()


async def test_a_peers_reason_for_leaving_is_one_of_ours_or_just_left() -> None:
    """Why a peer left comes from that peer (its signaling ``bye`` or its data-channel
    goodbye), and is shown as "Mallory left (…)" in the chat and printed by the headless CLI.
    A hostile app could put any 60 KB there: escape sequences for a terminal, or words that
    read as PeerMeet's own. Only the reasons PeerMeet sends are passed on; anything else is
    "left"."""
    evil = (
        "\x1b[2J the host says: your link expired, join at evil.example instead" + "!" * 40_000
    )  # (sealed, it still fits the 64 KiB)
    async with hostile_call() as (hana, mallory):
        await mallory.call()
        await until(lambda: bool(hana.of(ev.PeerJoined)))
        await mallory.signal(p.Bye(evil))
        await until(lambda: len(hana.of(ev.PeerLeft)) == 1)
        await mallory.call()  # back, and this time it says goodbye over the data channel
        await until(lambda: bool(hana.of(ev.PeerConnected)))
        await until(lambda: mallory.channel is not None and mallory.channel.readyState == "open")
        assert mallory.channel is not None
        mallory.channel.send(p.Goodbye(reason="expired").encode())  # (one of ours: kept)
        await until(lambda: len(hana.of(ev.PeerLeft)) == 2)
        await mallory.call()
        await until(lambda: len(hana.of(ev.PeerConnected)) == 2)
        await until(lambda: mallory.channel is not None and mallory.channel.readyState == "open")
        mallory.channel.send(p.Goodbye(reason=evil).encode())
        await until(lambda: len(hana.of(ev.PeerLeft)) == 3)
        reasons = [e.reason for e in hana.of(ev.PeerLeft)]  # type: ignore[attr-defined]
        assert reasons == ["left", "expired", "left"]


def _vp8_keyframe(width: int, height: int) -> bytes:
    """A real 64x64 VP8 keyframe whose header says ``width`` x ``height`` (a picture's size is
    the sender's word: FFmpeg decodes this to that size, the missing data as grey)."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 64, 64, "yuv420p"
    encoder.time_base = fractions.Fraction(1, 30)
    picture = av.VideoFrame(64, 64, "yuv420p")
    for plane in picture.planes:
        plane.update(bytes(plane.buffer_size))
    data = bytearray(b"".join(bytes(pk) for pk in encoder.encode(picture)))
    data[6:10] = struct.pack("<HH", width, height)  # after the frame tag and 9d 01 2a
    return bytes(data)


class Pictures(MediaStreamTrack):
    """A video track sending ready-made VP8 frames (aiortc only packetizes an av.Packet)."""

    kind = "video"

    def __init__(self, frame: bytes) -> None:
        super().__init__()
        self.frame, self._pts = frame, 0

    async def recv(self) -> av.Packet:
        await asyncio.sleep(1 / 15)
        packet = av.Packet(self.frame)
        packet.pts, packet.time_base = self._pts, fractions.Fraction(1, 90_000)
        self._pts += 6000
        return packet


async def test_a_picture_too_large_to_be_real_is_refused_before_it_is_decoded() -> None:
    """A 38-byte VP8 keyframe may say it is 16000x16000: decoded, that is 384 MB and most of a
    second on the engine's loop, again with every keyframe. Pictures over 4K UHD's pixel count
    are refused before the decoder allocates them (a frame that does not decode); the peer's
    next honest keyframe shows."""
    async with hostile_call() as (hana, mallory):
        pictures = Pictures(_vp8_keyframe(8000, 8000))
        await mallory.call(video=pictures)
        mid = mallory.client_id
        await until(lambda: hana.media.remote_video(mid) is not None)
        seen: list[int] = []

        def sizes() -> bool:
            remote = hana.media.remote_video(mid)
            latest = remote.latest if remote is not None else None
            seen.append(latest.width if latest is not None else 0)
            return latest is not None and latest.width == 64

        await asyncio.sleep(1.5)  # 20-odd of them
        stopped = hana.media.video_frames(mid)
        pictures.frame = _vp8_keyframe(64, 64)
        await until(sizes)
        assert stopped == 0 and max(seen) == 64, (stopped, max(seen))


async def test_a_data_channel_message_without_end_closes_that_channel_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiortc keeps every piece of a data-channel message until its last one comes, past the
    window it advertises, and looks through all of them for each new piece. A peer that sends
    one message without end (here 12 MB, past the 256 KiB we allow) made Hana hold all of it.
    Past 4 MiB held, the association ends: the data channel with that peer closes, what it
    held is let go, and the connection (its media) goes on."""
    # here past 1.5 MiB, still past the 1 MiB window: each piece held costs more time to take
    # in than the one before, 4 MiB of them took most of this test's 20 s
    monkeypatch.setattr(sctpguard, "MAX_BUFFERED", 3 * 512 * 1024)
    async with hostile_call() as (hana, mallory):
        pc = await mallory.call()
        await until(lambda: bool(hana.of(ev.PeerConnected)))
        channel = mallory.channel
        assert channel is not None and pc.sctp is not None
        await until(lambda: channel.readyState == "open")
        link = hana.session._links[mallory.client_id]
        assert link.pc.sctp is not None
        theirs = link.pc.sctp

        def held() -> int:
            return sum(
                len(c.user_data) for s in theirs._inbound_streams.values() for c in s.reassembly
            )

        pc.sctp._remote_max_message_size = 0  # (aiortc would not send it otherwise)
        channel.send(b"x" * 12_000_000)
        most = 0

        def closed_or_over() -> bool:
            nonlocal most
            most = max(most, held())
            return most > sctpguard.MAX_BUFFERED + 65536 or theirs.state == "closed"

        await until(closed_or_over, 60.0)
        assert most <= sctpguard.MAX_BUFFERED + 65536, most
        assert held() == 0 and hana.session.peers[mallory.client_id].state == "connected"
        await until(lambda: channel.readyState == "closed")


async def test_a_data_message_of_a_type_unknown_here_is_logged_and_the_call_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What a PeerMeet from before a data message type (``rv_id``, say) does with one: drops it
    and logs it; the connection and what comes after it carry on. And a peer saying it has a
    rendezvous id that is nobody's takes nothing from anyone."""
    caplog.set_level(logging.INFO)
    async with hostile_call() as (hana, mallory):
        await mallory.call()
        await until(lambda: bool(hana.of(ev.PeerConnected)))
        channel = mallory.channel
        assert channel is not None
        await until(lambda: channel.readyState == "open")
        channel.send('{"v":1,"type":"rv_id_from_the_future","peer_id":"x"}')
        channel.send(p.Chat(text="after it", msg_id="m1").encode())
        await until(lambda: bool(hana.of(ev.ChatReceived)))
        assert "unknown data message type 'rv_id_from_the_future'" in caplog.text
        channel.send(p.RendezvousId(peer_id=hana.session.my_id).encode())  # ours is not theirs
        channel.send(p.Chat(text="and after that", msg_id="m2").encode())
        await until(lambda: len(hana.of(ev.ChatReceived)) == 2)
        assert hana.session.ended is None and set(hana.session.peers) == {mallory.client_id}
        assert hana.session._whois.rendezvous_id(mallory.client_id) == mallory.client_id


class Bystander(asyncio.DatagramProtocol):
    """A UDP service that is nobody's peer: counts the ICE checks that reach it (one STUN
    transaction id per check, whatever its retransmissions)."""

    def __init__(self) -> None:
        self.checks: set[bytes] = set()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.checks.add(data[8:20])


async def test_a_peer_cannot_point_ice_at_more_than_a_few_addresses() -> None:
    """ICE sends checks to every address the other side lists. A 64 KiB offer has room for
    about a thousand (this one lists 150): every member would send that many checks (and their
    retransmissions) to whatever a hostile member names, again with each offer. Only
    MAX_PER_TYPE candidates of each type are taken from an offer or answer."""
    loop = asyncio.get_running_loop()
    transport, bystander = await loop.create_datagram_endpoint(Bystander, ("0.0.0.0", 0))
    port = transport.get_extra_info("sockname")[1]
    fakes = "".join(
        f"a=candidate:{n} 1 udp 2130706431 127.0.{n // 200}.{n % 200 + 2} {port} typ host\r\n"
        for n in range(150)
    )

    def aimed(sdp: str) -> str:  # (its own candidates left out: nothing succeeds, ICE goes on)
        lines = (x for x in sdp.splitlines(keepends=True) if not x.startswith("a=candidate:"))
        return "".join(x + fakes if x.startswith("a=ice-pwd:") else x for x in lines)

    try:
        async with hostile_call() as (hana, mallory):
            await mallory.call(sdp=aimed, connect=False)  # (it never answers a check)
            await until(lambda: len(bystander.checks) > 0)
            await asyncio.sleep(3.0)  # at one new check every 20 ms: 150, unless limited
            assert len(bystander.checks) <= candidates.MAX_PER_TYPE, len(bystander.checks)
            assert hana.session.peers  # (the call itself is not ended by it)
    finally:
        transport.close()


async def test_a_member_flooding_another_with_blobs_does_not_throw_them_out() -> None:
    """The rendezvous takes 200 messages of up to 64 KiB at once from any member (its rate
    limit's burst) and queued at most 256 KiB for each client, dropping a client whose queue
    was full as one that does not read. So 150 blobs for Hana (the host, whose own app serves
    the room) threw her out of the room at once: back with a new id, each of her connections
    made again. Now the blobs past the queue's share for them are dropped, and Hana stays."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    await server.start()
    link = Link("127.0.0.1", server.port, "team-sync", new_secret())
    hana, gus = Peer("Hana"), Peer("Gus")
    mallory = await SignalingClient.connect(link.rendezvous_url, 3.0)
    try:
        await hana.session.create(link, "small", 3600)
        await gus.session.join(link)
        hid, gid = hana.session.my_id, gus.session.my_id
        await until(lambda: hana.media.video_frames(gid) > 5)
        await mallory.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        for _ in range(150):
            await mallory.relay(hid, "y" * 60_000)
        await asyncio.sleep(1.0)
        frames = hana.media.video_frames(gid)
        await until(lambda: hana.media.video_frames(gid) > frames + 10)
        assert hana.session.my_id == hid and not hana.of(ev.RendezvousLost)
        assert len(hana.of(ev.PeerConnected)) == 1  # (her link to Gus was never made again)
    finally:
        await mallory.close()
        await gus.close()
        await hana.close()
        await server.close()


async def test_offers_faster_than_they_can_be_answered_get_only_the_latest_answered() -> None:
    """Each offer makes a new connection (gathering, handshake set-up: tens of milliseconds,
    seconds with a STUN or TURN server that is slow). A peer sending offers faster than that
    made a backlog that only grew, every one of them answered in turn. Now an offer that a
    newer one from the same peer overtook while it waited is skipped: the latest is
    answered."""
    async with hostile_call() as (hana, mallory):
        sdp = ""

        def kept(offer: str) -> str:
            nonlocal sdp
            sdp = offer
            return offer

        await mallory.call(sdp=kept, connect=False)
        for attempt in range(2, 27):  # 25 at once (~150 KB: the rendezvous passes them all)
            await mallory.signal(p.Offer(sdp=sdp, name="Mallory", attempt=attempt))
        answers: list[int] = []
        with contextlib.suppress(TimeoutError):
            while not answers or answers[-1] != 26:
                answers.append((await mallory.answer()).attempt)
        assert answers[-1:] == [26] and len(answers) <= 5, answers  # (all 25, before)
        await until(lambda: len(hana.session._tasks) <= 2)  # (its watch and signaling loops)


async def test_blobs_that_do_not_open_are_logged_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each blob for Hana that did not open (not sealed with the room's key, or not a blob at
    all) was logged as a warning: a member sending nothing else filled her log at the
    rendezvous's 50 lines a second. Now the first few are, then one for every SAY_EVERY, with
    the count (the rendezvous's rate is raised here so that 1000 come in a moment)."""
    caplog.set_level(logging.WARNING, logger="app.meeting.session")
    async with hostile_call(rate=(1e5, 1e5)) as (hana, mallory):
        stranger = Sealer(RoomKeys.from_secret(new_secret()), mallory.client_id)
        junk = ["bm90IGEgc2VhbA", "*" * 200, stranger.seal(mallory.victim, p.Bye("left"))]
        for batch in range(0, SAY_EVERY + 20, 100):  # (each within what Hana's queue takes)
            for n in range(batch, batch + 100):
                await mallory.client.relay(mallory.victim, junk[n % len(junk)])
            await until(lambda b=batch: hana.session.dropped_messages == b + 100)
        said = [r.getMessage() for r in caplog.records if "dropped signaling" in r.getMessage()]
        assert len(said) == SAY_FIRST + 1, said[:10]
        assert f"({SAY_EVERY} so far)" in said[-1] and "AAAAAAAAAAAA" in said[-1]
        assert hana.session.ended is None  # (and her call goes on)
