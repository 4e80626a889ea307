"""Adaptive video quality: which resolution, frame rate and bitrate to send.

Pure policy (the clock is passed in). Inputs: how many people are in the call, the room size,
the lowest bandwidth estimate among the peers (REMB) and the encoder's CPU load (time per
frame over the frame period). The ladder goes down frame rate first, then resolution:
720p30 → 720p20 → 480p30 → 480p20 → 360p30 → 360p20 → 240p20 → 240p15. The call size caps it
(720p for 2 people, 480p for 3–4, 360p for 5–6, 240p beyond); bandwidth or CPU trouble steps
down at once (at most one rung per DOWN_HOLD), and a rung is won back after UP_HOLD seconds of
headroom. Nothing goes above what the camera captures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    height: int
    fps: int

    @property
    def bitrate(self) -> int:
        """bit/s for a 4:3 picture: 500 kbit/s at 480p30, scaled by size^0.8 and rate^0.6."""
        scale = (self.height / 480) ** 1.6 * (self.fps / 30) ** 0.6
        return max(150_000, int(round(500_000 * scale, -3)))


LADDER = tuple(
    Rung(h, f) for h, f in ((720, 30), (720, 20), (480, 30), (480, 20), (360, 30), (360, 20),
                            (240, 20), (240, 15))
)  # fmt: skip
CPU_HIGH, CPU_LOW = 0.7, 0.35  # encoder busy this fraction of the frame period: too much / fine
#: a rung is left when the estimate is below this share of its bitrate (above it, only the
#: bitrate follows the estimate), and won back when the estimate reaches this share of the
#: better rung's (aiortc's REMB never exceeds 1.5x what actually arrives, so it cannot be more)
STARVED, ROOMY = 0.5, 0.9
DOWN_HOLD, UP_HOLD = 2.0, 6.0  # s
#: room capacity (app.net.rooms.CAPACITY: small 4, mid 8, large 16) -> highest height
ROOM_CAP = ((4, 720), (8, 480), (16, 360))


@dataclass(frozen=True)
class Quality:
    width: int
    height: int
    fps: int
    bitrate: int


def height_cap(participants: int, room_capacity: int | None = None) -> int:
    """The tallest picture worth sending to a call of this size."""
    cap = 720 if participants <= 2 else 480 if participants <= 4 else 360
    if participants > 6:
        cap = 240
    if room_capacity:
        cap = min(cap, next((h for size, h in ROOM_CAP if room_capacity <= size), 360))
    return cap


class QualityController:
    """Keeps the current rung for one video track; call ``update`` about once a second."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: int,
        *,
        pinned: bool = False,
        clock: Callable[[], float],
    ) -> None:
        self.capture = (width, height, fps)
        self.pinned = pinned  # keep the capture size and rate; only the bitrate adapts
        self.room_capacity: int | None = None  # the room's size setting caps the picture
        self._clock = clock
        self._index = 0
        self._changed_at = -1e9
        self._good_since: float | None = None
        self.quality = self._make(self._ladder(2, None)[0], None)

    def set_capture(self, width: int, height: int, fps: int | None = None) -> None:
        """The source changed size (another camera): keep the rung, rescale the picture."""
        if (width, height) != self.capture[:2] or (fps and fps != self.capture[2]):
            self.capture = (width, height, fps or self.capture[2])
            self._index = 0 if self.pinned else self._index

    def _ladder(self, participants: int, room: int | None) -> list[Rung]:
        _, height, fps = self.capture
        if self.pinned:
            return [Rung(height, fps)]
        cap = min(height, height_cap(participants, room))
        unique: list[Rung] = []  # the ladder squeezed under the cap, without repeats
        for r in LADDER:
            h, f = min(r.height, cap), min(r.fps, fps)
            if all((u.height, u.fps) != (h, f) for u in unique):
                unique.append(Rung(h, f))
        return unique

    def update(
        self,
        participants: int,
        bandwidth: int | None = None,
        cpu_load: float = 0.0,
        room_capacity: int | None = None,
    ) -> Quality:
        now = self._clock()
        ladder = self._ladder(participants, room_capacity or self.room_capacity)
        index = min(self._index, len(ladder) - 1)
        rung = ladder[index]
        starved = bandwidth is not None and bandwidth < STARVED * rung.bitrate
        if (starved or cpu_load > CPU_HIGH) and index + 1 < len(ladder):
            self._good_since = None
            if now - self._changed_at >= DOWN_HOLD:
                index, self._changed_at = index + 1, now
        elif index > 0:
            better = ladder[index - 1]
            roomy = bandwidth is None or bandwidth >= ROOMY * better.bitrate
            if roomy and cpu_load < CPU_LOW:
                self._good_since = now if self._good_since is None else self._good_since
                if now - self._good_since >= UP_HOLD:
                    index, self._changed_at, self._good_since = index - 1, now, None
            else:
                self._good_since = None
        self._index = index
        self.quality = self._make(ladder[index], bandwidth)
        return self.quality

    def _make(self, rung: Rung, bandwidth: int | None) -> Quality:
        width, height, _ = self.capture
        out_h = min(rung.height, height)
        out_w = max(2, round(width * out_h / height / 2) * 2)
        bitrate = rung.bitrate
        if bandwidth is not None:
            bitrate = max(rung.bitrate // 2, min(bitrate, int(0.9 * bandwidth) // 1000 * 1000))
        return Quality(out_w, out_h, rung.fps, bitrate)
