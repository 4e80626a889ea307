"""PCM building blocks (app/media/audio.py) and the track plumbing without a network."""

from __future__ import annotations

import asyncio
import threading

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamTrack

from app.errors import MediaError
from app.media.audio import (
    NullSink,
    PcmConverter,
    PcmRing,
    ToneSource,
    ms_to_bytes,
    rms,
    tone_power,
)
from app.media.audio_tracks import TRACK_QUEUE_FRAMES, AudioFeed, make_frame
from app.media.mixer import SpeakerMixer, to_mono_s16
from app.media.pcm import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE


def sine(freq: float, seconds: float = 0.1, amplitude: float = 0.5) -> bytes:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()


def numbered(n: int) -> bytes:
    return np.arange(n, dtype="<i2").tobytes()


# --- PcmRing -----------------------------------------------------------------------------


def test_ring_returns_exact_frames_or_none() -> None:
    ring = PcmRing()
    assert ring.read_frame() is None
    ring.push(bytes(FRAME_BYTES - 2))
    assert ring.read_frame() is None  # less than a frame buffered
    ring.push(b"\x01\x00" * 3)  # odd chunk sizes are fine
    frame = ring.read_frame()
    assert frame is not None and len(frame) == FRAME_BYTES
    assert ring.buffered == 4
    assert ring.read_frame() is None


def test_ring_overflow_drops_oldest() -> None:
    ring = PcmRing(capacity_ms=40)  # two frames
    assert ring.capacity == 2 * FRAME_BYTES
    data = numbered(3 * FRAME_SAMPLES)
    ring.push(data)
    assert ring.buffered == ring.capacity
    assert ring.dropped == FRAME_BYTES
    assert ring.read_frame() == data[FRAME_BYTES : 2 * FRAME_BYTES]  # the newest two remain
    assert ring.read_frame() == data[2 * FRAME_BYTES :]
    assert ring.read_frame() is None


def test_ring_default_capacity_is_about_200ms() -> None:
    assert PcmRing().capacity == ms_to_bytes(200) == 10 * FRAME_BYTES


def test_ring_is_thread_safe() -> None:
    ring = PcmRing(capacity_ms=100)
    chunk = numbered(480)  # 10 ms of samples 0..479, never a whole frame
    got: list[bytes] = []
    pushes = 2000
    done = threading.Event()

    def producer() -> None:
        for _ in range(pushes):
            ring.push(chunk)
        done.set()

    def consumer() -> None:
        while not done.is_set() or ring.buffered >= FRAME_BYTES:
            frame = ring.read_frame()
            if frame is not None:
                got.append(frame)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    total = len(got) * FRAME_BYTES + ring.buffered + ring.dropped
    assert total == pushes * len(chunk)  # nothing lost or duplicated except counted drops
    assert got and all(len(f) == FRAME_BYTES for f in got)
    for frame in got:  # sample-aligned and in order: every step is +1 (mod 480)
        x = np.frombuffer(frame, "<i2").astype(int)
        assert np.all((np.diff(x) % 480) == 1)


def test_ring_close_empties_and_ignores_pushes() -> None:
    ring = PcmRing()
    ring.push(bytes(FRAME_BYTES))
    ring.close()
    ring.close()
    ring.push(bytes(FRAME_BYTES))
    assert ring.read_frame() is None


# --- ToneSource, measurements ----------------------------------------------------------------


def test_tone_source_is_phase_continuous() -> None:
    tone = ToneSource(440.0, amplitude=0.5)
    frames = [tone.read_frame() for _ in range(50)]
    assert all(f is not None and len(f) == FRAME_BYTES for f in frames)
    joined = b"".join(f for f in frames if f)
    x = np.frombuffer(joined, "<i2").astype(float)
    ideal = np.frombuffer(sine(440.0, seconds=1.0, amplitude=0.5), "<i2")
    assert np.max(np.abs(x - ideal)) <= 1  # one continuous sine, rounding aside
    # no jumps at frame boundaries: the largest step anywhere is the slope of the sine
    assert np.max(np.abs(np.diff(x))) <= 0.5 * 32767 * 2 * np.pi * 440 / SAMPLE_RATE + 2
    assert tone_power(joined, 440.0) == pytest.approx(0.25, rel=0.02)
    tone.close()
    assert tone.read_frame() is None


