"""Reads one remote video track: counts frames, keeps only the newest one for display.

The UI paints ``latest`` when it wants to; nothing queues, so a slow screen never builds delay.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)


class RemoteVideo:
    def __init__(
        self,
        track: MediaStreamTrack,
        on_first_frame: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.frames = 0
        self.latest: Any = None  # av.VideoFrame
        self.first_at: float | None = None
        self._clock = clock
        self._recent: deque[float] = deque()  # arrival times, the last two seconds
        self._on_first_frame = on_first_frame
        self._task = asyncio.get_running_loop().create_task(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            now = self._clock()
            self.frames += 1
            self.latest = frame
            self._recent.append(now)
            while now - self._recent[0] >= 2.0:
                self._recent.popleft()
            if self.first_at is None:
                self.first_at = now
                if self._on_first_frame is not None:
                    self._on_first_frame()

    @property
    def fps(self) -> float:
        """Frames per second over the last two seconds."""
        now = self._clock()
        recent = [t for t in self._recent if now - t < 2.0]
        return len(recent) / 2.0

    async def close(self) -> None:
        if not self._task.done():
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:  # a broken track must not break leaving
            log.exception("remote video reader failed")
