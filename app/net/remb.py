"""aiortc's receive-side bandwidth estimator (REMB) at a fraction of the cost.

aiortc 1.16 feeds every received video packet to a ``RemoteBitrateEstimator``. Two of its parts
cost far more than they need to: the incoming-bitrate counter keeps 1000 one-millisecond
buckets and clears them one at a time as time passes (about 30 Python steps per packet at
30 fps, twice), and the overuse estimator takes the minimum of its 60-entry history element by
element for every frame. ``Estimator`` is the same estimator with those two parts rewritten
(the counter keeps a queue of (ms, bytes) and drops what has left the window, the minimum is one
``min()``: same figures) and fed once per frame instead of once per packet.
tests/unit/test_remb.py checks it against aiortc's.
"""

from __future__ import annotations

from collections import deque

from aiortc.rate import (
    MIN_FRAME_PERIOD_HISTORY_LENGTH,
    OveruseEstimator,
    RateBucket,
    RateCounter,
    RemoteBitrateEstimator,
)

_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"  # aiortc 1.16's private attribute


class WindowCounter(RateCounter):
    """aiortc's RateCounter: bytes over the last ``window_size`` ms, scaled to bit/s. The same
    figures as long as time does not go back (the estimator is fed receipt times); if it does,
    an entry just leaves the window a little late."""

    def reset(self) -> None:
        self._entries: deque[tuple[int, int]] = deque()
        self._origin_index = 0
        self._origin_ms: int | None = None
        self._total = RateBucket()

    def add(self, value: int, now_ms: int) -> None:
        if self._origin_ms is None:
            self._origin_ms = now_ms
        else:
            self._erase_old(now_ms)
        self._entries.append((now_ms, value))
        self._total.count += 1
        self._total.value += value

    def _erase_old(self, now_ms: int) -> None:
        new_origin_ms = now_ms - self._window_size + 1
        assert self._origin_ms is not None
        if self._origin_ms >= new_origin_ms:
            return
        entries, total = self._entries, self._total
        while entries and entries[0][0] < new_origin_ms:
            total.count -= 1
            total.value -= entries.popleft()[1]
        self._origin_ms = new_origin_ms


class _Overuse(OveruseEstimator):
    def update_min_frame_period(self, ts_delta: float) -> float:
        history = self.ts_delta_hist
        if len(history) >= MIN_FRAME_PERIOD_HISTORY_LENGTH:
            history.pop(0)
        smallest = min(history, default=ts_delta)
        history.append(ts_delta)
        return min(smallest, ts_delta)


class Estimator(RemoteBitrateEstimator):
    """Fed once per frame: the packets of one frame share their abs-send-time (DirectSender
    stamps them together), so they make one group for the inter-arrival filter anyway; they
    are summed and passed on when the next frame's first packet comes (its estimate, if any,
    is returned then, a frame later)."""

    def __init__(self) -> None:
        super().__init__()
        self.incoming_bitrate = WindowCounter(1000, 8000)
        self.estimator = _Overuse()
        self._pending: list[int] | None = None  # arrival ms, abs-send-time, bytes, ssrc

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        pending = self._pending
        if pending is not None and pending[1] == abs_send_time and pending[3] == ssrc:
            pending[0] = max(pending[0], arrival_time_ms)
            pending[2] += payload_size
            return None
        self._pending = [arrival_time_ms, abs_send_time, payload_size, ssrc]
        if pending is None:
            return None
        return super().add(pending[0], pending[1], pending[2], pending[3])


def install(receiver: object) -> None:
    """Give a video receiver the cheaper estimator (aiortc gives audio receivers none)."""
    if getattr(receiver, _ESTIMATOR, None) is not None:
        setattr(receiver, _ESTIMATOR, Estimator())