def test_tone_power_tells_440_from_silence_and_1000() -> None:
    assert tone_power(sine(440.0, amplitude=1.0), 440.0) == pytest.approx(1.0, rel=0.02)
    assert tone_power(sine(440.0), 440.0) > 0.2
    assert tone_power(bytes(FRAME_BYTES * 5), 440.0) == 0.0
    assert tone_power(sine(1000.0), 440.0) < 1e-4
    assert tone_power(sine(1000.0), 1000.0) > 0.2
    assert tone_power(sine(440.0, seconds=0.02), 440.0) > 0.2  # one frame is enough
    assert tone_power(b"", 440.0) == 0.0


def test_rms_levels() -> None:
    assert rms(bytes(FRAME_BYTES)) == 0.0
    assert rms(b"") == 0.0
    assert rms(sine(440.0, amplitude=1.0)) == pytest.approx(2**-0.5, rel=0.01)
    assert rms(np.full(960, -32768, "<i2").tobytes()) == 1.0


def test_null_sink_counts() -> None:
    sink = NullSink()
    sink.write(bytes(10))
    sink.write(bytes(FRAME_BYTES))
    sink.close()
    assert sink.bytes_written == 10 + FRAME_BYTES


# --- AudioFeed / SpeakerMixer without a network -----------------------------------------------


class CountingSource(ToneSource):
    def __init__(self) -> None:
        super().__init__(440.0)
        self.reads = 0

    def read_frame(self) -> bytes | None:
        self.reads += 1
        return super().read_frame()


class ListSink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, pcm: bytes) -> None:
        self.chunks.append(pcm)

    def close(self) -> None:
        pass


async def recv_audio(track: MediaStreamTrack) -> av.AudioFrame:
    frame = await track.recv()
    assert isinstance(frame, av.AudioFrame)
    return frame


async def test_feed_reads_once_per_tick_for_all_tracks_and_mutes() -> None:
    source = CountingSource()
    feed = AudioFeed(source)
    tracks = [feed.new_track() for _ in range(3)]
    assert all(t.kind == "audio" for t in tracks)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for _ in range(10):
        frames = [await recv_audio(t) for t in tracks]
        assert len({f.pts for f in frames}) == 1  # the same frame for everyone
        assert frames[0].samples == FRAME_SAMPLES and frames[0].sample_rate == SAMPLE_RATE
        assert frames[0].format.name == "s16" and frames[0].layout.name == "stereo"  # L = R
    elapsed = loop.time() - t0
    assert 0.15 < elapsed < 0.4  # paced in real time, ~20 ms a frame
    assert source.reads <= 12  # not once per track
    assert feed.level > 0.1
    feed.set_muted(True)
    # at most TRACK_QUEUE_FRAMES were queued before muting; after them comes digital silence
    frames = [await recv_audio(tracks[0]) for _ in range(TRACK_QUEUE_FRAMES + 1)]
    assert not frames[-1].to_ndarray().any() and feed.level == 0.0
    pts = [f.pts or 0 for f in frames]
    assert pts[-1] - pts[0] == TRACK_QUEUE_FRAMES * FRAME_SAMPLES  # consecutive, no gap
    await feed.aclose()
    feed.close()
    assert all(t.readyState == "ended" for t in tracks)
    with pytest.raises(MediaError):
        feed.new_track()


async def test_a_mono_feed_track_carries_the_same_samples() -> None:
    feed = AudioFeed(ToneSource(440.0, 0.3))
    stereo, mono = feed.new_track(), feed.new_track(stereo=False)
    try:
        a, b = await recv_audio(stereo), await recv_audio(mono)
        assert (b.layout.name, b.samples, b.pts) == ("mono", FRAME_SAMPLES, a.pts)
        assert (a.to_ndarray()[0][::2] == b.to_ndarray()[0]).all() and b.to_ndarray().any()
    finally:
        await feed.aclose()


