"""Re-NACK: ask again for a video packet whose retransmission was lost as well.

aiortc's receiver sends a NACK for a packet once, when the gap first opens. If that NACK or the
retransmission (RTX) is lost too, nobody asks again and the jitter buffer (app.net.jitter) ends
up skipping to the next keyframe: at 10 % loss about one lost packet in ten costs a keyframe.

``RenackPolicy`` is the pure, clock-injected part: given the packets still missing (from the
jitter buffer, which drops those whose frame it has given up on) and the time, it says which to
NACK again: each one an interval after the last ask (``RTT_FACTOR`` round trips, at least
``MIN_INTERVAL``), at most ``MAX_ASKS`` times, and only while the sender still has it.
``Renacker`` is the thin adapter for one aiortc receiver: one task, started by the first hole and
woken by later ones, that sleeps until the policy's next due time and sends what is due through
the receiver's own ``_send_rtcp_nack``. ``aclose()`` (idempotent) stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

MAX_ASKS = 3  # NACKs per packet after aiortc's first one; 0 turns re-NACK off
MIN_INTERVAL = 0.025  # s between asks at least, however short the round trip
RTT_FACTOR = 1.25  # a retransmission not here after this many round trips is taken as lost
DEFAULT_RTT = 0.05  # s, until the connection has measured one
SENDER_HISTORY = 128  # packets aiortc's sender keeps for retransmission (RTP_HISTORY_SIZE)


class RenackPolicy:
    """Which missing packets to NACK again, and when. Works on extended (unwrapped) sequence
    numbers as the jitter buffer keeps them; ``due`` returns 16-bit ones."""

    def __init__(self, max_asks: int | None = None, min_interval: float = MIN_INTERVAL) -> None:
        self.max_asks = MAX_ASKS if max_asks is None else max_asks
        self.min_interval = min_interval
        self._asked: dict[int, tuple[float, int]] = {}  # ext -> (last asked at, re-asks so far)
        self.asked = 0  # re-NACKs sent, in packets

    def interval(self, rtt: float | None) -> float:
        return max(self.min_interval, RTT_FACTOR * (DEFAULT_RTT if rtt is None else rtt))

    def _pending(self, missing: Mapping[int, float], highest: int | None) -> dict[int, float]:
        """Missing packets with asks left that the sender can still resend -> last asked at
        (aiortc's own NACK went out when the hole was first seen)."""
        oldest = -1 if highest is None else highest - SENDER_HISTORY
        out = {}
        for ext, seen in missing.items():
            at, asks = self._asked.get(ext, (seen, 0))
            if asks < self.max_asks and ext > oldest:
                out[ext] = at
        return out

    def next_at(
        self, missing: Mapping[int, float], rtt: float | None, highest: int | None = None
    ) -> float | None:
        """When the next re-NACK is due (clock time), or None if none will be."""
        pending = self._pending(missing, highest)
        return min(pending.values()) + self.interval(rtt) if pending else None

    def due(
        self,
        missing: Mapping[int, float],
        now: float,
        rtt: float | None,
        highest: int | None = None,
    ) -> list[int]:
        """Sequence numbers to NACK now, ascending (as aiortc's NACK packing needs), and noted as
        asked. Packets no longer missing (arrived, skipped, expired) are forgotten."""
        self._asked = {e: v for e, v in self._asked.items() if e in missing}
        wait = self.interval(rtt)
        due = [e for e, at in self._pending(missing, highest).items() if now - at >= wait]
        for ext in due:
            self._asked[ext] = (now, self._asked.get(ext, (0.0, 0))[1] + 1)
        self.asked += len(due)
        return sorted({ext & 0xFFFF for ext in due})


class Renacker:
    """Re-NACK for one video receiver, driven by its VideoJitterBuffer (sets ``on_hole``)."""

    def __init__(
        self,
        receiver: Any,
        buffer: Any,
        rtt: Callable[[], float | None] = lambda: None,
        *,
        policy: RenackPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,  # the jitter buffer's clock
    ) -> None:
        self._receiver, self._buffer, self._rtt, self._clock = receiver, buffer, rtt, clock
        self.policy = policy or RenackPolicy()
        self._ssrc: int | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        if self.policy.max_asks > 0:
            buffer.on_hole = self._hole_opened

    def _hole_opened(self, packet: Any) -> None:
        if self._closed:
            return
        self._ssrc = packet.ssrc  # the media SSRC (aiortc unwraps RTX before the buffer)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()

    async def _run(self) -> None:
        try:
            while True:
                at = self.policy.next_at(self._buffer.missing(), self._rtt(), self._buffer.highest)
                timeout = None if at is None else max(0.0, at - self._clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
                lost = self.policy.due(
                    self._buffer.missing(), self._clock(), self._rtt(), self._buffer.highest
                )
                if lost and self._ssrc is not None:
                    await self._receiver._send_rtcp_nack(self._ssrc, lost)
        except Exception:
            log.exception("re-NACK failed; lost retransmissions are not asked for again")

    async def aclose(self) -> None:
        """Stop (idempotent); nothing is left running afterwards."""
        self._closed = True
        if self._buffer.on_hole == self._hole_opened:
            self._buffer.on_hole = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def sender_rtt(pc: Any) -> float | None:
    """The connection's round trip (s) as aiortc's senders estimate it from the peer's receiver
    reports (a private attribute in aiortc 1.16), or None until one is known."""
    rtts = [getattr(s, "_RTCRtpSender__rtt", None) for s in pc.getSenders()]
    known = [r for r in rtts if isinstance(r, float) and r > 0]
    return min(known) if known else None


def attach(pc: Any, receiver: Any, buffer: Any) -> Renacker:
    """Re-NACK for ``receiver`` of ``pc``, whose jitter buffer is ``buffer``."""
    return Renacker(receiver, buffer, lambda: sender_rtt(pc))
