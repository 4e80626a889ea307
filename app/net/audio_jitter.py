"""Adaptive audio jitter buffer: the playout policy, no I/O (the clock is passed in).

Every packet's *offset* is its arrival time minus its media time (RTP timestamp / 48 kHz). The
smallest offset in the last ``WINDOW`` seconds is the network's fast path (``base``); how much
later than that packets come (the spread) is the jitter. A frame is due at
``base + media time + target``, with ``target`` just above the 97th percentile of the spread:
about 10 ms on a clean link, more on a jittery one (and START_DELAY for the first half second,
while there is too little to go by). The player ticks every 20 ms (gently pulled
towards the due times) and each tick yields exactly one frame:

- the packet, if it is here;
- else a reconstruction from the next packet's in-band FEC, if that one is here ("fec");
- else Opus loss concealment ("plc"), after which the late packet is dropped when it comes.

When the target falls (a burst has left the window) and playout is a frame or more behind, one
frame per tick is dropped until it is back on target; when the target rises, a concealed frame
is inserted. After ``IDLE_AFTER`` with no packets the player stops until they come back.

A sender pauses during digital silence (app.media.encoders: a muted microphone), sending one
frame every 0.4 s. Its timestamps keep pace with its clock, so packets after a pause have the
same offsets as before it: the jitter window is kept across the pause, and until it holds
WARMUP packets again the delay starts from the jitter already known, not from START_DELAY.
Only packets on another timeline (offset off by more than MAX_DELAY: a new encoder) start over.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

CLOCK_RATE = 48_000
FRAME_TS = 960  # RTP timestamp units per 20 ms frame
FRAME_S = 0.020
WINDOW = 2.0  # s of arrivals the jitter estimate looks at
MIN_DELAY, MAX_DELAY = 0.010, 0.300
MARGIN = 0.004  # s above the spread percentile
PERCENTILE = 0.97
SLEW = 0.005  # s a tick may move off the 20 ms cadence to follow the due times
CAPACITY = 50  # frames held at most (1 s): beyond that the oldest are dropped
IDLE_AFTER = 0.1  # s without packets after which the player stops concealing
WARMUP = 25  # packets (0.5 s) before the estimate is trusted; until then at least START_DELAY
START_DELAY = 0.040


@dataclass
class Stats:
    played: int = 0
    concealed: int = 0  # PLC frames (including ones inserted to raise the delay)
    recovered: int = 0  # frames rebuilt from FEC
    late: int = 0  # packets that came after their frame was played or concealed
    drained: int = 0  # frames dropped to bring the delay back down


class AudioJitterBuffer:
    def __init__(self, min_delay: float = MIN_DELAY, max_delay: float = MAX_DELAY) -> None:
        self.min_delay, self.max_delay = min_delay, max_delay
        self.stats = Stats()
        self.target = min_delay
        self._frames: dict[int, bytes] = {}  # unwrapped timestamp -> payload
        self._arrivals: deque[tuple[float, float]] = deque()  # (arrival, offset)
        self._offsets: list[float] = []  # the window's offsets, sorted (for percentiles)
        self._origin: int | None = None  # first timestamp seen (unwrapping reference)
        self._last_ts = 0
        self._next: int | None = None  # timestamp of the next frame to play
        self._last_tick: float | None = None
        self._last_arrival = 0.0
        self._idle = True
        self._known: float | None = None  # delay last worked out from a full window

    # -- packets in --------------------------------------------------------------------------

    def put(self, timestamp: int, payload: bytes, now: float) -> None:
        ts = self._unwrap(timestamp)
        self._last_arrival = now
        restart = self._idle or self._next is None or abs(ts - self._next) > CLOCK_RATE
        if restart:
            self._restart(ts, now - ts / CLOCK_RATE)
        assert self._next is not None
        self._observe(now - ts / CLOCK_RATE, now, learn=not restart)
        if ts < self._next:
            self.stats.late += 1
            return
        self._frames[ts] = payload
        while len(self._frames) > CAPACITY:
            oldest = min(self._frames)
            del self._frames[oldest]
            self._next = max(self._next, oldest + FRAME_TS)
            self.stats.drained += 1

    def _unwrap(self, timestamp: int) -> int:
        if self._origin is None:
            self._origin, self._last_ts = timestamp, 0
        delta = (timestamp - self._origin - self._last_ts + 2**31) % 2**32 - 2**31
        ts = self._last_ts + delta
        self._last_ts = max(self._last_ts, ts)
        return ts

    def _restart(self, ts: int, offset: float) -> None:
        self._frames.clear()
        self._next, self._last_tick, self._idle = ts, None, False
        if self._offsets and abs(offset - self._offsets[0]) <= MAX_DELAY:
            return  # after a pause in the same stream: what is known of the link still holds
        self._arrivals.clear()
        self._offsets.clear()
        self._known = None

    def _observe(self, offset: float, now: float, learn: bool = True) -> None:
        """Take one arrival into the window and work out the target; ``learn``: the delay may
        be remembered for after a pause (not from a pause's lone keep-alive packets, whose
        window is mostly from before the pause)."""
        self._arrivals.append((now, offset))
        bisect.insort(self._offsets, offset)
        while self._arrivals and now - self._arrivals[0][0] > WINDOW:
            _, old = self._arrivals.popleft()
            del self._offsets[bisect.bisect_left(self._offsets, old)]
        base = self._offsets[0]
        high = self._offsets[min(len(self._offsets) - 1, int(PERCENTILE * len(self._offsets)))]
        wanted = high - base + MARGIN
        if len(self._offsets) >= WARMUP:
            floor = self.min_delay
            self._known = wanted if learn else self._known
        else:  # too little to go by: the delay known from before a pause, else START_DELAY
            floor = max(self.min_delay, START_DELAY if self._known is None else self._known)
        self.target = min(self.max_delay, max(floor, wanted))

    # -- frames out --------------------------------------------------------------------------

    def _due(self, ts: int) -> float:
        return self._offsets[0] + ts / CLOCK_RATE + self.target

    def next_tick(self) -> float | None:
        """When to call ``tick`` next (monotonic seconds); None while idle (no packets)."""
        if self._idle or self._next is None or not self._offsets:
            return None
        due = self._due(self._next)
        if self._last_tick is None:
            return due
        nominal = self._last_tick + FRAME_S
        return min(max(due, nominal - SLEW), nominal + SLEW)

    def tick(self, now: float) -> tuple[str, bytes | None]:
        """The next frame: ("audio", payload), ("fec", next payload), ("plc", None), or
        ("idle", None) when packets have stopped coming."""
        if self._idle or self._next is None:
            return "idle", None
        if not self._frames and now - self._last_arrival > IDLE_AFTER:
            self._idle = True
            return "idle", None
        self._last_tick = now
        behind = now - self._due(self._next)
        if behind <= -FRAME_S:  # the target rose: stretch by one concealed frame
            self.stats.concealed += 1
            return "plc", None
        if behind >= FRAME_S and self._next + FRAME_TS in self._frames:  # drain one frame
            self._frames.pop(self._next, None)
            self._next += FRAME_TS
            self.stats.drained += 1
        ts, self._next = self._next, self._next + FRAME_TS
        payload = self._frames.pop(ts, None)
        if payload is not None:
            self.stats.played += 1
            return "audio", payload
        following = self._frames.get(ts + FRAME_TS)
        if following is not None:
            self.stats.recovered += 1
            return "fec", following
        self.stats.concealed += 1
        return "plc", None

    # -- inspection --------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Frames buffered and not yet played."""
        return len(self._frames)

    @property
    def delay(self) -> float:
        """How far (s) the next frame's playout is behind the fast path: ``target`` when
        settled; 0 while idle."""
        if self._next is None or not self._offsets or self._last_tick is None:
            return 0.0
        return self._last_tick + FRAME_S - (self._offsets[0] + self._next / CLOCK_RATE)
