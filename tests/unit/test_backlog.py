"""The microphone backlog: PcmRing.drop_oldest, the clock-free policies (app/media/backlog.py)
and AudioFeed draining a PcmRing, driven tick by tick (no loop, no sleeping)."""

from __future__ import annotations

import numpy as np
import pytest

from app.media.audio import PcmRing, ToneSource, ms_to_bytes
from app.media.audio_tracks import AudioFeed
from app.media.backlog import BacklogTrim, Cushion, SlidingMin
from app.media.pcm import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_BYTES


def test_sliding_min_follows_the_window() -> None:
    m = SlidingMin(3)
    assert m.value == 0 and not m.full
    seen = []
    for v in (5, 3, 4, 6, 7, 8, 1):
        m.push(v)
        seen.append(m.value)
    assert seen == [5, 3, 3, 3, 4, 6, 1]
    assert m.full
    m.reset()
    assert not m.full and m.value == 0
    with pytest.raises(ValueError):
        SlidingMin(0)


def test_ring_drop_oldest_is_sample_aligned_and_counted() -> None:
    ring = PcmRing()
    ring.push(np.arange(3 * FRAME_SAMPLES, dtype="<i2").tobytes())
    assert ring.drop_oldest(FRAME_BYTES + 3) == FRAME_BYTES + 2  # whole samples only
    frame = ring.read_frame()
    assert frame is not None and np.frombuffer(frame, "<i2")[0] == FRAME_SAMPLES + 1
    assert ring.dropped == FRAME_BYTES + 2
    assert ring.drop_oldest(10 * FRAME_BYTES) == ring.dropped - FRAME_BYTES - 2 > 0
    assert ring.buffered == 0 and ring.drop_oldest(100) == 0 and ring.drop_oldest(-5) == 0


def test_trim_drops_a_persistent_residual_once_and_keeps_a_little() -> None:
    trim = BacklogTrim(window=40)
    drops = [trim.after_read(ms_to_bytes(130)) for _ in range(39)]
    assert not any(drops)  # not before a whole window has shown the excess
    drop = trim.after_read(ms_to_bytes(130))
    assert drop == ms_to_bytes(130) - trim.keep and drop % SAMPLE_BYTES == 0
    assert not any(trim.after_read(trim.keep) for _ in range(200))  # settled: nothing more
    jittery = BacklogTrim(window=40)
    assert not any(jittery.after_read(FRAME_BYTES * (i % 2)) for i in range(500))


class Capture:
    """A PcmRing fed like a capture thread: a distinct non-silent 20 ms frame per push."""

    def __init__(self, ring: PcmRing) -> None:
        self.ring = ring
        self.pushed = 0

    def push(self, frames: int = 1) -> None:
        for _ in range(frames):
            self.pushed += 1
            self.ring.push(np.full(FRAME_SAMPLES, 1000 + self.pushed, "<i2").tobytes())


def run(feed: AudioFeed, ring: PcmRing, ticks: int, deliver: dict[int, int], cap: Capture):
    """Tick ``feed`` ``ticks`` times; before tick i the capture pushes deliver.get(i, 1)
    frames. Returns (residual after each read, ticks that sent silence)."""
    residual, silent = [], []
    for i in range(ticks):
        cap.push(deliver.get(i, 1))
        feed._tick(i)
        residual.append(ring.buffered)
        if feed.level == 0.0:
            silent.append(i)
    return residual, silent


def test_feed_recovers_from_one_late_capture_within_a_second() -> None:
    ring = PcmRing()
    feed, cap = AudioFeed(ring), Capture(ring)
    # tick 10: the capture is late (nothing before the read, two frames before the next)
    residual, silent = run(feed, ring, 150, {10: 0, 11: 2}, cap)
    assert silent == [10]
    assert residual[12:20] == [FRAME_BYTES] * 8  # the ratchet: a frame of backlog ...
    assert max(residual[11 + 45 :]) <= FRAME_BYTES // 2  # ... gone within ~1 s (50 ticks)
    assert ring.dropped == feed.backlog_dropped <= FRAME_BYTES  # only the excess
    assert feed.frames_read == 150


def test_feed_drains_a_head_start_without_gaps() -> None:
    ring = PcmRing()
    feed, cap = AudioFeed(ring), Capture(ring)
    cap.push(7)  # the microphone ran 140 ms (+ the first frame) before the call
    residual, silent = run(feed, ring, 150, {}, cap)
    assert silent == []
    assert residual[0] == 7 * FRAME_BYTES
    assert max(residual[50:]) <= FRAME_BYTES // 2
    assert ring.dropped <= 7 * FRAME_BYTES


def test_feed_keeps_a_merely_jittery_capture() -> None:
    ring = PcmRing()
    feed, cap = AudioFeed(ring), Capture(ring)
    bursts = {i: 2 * (i % 2 == 0) for i in range(300)}  # two frames, then none, ...
    residual, silent = run(feed, ring, 300, bursts, cap)
    assert silent == [] and ring.dropped == 0  # every frame was needed: nothing dropped
    assert max(residual) <= FRAME_BYTES
    # jittery and late once: the extra frame goes, the burst spacing stays
    bursts.update({100: 0, 101: 2, 102: 2})
    ring2 = PcmRing()
    feed2, cap2 = AudioFeed(ring2), Capture(ring2)
    residual, silent = run(feed2, ring2, 300, bursts, cap2)
    assert silent == [100]
    assert max(residual[101 + 50 :]) <= FRAME_BYTES + feed2._trim.keep
    assert ring2.dropped <= FRAME_BYTES


def test_feed_leaves_sources_without_a_backlog_alone() -> None:
    feed = AudioFeed(ToneSource())
    for i in range(100):
        feed._tick(i)
    assert feed.level > 0.1 and feed.backlog_dropped == 0


def test_cushion_policy_grows_relaxes_and_drains() -> None:
    c = Cushion(minimum=1, maximum=3, relax_ticks=100, window=10)
    assert c.frames == 1 and c.bytes == FRAME_BYTES
    for _ in range(4):
        c.underrun()
    assert c.frames == 3
    assert not any(c.tick(3 * FRAME_BYTES) for _ in range(99))
    # 100 quiet ticks: one less, and the last window already shows the frame it frees
    assert c.tick(3 * FRAME_BYTES) == FRAME_BYTES and c.frames == 2
    assert not any(c.tick(2 * FRAME_BYTES) for _ in range(9))
    drops = [c.tick(4 * FRAME_BYTES) for _ in range(10)]  # a burst: drained after a window
    assert drops[:-1] == [0] * 9 and drops[-1] == 2 * FRAME_BYTES
    assert not any(c.tick(2 * FRAME_BYTES + FRAME_BYTES // 2) for _ in range(50))  # slack
    with pytest.raises(ValueError):
        Cushion(minimum=0)
