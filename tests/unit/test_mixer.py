"""SpeakerMixer's adaptive cushion, driven tick by tick: frames go straight into a peer's queue
(``_deliver``, what the receive task does) and ``_mix_step`` is called directly - no loop, no
network, no sleeping. One tick is 20 ms of the mixer's clock."""

from __future__ import annotations

import asyncio

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from app.media import cues
from app.media.audio import tone_power
from app.media.audio_tracks import PTIME, make_frame
from app.media.mixer import MAX_CUE_MS, SpeakerMixer, _Peer
from app.media.pcm import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, PCM_HOOK
from tests.unit.test_audio import ListSink

RELAX_TICKS = 750  # 15 s of 20 ms ticks


class Rig:
    """One peer "a" in a mixer; frames carry their number so order and gaps show."""

    def __init__(self, **kwargs: int) -> None:
        self.sink = ListSink()
        self.mixer = SpeakerMixer(self.sink, **kwargs)
        self.peer: _Peer = self.mixer._add_peer("a")
        self.sent = self.ticks = 0

    def deliver(self, frames: int = 1) -> None:
        for _ in range(frames):
            self.sent += 1
            pcm = np.full(FRAME_SAMPLES, self.sent, "<i2").tobytes()
            self.mixer._deliver("a", self.peer, pcm)

    def tick(self, frames: int = 1) -> int:
        """Deliver ``frames``, mix one tick; returns the frame number played (0: silence)."""
        self.deliver(frames)
        self.mixer._mix_step(self.ticks)
        self.ticks += 1
        return int(np.frombuffer(self.sink.chunks[-1], "<i2")[0])

    def steady(self, ticks: int) -> list[int]:
        return [self.tick() for _ in range(ticks)]

    @property
    def queued(self) -> int:
        return len(self.peer.buf)


def test_steady_delivery_plays_at_once_with_no_underrun() -> None:
    rig = Rig()
    assert rig.mixer.cushion("a") == 1 and rig.mixer.cushion("nobody") == 0
    played = rig.steady(2000)
    assert played == list(range(1, 2001))  # each frame in the tick it arrived
    assert rig.mixer.underruns == 0 and rig.mixer.drained == 0 and rig.queued == 0
    assert rig.mixer.frames_received["a"] == 2000 and rig.mixer.level("a") > 0


def test_underruns_grow_the_cushion_and_quiet_shrinks_it() -> None:
    rig = Rig()
    rig.steady(10)
    for expected in (2, 3, 3):  # delivery stalls until the cushion runs dry: then one more
        cushion = rig.mixer.cushion("a")
        played = [rig.tick(0) for _ in range(cushion)]
        assert played[-1] == 0 and 0 not in played[:-1]
        assert rig.mixer.cushion("a") == expected
        rig.tick(cushion + 1)  # the late frames arrive together
        rig.steady(20)
        assert rig.queued >= (expected - 1) * FRAME_BYTES
    assert rig.mixer.underruns == 3
    played = rig.steady(RELAX_TICKS)
    assert rig.mixer.cushion("a") == 2
    assert rig.mixer.underruns == 3 and 0 not in played
    rig.steady(RELAX_TICKS)
    assert rig.mixer.cushion("a") == 1
    rig.steady(60)  # the frame the smaller cushion no longer needs is drained
    assert rig.queued == 0
    assert rig.mixer.underruns == 3


def test_a_stream_that_rests_is_not_an_underrun() -> None:
    """When the playout says the stream rests (empty PCM: the sender paused during silence),
    running dry costs no cushion; the stream's return is played with the cushion it had."""
    rig = Rig()
    rig.steady(50)
    rig.tick(0)  # a late frame: an underrun, a cushion of two
    rig.tick(2)
    rig.steady(20)
    assert rig.mixer.underruns == 1 and rig.mixer.cushion("a") == 2
    rig.mixer._deliver("a", rig.peer, b"")  # the playout went idle
    assert [rig.tick(0) for _ in range(30)][2:] == [0] * 28  # the cushion plays out, then quiet
    assert rig.mixer.underruns == 1 and rig.mixer.cushion("a") == 2  # kept, not grown or reset
    assert rig.mixer.level("a") == 0
    sent = rig.sent
    back = rig.steady(20)
    assert back[0] == 0 and back[1:] == list(range(sent + 1, sent + 20))  # the cushion regathered
    assert rig.mixer.underruns == 1
    rig.steady(5)
    cushion = rig.mixer.cushion("a")
    assert [rig.tick(0) for _ in range(cushion + 1)][-1] == 0  # dry without the note: underrun
    assert rig.mixer.underruns == 2 and rig.mixer.cushion("a") == 3


