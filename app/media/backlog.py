"""Clock-free latency policies for the audio path: one call per 20 ms tick in, bytes to drop out.

Audio that waits in a buffer is latency. A buffer level that only ever goes up (a late capture,
a burst from the network, a head start) stays up for good unless something drains it. Both
policies here watch the level's minimum over a sliding window of ticks: audio that was never
needed during the whole window is excess, and the oldest of it is dropped in one go.

``BacklogTrim``: the microphone ring (AudioFeed). ``Cushion``: one remote peer in SpeakerMixer,
whose wanted level also adapts to underruns.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol, runtime_checkable

from app.media.pcm import FRAME_BYTES, FRAME_MS, SAMPLE_BYTES


@runtime_checkable
class Backlogged(Protocol):
    """A PcmSource that can say how much it holds and drop its oldest audio (e.g. PcmRing)."""

    @property
    def buffered(self) -> int: ...

    def drop_oldest(self, nbytes: int) -> int: ...


class SlidingMin:
    """The minimum of the last ``window`` values pushed (monotonic deque, O(1) per push)."""

    def __init__(self, window: int) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self.window = window
        self._queue: deque[tuple[int, int]] = deque()  # (index, value), values increasing
        self._count = 0  # values pushed since the last reset

    def push(self, value: int) -> None:
        while self._queue and self._queue[-1][1] >= value:
            self._queue.pop()
        self._queue.append((self._count, value))
        self._count += 1
        if self._queue[0][0] < self._count - self.window:
            self._queue.popleft()

    @property
    def full(self) -> bool:
        """A whole window has been pushed since the last reset."""
        return self._count >= self.window

    @property
    def value(self) -> int:
        """The minimum (0 before anything was pushed)."""
        return self._queue[0][1] if self._queue else 0

    def reset(self) -> None:
        self._queue.clear()
        self._count = 0


def _whole_samples(nbytes: int) -> int:
    return max(0, nbytes - nbytes % SAMPLE_BYTES)


class BacklogTrim:
    """A microphone's steady backlog: call ``after_read(residual)`` once per tick with the bytes
    still buffered after that tick's read; it returns how many of the oldest bytes to drop.

    Capture arrives in chunks whose phase wanders against our clock, so the residual swings by
    about a chunk from tick to tick. When its minimum over ``window`` ticks stays above
    ``trigger``, all but ``keep`` of that minimum is dropped (then the window starts over).
    """

    def __init__(
        self, window: int = 40, trigger: int = FRAME_BYTES // 2, keep: int = FRAME_BYTES // 4
    ) -> None:
        if not 0 <= keep <= trigger:
            raise ValueError("need 0 <= keep <= trigger")
        self.trigger, self.keep = trigger, keep
        self._min = SlidingMin(window)

    def after_read(self, residual: int) -> int:
        self._min.push(residual)
        if not self._min.full or self._min.value <= self.trigger:
            return 0
        drop = _whole_samples(self._min.value - self.keep)
        self._min.reset()
        return drop


class Cushion:
    """The jitter cushion of one remote peer in SpeakerMixer, in 20 ms frames.

    Starts at ``minimum``; ``underrun()`` raises it by one (up to ``maximum``); ``relax_ticks``
    ticks without an underrun lower it by one (down to ``minimum``). Call ``tick(level)`` once per
    mix step with the bytes buffered before a frame is taken; it returns how many of the oldest
    bytes to drop: when the level's minimum over ``window`` ticks exceeds the cushion by more than
    half a frame, that excess (a burst, or a cushion just lowered) is drained.
    """

    def __init__(
        self, minimum: int = 1, maximum: int = 3, relax_ticks: int = 15_000 // FRAME_MS,
        window: int = 50,
    ) -> None:  # fmt: skip
        if not 1 <= minimum <= maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        self.minimum, self.maximum, self.relax_ticks = minimum, maximum, relax_ticks
        self.frames = minimum
        self._quiet = 0  # ticks since the last underrun or change
        self._min = SlidingMin(window)

    @property
    def bytes(self) -> int:
        return self.frames * FRAME_BYTES

    def underrun(self) -> None:
        self.frames = min(self.maximum, self.frames + 1)
        self._quiet = 0
        self._min.reset()

    def tick(self, level: int) -> int:
        self._quiet += 1
        if self._quiet >= self.relax_ticks:
            self.frames = max(self.minimum, self.frames - 1)
            self._quiet = 0
        self._min.push(level)
        excess = self._min.value - self.bytes
        if not self._min.full or excess <= FRAME_BYTES // 2:
            return 0
        self._min.reset()
        return _whole_samples(excess)
