"""Receive-side measurements for headless runs and benchmarks (no Qt, no effect on the call).

``tap(peer_id, kind, track)`` wraps each remote video track: every frame's arrival time and,
when it carries a synthetic-camera stamp, its glass-to-glass latency (wall clock now minus the
capture time in the stamp; all peers on one machine share the clock). A sampler task records
event-loop lag every LAG_PERIOD and each stream's received bytes every second. ``stats()`` gives
raw series (wall-clock ms) so a benchmark can cut one common window out of every process.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import MediaStreamTrack

from app.media.synthetic import read_stamp

LAG_PERIOD = 0.05  # s
BYTES_EVERY = 20  # lag samples (1 s)


def _wall_ms() -> float:
    return time.time() * 1000.0


class _Probe(MediaStreamTrack):
    """Passes a remote video track's frames on, noting when each came and how late it was."""

    def __init__(self, inner: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = inner.kind
        self.inner = inner
        self.frames: list[tuple[float, float | None]] = []  # (arrival ms, latency ms)
        self.bytes: list[tuple[float, int]] = []

    async def recv(self) -> Any:
        frame = await self.inner.recv()
        now = _wall_ms()
        latency = None
        if isinstance(frame, av.VideoFrame):
            stamp = read_stamp(frame)
            if stamp is not None:
                latency = (int(now) - stamp[1]) % 2**32
                latency = latency if latency < 60_000 else None  # clocks apart: not a reading
        self.frames.append((round(now, 1), latency))
        return frame

    def stop(self) -> None:
        super().stop()
        self.inner.stop()


class CallMetrics:
    """Owns one sampler task (started by ``start``); ``aclose()`` is idempotent."""

    def __init__(self, rx_bytes: Callable[[MediaStreamTrack], int | None] | None = None) -> None:
        self._rx_bytes = rx_bytes or (lambda track: None)
        self.start_wall_ms: float | None = None
        self._probes: dict[str, tuple[str, str, _Probe]] = {}
        self._lags: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Note the start (link in hand) and begin sampling; call with the loop running."""
        if self.start_wall_ms is None:
            self.start_wall_ms = _wall_ms()
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._sample(), name="metrics")

    def tap(self, peer_id: str, kind: str, track: MediaStreamTrack) -> MediaStreamTrack:
        if kind == "audio":
            return track
        probe = _Probe(track)
        key = f"{peer_id}/{kind}"
        if key in self._probes:  # the peer reconnected: keep the old series under another key
            self._probes[f"{key}#{len(self._probes)}"] = self._probes.pop(key)
        self._probes[key] = (peer_id, kind, probe)
        return probe

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        count = 0
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PERIOD)
            lag = (loop.time() - before - LAG_PERIOD) * 1000
            self._lags.append((round(_wall_ms(), 1), round(max(0.0, lag), 2)))
            count += 1
            if count % BYTES_EVERY == 0:
                for _, _, probe in self._probes.values():
                    got = self._rx_bytes(probe.inner)
                    if got is not None:
                        probe.bytes.append((round(_wall_ms(), 1), got))

    def stats(self) -> dict[str, Any]:
        streams = {
            key: {
                "peer": peer,
                "kind": kind,
                "first_wall_ms": probe.frames[0][0] if probe.frames else None,
                "frames": probe.frames,
                "bytes": probe.bytes,
            }
            for key, (peer, kind, probe) in self._probes.items()
        }
        return {"start_wall_ms": self.start_wall_ms, "loop_lag": self._lags, "streams": streams}

    async def aclose(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