def test_the_speaker_counts_as_playing_for_half_a_second_after_a_voice() -> None:
    rig = Rig()
    assert not rig.mixer.playing()
    rig.steady(10)  # frames of tiny values: a whisper, not a voice
    assert not rig.mixer.playing()
    rig.mixer._deliver("a", rig.peer, np.full(FRAME_SAMPLES, 5000, "<i2").tobytes())
    rig.tick(0)
    assert rig.mixer.playing()
    for _ in range(24):
        rig.tick()
    assert rig.mixer.playing()
    rig.tick()
    assert not rig.mixer.playing()  # 25 quiet ticks (0.5 s) later


def test_a_burst_is_drained_back_to_the_cushion() -> None:
    rig = Rig()
    rig.steady(100)
    rig.tick(4)  # three frames more than usual arrive at once
    assert rig.queued == 3 * FRAME_BYTES
    played = rig.steady(100)
    assert rig.queued == 0 and rig.mixer.drained == 3 * FRAME_BYTES
    assert rig.mixer.underruns == 0 and 0 not in played
    assert played[-1] == rig.sent  # the newest frame plays as it arrives again
    assert played == sorted(played)  # only the oldest audio was dropped


def test_bursty_delivery_is_played_without_dropping_anything() -> None:
    rig = Rig()
    played = [rig.tick(2 if i % 2 == 0 else 0) for i in range(1000)]
    assert played == list(range(1, 1001))
    assert rig.mixer.underruns == 0 and rig.mixer.drained == 0


def test_jitter_frames_is_the_smallest_cushion_and_a_flood_is_capped() -> None:
    rig = Rig(jitter_frames=2, max_queue_ms=120)
    assert rig.tick() == 0  # gathering two frames first
    assert rig.tick() == 1 and rig.mixer.cushion("a") == 2
    rig.steady(RELAX_TICKS + 60)
    assert rig.mixer.cushion("a") == 2 and rig.mixer.underruns == 0
    rig.deliver(20)  # 400 ms at once: never more than 120 ms is kept
    assert rig.queued <= 6 * FRAME_BYTES
    assert rig.mixer.drained > 0


