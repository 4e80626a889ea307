"""Encode once, low-latency receive and packet size, over real aiortc connections on 127.0.0.1.

One sender ("A") with a synthetic camera and a tone, and several receivers, each connected to A
by its own PeerLink, exactly as in a mesh call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest
from aiortc import MediaStreamTrack

from app.media import encode_once
from app.media.audio import ToneSource, tone_power
from app.media.audio_tracks import AudioFeed
from app.media.mixer import SpeakerMixer
from app.media.outgoing import Outgoing
from app.media.pcm import PCM_HOOK
from app.media.synthetic import SyntheticCamera, read_stamp
from app.media.video import VideoFeed
from app.net import fastpath, rtpin
from app.net.peers import IdleVideoTrack, PeerLink
from tests.unit.test_audio import ListSink

pytestmark = pytest.mark.usefixtures("loopback")


class IdleAudioTrack(IdleVideoTrack):
    kind = "audio"


class Sender:
    def __init__(self, fps: float = 15, size: tuple[int, int] = (320, 240)) -> None:
        self.video = VideoFeed(SyntheticCamera(*size, fps, label="A"), fps)
        self.audio = AudioFeed(ToneSource())
        self.out = Outgoing(self.audio, self.video)

    async def close(self) -> None:
        await self.out.aclose()
        await self.audio.aclose()
        self.video.close()


class Pair:
    """A's PeerLink to one receiver, and the receiver's PeerLink back to A."""

    def __init__(self, sender: Sender, name: str) -> None:
        self.tracks: dict[str, MediaStreamTrack] = {}
        audio, video = sender.out.new_tracks()
        self.a = self._link("a", True, audio, video)
        self.b = self._link(name, False, IdleAudioTrack(), IdleVideoTrack())

    def _link(self, peer: str, offerer: bool, audio: Any, video: Any) -> PeerLink:
        def on_track(link: PeerLink, kind: str, track: MediaStreamTrack) -> None:
            if not offerer:
                self.tracks[kind] = track

        return PeerLink(
            peer,
            offerer=offerer,
            ice_servers=(),
            audio=audio,
            video=video,
            on_state=lambda *a: None,
            on_track=on_track,
            on_data=lambda *a: None,
        )

    async def connect(self) -> None:
        await self.a.accept_answer(await self.b.accept_offer(await self.a.make_offer()))
        await until(lambda: "video" in self.tracks and "audio" in self.tracks)

    @property
    def video_buffer(self) -> Any:
        return self.b.receive.buffers["1"]

    async def close(self) -> None:
        await self.a.close()
        await self.b.close()


async def until(check: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def drain(track: MediaStreamTrack, into: list[tuple[float, Any]]) -> None:
    while True:
        frame = await track.recv()
        into.append((time.time(), frame))


@pytest.fixture
async def call() -> AsyncIterator[tuple[Sender, list[Pair], list[list[tuple[float, Any]]]]]:
    sender = Sender()
    pairs = [Pair(sender, f"peer{i}") for i in range(3)]
    readers, received = [], []
    for pair in pairs:
        await pair.connect()
        got: list[tuple[float, Any]] = []
        received.append(got)
        readers.append(asyncio.ensure_future(drain(pair.tracks["video"], got)))
        readers.append(asyncio.ensure_future(drain(pair.tracks["audio"], [])))
    try:
        yield sender, pairs, received
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for pair in pairs:
            await pair.close()
        await sender.close()


async def test_one_encoder_instance_serves_every_peer(call: Any) -> None:
    sender, pairs, received = call
    await asyncio.sleep(2.0)
    hub = sender.out.video_encoder
    assert hub is not None and list(hub.encoders) == ["vp8"]  # one encoder, for three peers
    encoder = hub.encoders["vp8"]
    for got in received:
        stamped = [read_stamp(f) for _, f in got]
        assert sum(s is not None for s in stamped) >= 20
    # each captured frame was encoded once, not once per peer
    assert encoder.frames <= sender.video.frames_captured + 1
    assert min(len(g) for g in received) >= 0.8 * encoder.frames - 5
    assert sender.out.audio_encoder is not None
    assert list(sender.out.audio_encoder.encoders) == ["opus"]
    assert encoder.options["noise-sensitivity"] == "0"  # a test pattern: no denoiser
    sender.video.source.noisy = True  # type: ignore[attr-defined]  # as a camera would be
    await asyncio.sleep(1.5)  # the next adaptation (every second) sees it
    assert encoder.options["noise-sensitivity"] == "4"
    for pair in pairs:  # aiortc never made its own encoder for any of A's senders
        for transceiver in pair.a.pc.getTransceivers()[:2]:
            assert transceiver.sender._RTCRtpSender__encoder is None


async def test_media_packets_skip_the_queues_and_the_sender_tasks(call: Any) -> None:
    """Each receiver gets its SRTP packets straight from the socket (fastpath), and each of A's
    senders is pushed its packets as they are encoded (sender_binding.DirectSender)."""
    sender, pairs, received = call
    await asyncio.sleep(1.0)
    for pair in pairs:
        dtls = pair.b.pc.getTransceivers()[1].receiver.transport
        shortcut = dtls.transport._connection.data_received
        assert isinstance(shortcut, fastpath.Shortcut)
        total = dtls._RTCDtlsTransport__rx_packets
        assert total > 50 and shortcut.packets > 0.8 * total  # all but handshake, SCTP
        for transceiver in pair.b.pc.getTransceivers()[:2]:  # and then no coroutine at all
            assert rtpin.enabled(transceiver.receiver)
        sent = pair.a.pc.getTransceivers()[1].sender.transport  # fastpath.send_rtp counts too
        assert sent._RTCDtlsTransport__tx_packets > 50
    video = sender.out.video_encoder
    assert video is not None
    for _ in range(50):  # (a loaded machine: a few slow encodes keep the average up a while)
        if video.inline_frames > 5:
            break
        await asyncio.sleep(0.1)
    assert video.inline_frames > 5  # 320x240: encoded on the loop
    for hub in (video, sender.out.audio_encoder):
        assert hub is not None and len(hub.tracks) == 3
        assert all(track._direct is not None for track in hub.tracks)
    assert all(len(got) > 10 for got in received)


async def test_slow_video_encoding_stays_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode_once, "INLINE_ENCODE", 0.0)  # every frame counts as slow
    sender = Sender()
    pair = Pair(sender, "slow")
    got: list[tuple[float, Any]] = []
    try:
        await pair.connect()
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 10)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        hub = sender.out.video_encoder
        assert hub is not None and hub.inline_frames == 0 and hub.encoders["vp8"].frames >= 10
    finally:
        await pair.close()
        await sender.close()


def _native_threads() -> set[int]:
    """Thread ids of this process that are not Python threads (codec and swscale workers)."""
    tasks = {int(tid) for tid in os.listdir("/proc/self/task")}  # first: a Python thread
    return tasks - {thread.native_id for thread in threading.enumerate()}  # started now is one


async def test_scaling_the_picture_down_starts_no_threads(caplog: pytest.LogCaptureFixture) -> None:
    """A picture sent smaller than it is captured (here 640x480 as 480x360: a large room) is
    scaled on the encoding thread. PyAV's frame.reformat() started a swscale context with a
    thread per CPU core for every frame, alive as long as the frame: on a 16-core desktop 16
    more threads for the whole call, and 480 thread starts a second at 30 fps."""
    caplog.set_level(logging.INFO, logger="app.media.encode_once")
    sender = Sender(size=(640, 480))
    pair = Pair(sender, "small")
    sender.out.set_room_capacity(16)  # -> at most 360p
    got: list[tuple[float, Any]] = []
    try:
        await pair.connect()
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 3)
        hub = sender.out.video_encoder
        assert hub is not None and hub.quality is not None and hub.quality.quality.height == 360
        before, seen = _native_threads(), set()
        for _ in range(50):  # about 15 frames
            seen |= _native_threads()
            await asyncio.sleep(0.02)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        assert got[-1][1].height == 360
        assert seen - before == set(), f"{len(seen - before)} threads started while scaling"
        steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("video ")]
        assert any("p15 -> 360p15 (1 peers" in step for step in steps), steps  # (said in the log)
    finally:
        await pair.close()
        await sender.close()


async def test_a_link_closed_before_it_connected_stops_its_tracks() -> None:
    """aiortc stops a sender's track only if the sender ever ran: a peer gone before its
    connection came up (or a rebuild that never connected) left its tracks in the shared
    encoders for the rest of the call, counted as participants by the quality choice."""
    sender = Sender()
    pair = Pair(sender, "never")
    hubs = [sender.out.audio_encoder, sender.out.video_encoder]
    assert all(hub is not None and len(hub.tracks) == 1 for hub in hubs)
    await pair.a.make_offer()
    await pair.close()
    try:
        assert all(hub is not None and hub.tracks == [] for hub in hubs)
    finally:
        await sender.close()


async def test_a_pli_from_one_peer_yields_one_keyframe_that_every_peer_receives(
    call: Any,
) -> None:
    sender, pairs, _ = call
    await asyncio.sleep(1.0)
    hub = sender.out.video_encoder
    before_hub = hub.keyframes
    before = [p.video_buffer.keyframes_out for p in pairs]
    first = pairs[0]
    ssrc = first.a.pc.getTransceivers()[1].sender._ssrc
    await first.b.pc.getTransceivers()[1].receiver._send_rtcp_pli(ssrc)
    await until(
        lambda: all(p.video_buffer.keyframes_out > b for p, b in zip(pairs, before, strict=True)), 3
    )
    assert hub.keyframes == before_hub + 1
    # requests from every peer at once are merged into one keyframe
    await asyncio.sleep(0.5)
    before_hub = hub.keyframes
    for pair in pairs:
        ssrc = pair.a.pc.getTransceivers()[1].sender._ssrc
        await pair.b.pc.getTransceivers()[1].receiver._send_rtcp_pli(ssrc)
    await asyncio.sleep(0.6)
    assert hub.keyframes == before_hub + 1


async def test_remb_from_the_peers_sets_one_bitrate_the_lowest(call: Any) -> None:
    sender, _, _ = call
    await asyncio.sleep(0.5)
    tracks = sender.out.video_encoder.tracks
    for track, bitrate in zip(tracks, (2_000_000, 900_000, 260_000), strict=True):
        track.set_estimate(bitrate)
    assert sender.out.video_encoder._estimate() == 260_000


async def test_frames_leave_the_buffer_without_waiting_for_the_next_frame() -> None:
    """At 2 fps aiortc's own buffer would hold every frame ~500 ms for the next one."""
    sender = Sender(fps=2)
    pair = Pair(sender, "slow")
    try:
        await pair.connect()
        got: list[tuple[float, Any]] = []
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 5, 10)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        latencies = [
            (int(t * 1000) - s[1]) % 2**32 for t, f in got if (s := read_stamp(f)) is not None
        ]
        assert len(latencies) >= 4
        assert max(latencies) < 150, latencies
    finally:
        await pair.close()
        await sender.close()


