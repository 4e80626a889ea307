"""Low-latency video jitter buffer: a frame leaves as soon as all of its packets are here.

aiortc's own buffer hands a frame on only when the next frame's first packet arrives (one frame
period of extra delay, 33 ms at 30 fps). This one releases a frame when its packets, from a
known frame start to the marker bit, are all present, in sequence order. A gap (lost packet)
holds later frames back while NACK/RTX can still repair it, at most the repair wait; after that,
or at once if a complete keyframe is already waiting, it skips to the next keyframe and asks for
one (PLI), so the decoder is never fed a frame whose reference is missing. If the decoder falls
more than MAX_BACKLOG frames behind (an overloaded machine), it also skips to a keyframe rather
than let the delay grow.

The repair wait adapts to the path: a retransmission takes about one round trip (plus queueing),
so the buffer notes when each hole was first seen and, when the missing packet turns up (in time
or late, after a skip), how long the repair took. It then waits up to REPAIR_FACTOR times a high
percentile of the recent repair delays, between ``max_wait`` (the floor, used until anything is
learned) and MAX_WAIT_CAP. On a clean link nothing is missing, so nothing waits at all.

Drop-in for ``aiortc.jitterbuffer.JitterBuffer``: ``add(packet) -> (pli_wanted, frame | None)``;
packets carry ``_data`` (the depayloaded bytes), set by the receiver before ``add``. For re-NACK
(app.net.renack): ``missing()`` lists the holes still worth a retransmission, and ``on_hole`` (if
set) is called with the packet whose arrival opened new ones.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiortc.jitterbuffer import JitterFrame

MAX_WAIT = 0.12  # s a gap may hold frames back at least (and until repair delays are known)
MAX_WAIT_CAP = 0.6  # s a gap may hold frames back at most, however slow repairs are
REPAIR_FACTOR = 1.5  # wait this many times the typical repair delay
REPAIR_SAMPLES = 24  # recent repair delays the wait is learned from
REPAIR_PERCENTILE = 0.75  # which of them: slow enough to cover most repairs, not the outliers
REPAIR_MEMORY = 20.0  # s a repair delay is remembered
HOLE_HORIZON = 2.0  # s a missing packet is tracked, waiting for a retransmission
MAX_HOLE = 64  # a jump of more packets than this is not tracked packet by packet
MAX_BACKLOG = 10  # frames waiting for the decoder: beyond this, skip to the next keyframe
PLI_INTERVAL = 0.3  # s between repeated keyframe requests while waiting for one
RESTART_JUMP = 3000  # a sequence jump this large means the sender restarted


def _nal_types(data: bytes) -> list[int]:
    """H.264 NAL unit types in Annex-B data (what aiortc's depayloader produces)."""
    types, i = [], data.find(b"\x00\x00\x01")
    while i != -1 and i + 3 < len(data):
        types.append(data[i + 3] & 0x1F)
        i = data.find(b"\x00\x00\x01", i + 3)
    return types


def frame_start(codec: str, packet: Any) -> bool | None:
    """True/False if the payload says whether it starts a frame; None if it cannot tell."""
    data: bytes = packet._data
    if codec == "vp8":
        return bool(packet.payload) and packet.payload[0] & 0x1F == 0x10  # S=1, PID=0
    if codec == "h264":
        if not data.startswith(b"\x00\x00\x00\x01") or len(data) < 6:
            return False
        nal = data[4] & 0x1F
        return nal in (6, 7, 8, 9) or (nal in (1, 5) and bool(data[5] & 0x80))
    return None


def keyframe(codec: str, packet: Any) -> bool:
    """Whether a frame-start packet begins a keyframe."""
    data: bytes = packet._data
    if codec == "vp8":
        return bool(data) and data[0] & 0x01 == 0
    if codec == "h264":
        return bool({5, 7} & set(_nal_types(data)))
    return True


class VideoJitterBuffer:
    """Reassembles frames in sequence order, releasing each one the moment it is complete."""

    def __init__(
        self,
        codec_of: Callable[[int], str],
        *,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = MAX_WAIT,
        capacity: int = 512,
        backlog: Callable[[], int] = lambda: 0,
    ) -> None:
        self._codec_of, self._clock, self._min_wait = codec_of, clock, max_wait
        self._backlog = backlog  # frames the decoder has not taken yet
        self._capacity = capacity
        self._packets: dict[int, Any] = {}  # extended sequence number -> RtpPacket
        self._highest: int | None = None
        self._next: int | None = None  # where the next frame starts; None: wait for a keyframe
        self._floor = -1  # while _next is None: holes below this are not wanted any more
        self._ready: deque[JitterFrame] = deque()
        self._blocked_since: float | None = None
        self._last_pli = -1e9
        self._holes: dict[int, float] = {}  # missing extended sequence number -> seen missing at
        self._repairs: deque[tuple[float, float]] = deque(maxlen=REPAIR_SAMPLES)  # (at, delay)
        self.packets_in = self.bytes_in = 0
        self.frames_out = self.keyframes_out = self.frames_skipped = 0
        self.repaired = self.repaired_late = 0  # holes filled (late: after their frame was gone)
        self.on_hole: Callable[[Any], None] | None = None  # called when a packet opens holes

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def highest(self) -> int | None:
        """Highest extended sequence number received (the numbering ``missing()`` uses)."""
        return self._highest

    def missing(self) -> dict[int, float]:
        """Holes a retransmission can still repair: extended sequence number -> when first seen
        missing. Not those whose frame was skipped already, nor expired ones."""
        floor = self._next if self._next is not None else self._floor
        horizon = self._clock() - HOLE_HORIZON
        return {e: seen for e, seen in self._holes.items() if e >= floor and seen >= horizon}

    @property
    def max_wait(self) -> float:
        """How long a gap may hold frames back now: learned from recent repair delays."""
        now = self._clock()
        while self._repairs and now - self._repairs[0][0] > REPAIR_MEMORY:
            self._repairs.popleft()
        if not self._repairs:
            return self._min_wait
        delays = sorted(delay for _, delay in self._repairs)
        typical = delays[min(len(delays) - 1, int(len(delays) * REPAIR_PERCENTILE))]
        return min(MAX_WAIT_CAP, max(self._min_wait, REPAIR_FACTOR * typical))

    def add(self, packet: Any) -> tuple[bool, JitterFrame | None]:
        self.packets_in += 1
        self.bytes_in += len(packet.payload)
        highest = self._highest
        ext = self._extend(packet.sequence_number)
        if ext is not None:
            if self._track_holes(ext, highest) and self.on_hole is not None:
                self.on_hole(packet)
            if self._next is None or ext >= self._next:
                self._packets.setdefault(ext, packet)
        pli = self._assemble()
        if len(self._packets) > self._capacity:  # a long stall: start over from a keyframe
            self._reset()
            self._floor = (self._highest or 0) + 1
            pli = self._want_keyframe()
        return pli, self._ready.popleft() if self._ready else None

    # -- internals -------------------------------------------------------------------------------

    def _extend(self, seq: int) -> int | None:
        if self._highest is None:
            self._highest = (1 << 20) + seq
            return self._highest
        delta = (seq - self._highest + 0x8000) % 0x10000 - 0x8000
        if abs(delta) > RESTART_JUMP:  # not a reordering any more: the stream restarted
            self._reset()
            self._holes.clear()
            self._floor = -1
            self._highest = (1 << 20) + seq
            return self._highest
        ext = self._highest + delta
        self._highest = max(self._highest, ext)
        return ext

    def _track_holes(self, ext: int, highest: int | None) -> bool:
        """Note packets ``ext`` skipped over (``highest``: the highest before it); learn the
        repair delay if ``ext`` fills a hole. True if new holes opened."""
        now, holes = self._clock(), self._holes
        while holes and now - next(iter(holes.values())) > HOLE_HORIZON:
            del holes[next(iter(holes))]  # insertion order is time order
        seen = holes.pop(ext, None)
        if seen is not None:
            self._repairs.append((now, now - seen))
            if self._next is not None and ext >= self._next:
                self.repaired += 1
            else:  # its frame was skipped already
                self.repaired_late += 1
            return False
        if highest is not None and 1 < ext - highest <= MAX_HOLE + 1:
            for missing in range(highest + 1, ext):
                holes[missing] = now
            return True
        return False

    def _reset(self) -> None:
        self._packets.clear()
        self._next, self._blocked_since = None, None

    def _codec(self, packet: Any) -> str:
        return self._codec_of(packet.payload_type)

    def _is_start(self, ext: int) -> bool:
        packet = self._packets[ext]
        said = frame_start(self._codec(packet), packet)
        if said is not None:
            return said
        before = self._packets.get(ext - 1)
        return before is not None and (before.marker or before.timestamp != packet.timestamp)

    def _frame_end(self, start: int) -> int | bool | None:
        """Last sequence number of the frame at ``start`` if complete; False if a packet is
        missing while later ones are here (a gap); None if it is simply not all here yet."""
        ext, first = start, self._packets.get(start)
        while True:
            packet = self._packets.get(ext)
            if packet is None:
                return False if self._highest is not None and ext < self._highest else None
            if first is not None and packet.timestamp != first.timestamp:
                return ext - 1 if ext > start else False  # no marker: the next frame began
            if packet.marker:
                return ext
            ext += 1

    def _is_key_start(self, ext: int) -> bool:
        packet = self._packets[ext]
        return self._is_start(ext) and keyframe(self._codec(packet), packet)

    def _next_keyframe(self, after: int) -> int | None:
        """Start of the earliest complete keyframe after ``after``."""
        for ext in sorted(e for e in self._packets if e > after):
            if self._is_key_start(ext):
                end = self._frame_end(ext)
                if end is not None and end is not False:
                    return ext
        return None

    def _assemble(self) -> bool:
        pli = False
        while True:
            if self._next is None:
                start = self._next_keyframe(-1)
                if start is None:
                    return pli or (bool(self._packets) and self._want_keyframe())
                self._next = start
            end = self._frame_end(self._next)
            if end is not None and end is not False:
                if self._backlog() > MAX_BACKLOG:  # the decoder cannot keep up: bound the delay
                    self._skip_to(None)
                    pli = self._want_keyframe()
                    continue
                self._release(self._next, int(end))
                continue
            if end is None:  # still arriving
                return pli
            key = self._next_keyframe(self._next)
            now = self._clock()
            if key is not None:
                self._skip_to(key)
            elif self._blocked_since is None:
                self._blocked_since = now
                return pli
            elif now - self._blocked_since > self.max_wait:
                self._skip_to(None)
                pli = self._want_keyframe()
            else:
                return pli

    def _release(self, start: int, end: int) -> None:
        packets = [self._packets.pop(e) for e in range(start, end + 1)]
        self._ready.append(JitterFrame(b"".join(p._data for p in packets), packets[0].timestamp))
        self.frames_out += 1
        self.keyframes_out += keyframe(self._codec(packets[0]), packets[0])
        self._next, self._blocked_since = end + 1, None

    def _skip_to(self, start: int | None) -> None:
        """Drop what is before ``start``; with None, all but a keyframe still arriving."""
        limit = start
        if limit is None:
            keys = [e for e in self._packets if e > (self._next or 0) and self._is_key_start(e)]
            limit = max(keys) if keys else (self._highest or 0) + 1
        stale = [e for e in self._packets if e < limit]
        self.frames_skipped += len({self._packets[e].timestamp for e in stale}) or 1
        for ext in stale:
            del self._packets[ext]
        self._next, self._blocked_since, self._floor = start, None, limit

    def _want_keyframe(self) -> bool:
        now = self._clock()
        if now - self._last_pli < PLI_INTERVAL:
            return False
        self._last_pli = now
        return True