async def test_mixer_sums_peers_and_detaches_ended_tracks() -> None:
    feed_a, feed_b = AudioFeed(ToneSource(440.0, 0.2)), AudioFeed(ToneSource(1000.0, 0.2))
    sink = ListSink()
    mixer = SpeakerMixer(sink)
    mixer.attach("a", feed_a.new_track())
    mixer.attach("b", feed_b.new_track())
    await asyncio.sleep(0.4)
    out = b"".join(sink.chunks[-5:])
    assert tone_power(out, 440.0) > 0.02 and tone_power(out, 1000.0) > 0.02
    assert mixer.level("a") > 0.1 and mixer.level("nobody") == 0.0
    assert mixer.frames_received["a"] >= 10
    feed_b.close()  # b's track ends -> b is detached by its own task
    await asyncio.sleep(0.1)
    assert mixer.peers == ["a"]
    await mixer.aclose()
    mixer.close()
    await feed_a.aclose()


def test_to_mono_downmixes_stereo_without_gain_change() -> None:
    stereo = np.repeat(np.full(960, 10000, "<i2"), 2).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    assert set(np.frombuffer(to_mono_s16(frame), "<i2")) == {10000}
    planar = av.AudioFrame.from_ndarray(np.full((1, 480), 0.5, "f4"), format="flt", layout="mono")
    planar.sample_rate = 24000  # needs the resampler: format and rate differ
    out = np.frombuffer(to_mono_s16(planar), "<i2")
    assert out.size > 0 and abs(int(out[-1]) - 16384) < 200
    assert make_frame(bytes(FRAME_BYTES), 960).pts == 960
    mono = make_frame(sine(440.0, seconds=0.02), 0, stereo=False)
    assert mono.layout.name == "mono" and mono.samples == FRAME_SAMPLES
    assert to_mono_s16(mono) == sine(440.0, seconds=0.02)  # our playout's frames: bytes as is
    assert to_mono_s16(make_frame(sine(440.0, 0.02), 0)) == sine(440.0, 0.02)


# --- PcmConverter (devices that refuse s16 mono 48 kHz) ------------------------------------


def test_converter_identity_passes_bytes_through() -> None:
    conv = PcmConverter("s16", 1, SAMPLE_RATE)
    data = sine(440.0, 0.02)
    assert conv.identity and conv.to_pcm(data) is data and conv.from_pcm(data) is data


@pytest.mark.parametrize("sample_type", ["u8", "s16", "s32", "f32"])
@pytest.mark.parametrize("channels", [1, 2])
def test_converter_round_trip_keeps_the_tone(sample_type: str, channels: int) -> None:
    out, back = (
        PcmConverter(sample_type, channels, SAMPLE_RATE),
        PcmConverter(sample_type, channels, SAMPLE_RATE),
    )
    pcm = sine(440.0, 0.1)
    device = out.from_pcm(pcm)
    width = {"u8": 1, "s16": 2, "s32": 4, "f32": 4}[sample_type]
    assert len(device) == len(pcm) // 2 * width * channels
    # odd chunking on the way in: partial device frames are kept for the next chunk
    result = back.to_pcm(device[:7]) + back.to_pcm(device[7:])
    assert len(result) == len(pcm)
    tolerance = 300 if sample_type == "u8" else 2
    diff = np.frombuffer(result, "<i2").astype(int) - np.frombuffer(pcm, "<i2")
    assert np.max(np.abs(diff)) <= tolerance
    assert tone_power(result, 440.0) == pytest.approx(0.25, rel=0.05)


def test_converter_resamples_other_rates() -> None:
    out, back = PcmConverter("f32", 2, 44100), PcmConverter("f32", 2, 44100)
    tone = ToneSource(440.0, amplitude=0.5)
    device = b"".join(out.from_pcm(tone.read_frame() or b"") for _ in range(25))  # 0.5 s
    assert abs(len(device) / 8 - 22050) < 200  # ~0.5 s of 44.1 kHz stereo float
    pcm = b"".join(back.to_pcm(device[i : i + 1000]) for i in range(0, len(device), 1000))
    assert abs(len(pcm) / 2 - 24000) < 400
    assert tone_power(pcm[4800:], 440.0) == pytest.approx(0.25, rel=0.1)


def test_converter_refuses_unknown_formats() -> None:
    with pytest.raises(MediaError, match="Pick another device"):
        PcmConverter("s24", 2, SAMPLE_RATE)
