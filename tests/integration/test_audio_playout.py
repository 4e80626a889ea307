"""Audio over real aiortc connections on 127.0.0.1: it plays through the adaptive buffer, whose
playout hands PCM to the speaker mixer without frames, and a muted microphone pauses sending
(sound comes back at once when unmuted).

One sender ("A") with a synthetic camera and a tone, and receivers connected to A by their own
PeerLink, exactly as in a mesh call (tests.integration.encode_rig).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from app.media.audio import tone_power
from app.media.mixer import SpeakerMixer
from app.media.pcm import PCM_HOOK
from tests.integration.encode_rig import (
    Pair,
    Sender,
    call_fixture,  # noqa: F401  (the "call" fixture)
    until,
)
from tests.unit.test_audio import ListSink

pytestmark = pytest.mark.usefixtures("loopback")


async def test_audio_plays_through_the_adaptive_buffer(call: Any) -> None:
    _, pairs, _ = call
    await asyncio.sleep(1.5)
    for pair in pairs:
        playout = pair.b.receive.buffers["0"]
        assert playout.buffer.stats.played >= 40
        # seven connections share this test's one event loop, so it is not a quiet link;
        # aiortc's own buffer would hold 80 ms whatever the link
        assert playout.buffer.target <= 0.06


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
