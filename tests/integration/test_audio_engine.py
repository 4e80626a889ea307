"""A's microphone (a 440 Hz tone) reaches B's speaker through two real aiortc peer connections
on loopback; muting A silences B within about a second."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamTrack

from app.media.audio import ToneSource, tone_power
from app.media.audio_tracks import AudioFeed
from app.media.mixer import SpeakerMixer
from app.media.pcm import FRAME_BYTES

pytestmark = pytest.mark.timeout(30)


@dataclass
class CollectingSink:
    """B's speaker: keeps everything written, with the loop time of each write."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)

    def write(self, pcm: bytes) -> None:
        self.chunks.append((asyncio.get_running_loop().time(), pcm))

    def close(self) -> None:
        pass

    def since(self, t: float) -> bytes:
        return b"".join(pcm for when, pcm in self.chunks if when >= t)


async def connect(pc_a: RTCPeerConnection, pc_b: RTCPeerConnection) -> None:
    """Offer/answer with complete ICE gathering (no trickle), then wait until connected."""
    await pc_a.setLocalDescription(await pc_a.createOffer())
    await pc_b.setRemoteDescription(pc_a.localDescription)
    await pc_b.setLocalDescription(await pc_b.createAnswer())
    await pc_a.setRemoteDescription(pc_b.localDescription)
    await wait_for(lambda: pc_a.connectionState == pc_b.connectionState == "connected", 10)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # aioice skips 127.0.0.1; offer only loopback so no traffic leaves the machine
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda *a, **k: ["127.0.0.1"])


@dataclass
class Call:
    feed: AudioFeed
    mixer: SpeakerMixer
    sink: CollectingSink


@pytest.fixture
async def call(loopback_only: None) -> AsyncIterator[Call]:
    config = RTCConfiguration(iceServers=[])
    pc_a, pc_b = RTCPeerConnection(config), RTCPeerConnection(config)
    feed = AudioFeed(ToneSource(440.0, amplitude=0.3))
    sink = CollectingSink()
    mixer = SpeakerMixer(sink)

    @pc_b.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            mixer.attach("A", track)

    pc_a.addTrack(feed.new_track())
    try:
        await connect(pc_a, pc_b)
        yield Call(feed, mixer, sink)
    finally:
        await feed.aclose()
        await mixer.aclose()
        await pc_a.close()
        await pc_b.close()


async def wait_for(predicate: Callable[[], bool], limit: float = 5.0) -> float:
    """Poll ``predicate()`` every 20 ms; return the seconds it took to become true."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not predicate():
        if loop.time() - start > limit:
            raise AssertionError(f"condition not met within {limit} s")
        await asyncio.sleep(0.02)
    return loop.time() - start


async def test_tone_reaches_b_and_mute_silences_it(call: Call) -> None:
    loop = asyncio.get_running_loop()
    sink, mixer, feed = call.sink, call.mixer, call.feed

    def recent_power(seconds: float = 0.2) -> float:
        return tone_power(sink.since(loop.time() - seconds), 440.0)

    first_audio = await wait_for(lambda: recent_power() > 0.03)
    await asyncio.sleep(0.5)
    t = loop.time()
    await asyncio.sleep(0.5)
    on = tone_power(sink.since(t), 440.0)
    received = mixer.frames_received["A"]
    assert on > 0.05, f"440 Hz power at B is {on:.4f}; expected ~0.09 (amplitude 0.3)"
    assert received > 20
    assert mixer.level("A") > 0.1
    assert len(sink.since(t)) >= 20 * FRAME_BYTES  # the mixer kept writing every 20 ms

    feed.set_muted(True)
    t_mute = loop.time()
    await wait_for(lambda: recent_power(0.1) < 1e-4, limit=1.0)
    latency = next(when for when, pcm in sink.chunks if when > t_mute and not any(pcm)) - t_mute
    await asyncio.sleep(0.3)
    t = loop.time()
    await asyncio.sleep(0.5)
    off = tone_power(sink.since(t), 440.0)
    assert off < 1e-4, f"440 Hz power at B while A is muted is {off:.6f}"
    assert mixer.frames_received["A"] > received + 20  # silence keeps flowing, timing kept
    assert mixer.level("A") < 0.01

    feed.set_muted(False)
    back = await wait_for(lambda: recent_power(0.1) > 0.03, limit=1.0)
    print(
        f"\n440 Hz power at B: unmuted {on:.4f}, muted {off:.2e}; first audio after "
        f"{first_audio * 1000:.0f} ms; mute-to-silence (one-way latency) {latency * 1000:.0f} ms; "
        f"tone back {back * 1000:.0f} ms after unmute (100 ms window)"
    )
