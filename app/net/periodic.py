"""Periodic: one background task that runs a step every ``interval`` seconds until stopped.

A step that raises is logged and the next one still runs on time. ``start()`` needs a running
event loop and does nothing if the task already runs; ``stop()`` cancels and awaits it and is
idempotent (a task that died of an error is logged when it did, not raised again). The rendezvous
sweeps expired rooms with one, HostService its meetings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, step: Callable[[], Awaitable[None]], interval: float, name: str) -> None:
        self.name = name
        self._step, self._interval = step, interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
            self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # (said when it happens)
            log.error("%s stopped: %r", self.name, task.exception())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # (an error was logged: _ended)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._step()
            except Exception:
                log.exception("%s: step failed", self.name)
