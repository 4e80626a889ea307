"""The wait both queue-fed tracks share: the feed or the shared encoder appends items and sets
the event; the peer's sender awaits the next one until the track is stopped."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TypeVar

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

T = TypeVar("T")


async def next_item(track: MediaStreamTrack, queue: deque[T], ready: asyncio.Event) -> T:
    """The oldest queued item, waiting for one; MediaStreamError once the track has ended."""
    while not queue:
        if track.readyState != "live":
            raise MediaStreamError
        ready.clear()
        await ready.wait()
    if track.readyState != "live":
        raise MediaStreamError
    return queue.popleft()