async def test_audio_plays_through_the_adaptive_buffer(call: Any) -> None:
    _, pairs, _ = call
    await asyncio.sleep(1.5)
    for pair in pairs:
        playout = pair.b.receive.buffers["0"]
        assert playout.buffer.stats.played >= 40
        # seven connections share this test's one event loop, so it is not a quiet link;
        # aiortc's own buffer would hold 80 ms whatever the link
        assert playout.buffer.target <= 0.06


async def test_every_media_datagram_fits_1200_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SRTP datagram handed to a UDP socket (whichever path sent it)."""
    sizes: list[int] = []
    transport = asyncio.selector_events._SelectorDatagramTransport  # type: ignore[attr-defined]
    original = transport.sendto

    def sendto(self: Any, data: bytes, addr: Any = None) -> None:
        if data and 128 <= data[0] < 192:  # RTP/RTCP (SRTP), not DTLS or STUN
            sizes.append(len(data))
        original(self, data, addr)

    monkeypatch.setattr(transport, "sendto", sendto)
    sender = Sender(size=(640, 480), fps=15)
    pair = Pair(sender, "mtu")
    try:
        await pair.connect()
        hub = sender.out.video_encoder
        assert hub is not None
        hub.request_keyframe(urgent=True)  # the largest frames
        await asyncio.sleep(1.5)
    finally:
        await pair.close()
        await sender.close()
    assert len(sizes) > 50
    assert max(sizes) <= 1200


async def test_the_playout_hands_pcm_to_the_mixer_without_frames() -> None:
    """The adaptive playout gives its decoded PCM straight to the speaker mixer (no AudioFrame,
    nothing on the track's queue); once the mixer lets go, the track gets frames again."""
    sender = Sender()
    pair = Pair(sender, "b")
    sink = ListSink()
    mixer = SpeakerMixer(sink)
    try:
        await pair.connect()
        track = pair.tracks["audio"]
        mixer.attach("a", track)
        assert callable(getattr(track, PCM_HOOK))
        await until(lambda: mixer.frames_received["a"] >= 30)
        assert tone_power(b"".join(sink.chunks[-10:]), 440.0) > 0.01  # A's tone, decoded
        assert track._queue.qsize() == 0  # type: ignore[attr-defined]  # nothing went that way
        assert track.readyState == "live" and mixer.peers == ["a"]

        mixer.detach("a")
        assert not hasattr(track, PCM_HOOK)
        played = mixer.frames_received["a"]
        frame: Any = await asyncio.wait_for(track.recv(), 2)  # frames for recv() again
        assert frame.format.name == "s16" and frame.samples == 960
        assert mixer.frames_received["a"] == played
    finally:
        await mixer.aclose()
        await pair.close()
        await sender.close()


async def test_a_muted_microphone_pauses_sending_and_sound_comes_back_at_once() -> None:
    """Muted, A sends its silence for 200 ms, then one keep-alive packet every 0.4 s; B's mixer
    plays silence meanwhile without counting underruns. Unmuted, the tone is back at B within
    a few frames, at the jitter delay B had learned, with no bigger cushion than before."""
    sender = Sender()
    pair = Pair(sender, "b")
    sink = ListSink()
    mixer = SpeakerMixer(sink)
    loop = asyncio.get_running_loop()
    try:
        await pair.connect()
        mixer.attach("a", pair.tracks["audio"])
        playout = pair.b.receive.buffers["0"]
        await until(lambda: mixer.frames_received["a"] >= 50)
        target, cushion = playout.buffer.target, mixer.cushion("a")

        sender.audio.set_muted(True)
        await asyncio.sleep(0.5)  # the hang-over, and a little more
        packets, t = playout.packets_in, loop.time()
        await asyncio.sleep(2.0)
        paused = playout.packets_in - packets
        assert 3 <= paused <= 7, f"{paused} packets in 2 s while muted (keep-alives: 5)"
        hub = sender.out.audio_encoder
        assert hub is not None and hub.encoders["opus"].paused >= 80
        loudest = max(int(np.abs(np.frombuffer(pcm, "<i2")).max()) for pcm in sink.chunks[-50:])
        assert loudest <= 64  # silence at B (a keep-alive decodes to a whisper at most)
        assert mixer.underruns == 0 and mixer.level("a") < 1e-3  # keep-alives: a whisper

        sender.audio.set_muted(False)
        unmuted = loop.time()
        await until(lambda: tone_power(b"".join(sink.chunks[-3:]), 440.0) > 0.01, limit=2.0)
        back = loop.time() - unmuted
        assert back < 0.25, f"tone back {back * 1000:.0f} ms after unmuting"
        assert mixer.underruns == 0 and mixer.cushion("a") <= cushion
        assert playout.buffer.target <= max(target, 0.02) + 0.01  # not START_DELAY again
        took = loop.time() - t
        print(f"\nmuted: {paused} packets in {took:.1f} s; tone back in {back * 1000:.0f} ms")
    finally:
        await mixer.aclose()
        await pair.close()
        await sender.close()
