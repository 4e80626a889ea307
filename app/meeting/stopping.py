"""The command line's Ctrl-C and SIGTERM while something is still under way (joining, knocking,
creating a room): stop now, not when that thing's own timeout runs out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event, said: Callable[[], None]) -> T:
    """``work``'s result, unless ``stop`` is set first: then ``work`` is cancelled, ``said()``
    tells the person, and KeyboardInterrupt is raised."""
    task, stopped = asyncio.ensure_future(work), asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if task.cancelled():
        said()
        raise KeyboardInterrupt
    return task.result()