class QueueTrack(MediaStreamTrack):
    """An audio track handing out whatever frames the test puts in its queue."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue[av.AudioFrame] = asyncio.Queue()

    async def recv(self) -> av.AudioFrame:
        return await self.queue.get()


class TimedSink(ListSink):
    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def write(self, pcm: bytes) -> None:
        self.times.append(asyncio.get_running_loop().time())
        super().write(pcm)


async def test_the_mix_clock_starts_half_a_frame_after_the_first_frame() -> None:
    loop = asyncio.get_running_loop()
    sink, track = TimedSink(), QueueTrack()
    mixer = SpeakerMixer(sink)
    try:
        mixer.attach("a", track)
        await asyncio.sleep(0.06)
        assert sink.times == [] and mixer._task is None  # no clock before any audio
        arrived = loop.time()
        track.queue.put_nowait(make_frame(np.full(FRAME_SAMPLES, 7, "<i2").tobytes(), 0, False))
        await asyncio.sleep(0.1)
        assert sink.times, "the mixer never wrote"
        assert sink.times[0] - arrived >= PTIME / 2  # ticks sit between steady hand-outs
        assert int(np.frombuffer(sink.chunks[0], "<i2")[0]) == 7  # that frame, played at once
    finally:
        await mixer.aclose()


async def test_pcm_handed_to_the_hook_is_mixed_and_a_stale_hook_is_ignored() -> None:
    sink, track, again = ListSink(), QueueTrack(), QueueTrack()
    mixer = SpeakerMixer(sink)
    try:
        mixer.attach("a", track)
        hook = getattr(track, PCM_HOOK)
        hook(np.full(FRAME_SAMPLES, 5, "<i2").tobytes())
        await asyncio.sleep(0.05)
        assert mixer.frames_received["a"] == 1 and mixer._task is not None  # the clock started
        assert int(np.frombuffer(sink.chunks[0], "<i2")[0]) == 5
        mixer.attach("a", again)  # the peer's track was replaced: the old hook is dropped
        assert not hasattr(track, PCM_HOOK) and hasattr(again, PCM_HOOK)
        hook(np.full(FRAME_SAMPLES, 9, "<i2").tobytes())
        assert mixer.frames_received["a"] == 1
        await asyncio.sleep(0.05)
        assert all(9 not in np.frombuffer(c, "<i2") for c in sink.chunks)
    finally:
        await mixer.aclose()


async def test_a_cue_is_mixed_over_the_voices() -> None:
    rig = Rig()
    knock = cues.frames("knock")
    rig.mixer.play(knock)
    assert rig.mixer._task is not None
    rig.mixer._task.cancel()  # (its clock started: the ticks here are the test's)
    played = [rig.tick() for _ in range(len(knock) + 2)]  # a's frames 1, 2, … with the cue
    voice = [np.full(FRAME_SAMPLES, n, "<i2") for n in range(1, len(knock) + 3)]
    mixed = [np.frombuffer(c, "<i2") for c in rig.sink.chunks]
    for got, frame, cue in zip(mixed, voice, knock, strict=False):
        assert np.array_equal(got, frame + np.frombuffer(cue, "<i2"))
    assert played[-2:] == [len(knock) + 1, len(knock) + 2]  # then the voice alone
    assert rig.mixer.playing()  # (a cue is not the person talking while muted)


async def test_a_cue_plays_in_a_call_with_nobody_to_hear_and_a_flood_is_capped() -> None:
    sink = ListSink()
    mixer = SpeakerMixer(sink)
    try:
        joined = cues.frames("joined")
        mixer.play(joined)
        assert list(mixer._cue) == list(joined)
        await asyncio.sleep(len(joined) * PTIME + 0.1)
        played = b"".join(sink.chunks)
        assert played[: len(joined) * FRAME_BYTES] == b"".join(joined)  # alone: as it is
        for _ in range(100):  # a hundred chat messages at once: 1.5 s of ticks at most
            mixer.play(cues.frames("chat"))
            assert len(mixer._cue) * FRAME_MS <= MAX_CUE_MS
        knock = cues.frames("knock")
        mixer.play(knock)  # after the flood: heard all the same
        assert list(mixer._cue)[-len(knock) :] == list(knock)
        assert tone_power(joined[2], 587.33) > 0.005 and tone_power(joined[-2], 880.0) > 0.005
    finally:
        await mixer.aclose()
    mixer.play(joined)  # closed: nothing (no clock is started again)
    assert mixer._task is not None and mixer._task.done()


async def test_the_clock_stops_once_a_sound_played_alone_is_over() -> None:
    """Alone in a call, a sound started the 20 ms clock, which then ticked for nothing until
    the call ended; now it stops, and the next sound starts it again."""
    sink = ListSink()
    mixer = SpeakerMixer(sink)
    try:
        knock = cues.frames("knock")
        for _ in range(2):
            mixer.play(knock)
            await asyncio.sleep(len(knock) * PTIME + 0.15)
            assert mixer._task is None, "the clock still ticks with nothing to play"
            written = len(sink.chunks)
            assert written >= len(knock) and b"".join(sink.chunks[-len(knock) :]) == b"".join(knock)
            assert not mixer.playing()  # (the knock was loud; it is over)
            await asyncio.sleep(0.1)
            assert len(sink.chunks) == written
    finally:
        await mixer.aclose()


def test_each_cue_is_short_quiet_and_whole_frames() -> None:
    for kind in cues.NOTES:
        pcm = cues.frames(kind)
        assert pcm and all(len(f) == FRAME_BYTES for f in pcm)
        samples = np.frombuffer(b"".join(pcm), "<i2")
        assert 2000 < np.abs(samples).max() <= cues.AMPLITUDE * 32767 + 1
        assert len(pcm) * FRAME_MS <= 700
        assert abs(int(samples[0])) < 100 and abs(int(samples[-1])) < 100  # no click
    assert cues.frames("something new") == ()
