"""Task ownership: every background task belongs to exactly one TaskOwner, which cancels and
awaits them all in ``close()``. ``for_peer`` runs work for one key strictly in arrival order
(signaling for one peer must not interleave) without blocking other keys."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)
Work = Coroutine[Any, Any, None]


class TaskOwner:
    def __init__(self, on_error: Callable[[BaseException], None] | None = None) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._locks: dict[str, asyncio.Lock] = {}
        self._on_error = on_error
        self.closed = False

    def spawn(self, work: Work, *inner: Work) -> None:
        """Run ``work`` in a task of ours. ``inner``: coroutines ``work`` awaits, closed with it
        if the task is cancelled before it ran them (no "never awaited" warnings at close)."""
        if self.closed:
            for coro in (work, *inner):
                coro.close()
            return
        task = asyncio.get_running_loop().create_task(self._guard(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda done: _close_if_cancelled(done, (work, *inner)))

    def for_peer(self, key: str, work: Work) -> None:
        self.spawn(self.serial(key, work), work)

    async def serial(self, key: str, work: Work) -> None:
        """Run ``work`` now, in turn with the work of ``key`` (awaited by the caller)."""
        try:
            async with self._locks.setdefault(key, asyncio.Lock()):
                await work
        finally:
            work.close()  # (a no-op once run; else cancelled waiting its turn: never awaited)

    async def _guard(self, work: Work) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._on_error is not None:
                self._on_error(exc)
            else:
                log.exception("background task failed")

    async def close(self) -> None:
        """Cancel and await every task except the caller's own. Idempotent."""
        self.closed = True
        current = asyncio.current_task()
        others = [t for t in self._tasks if t is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        self._locks.clear()

    def __len__(self) -> int:
        return len(self._tasks)


def _close_if_cancelled(task: asyncio.Task[None], coros: tuple[Work, ...]) -> None:
    if task.cancelled():
        for coro in coros:
            coro.close()  # (a no-op for one that ran to its end)
