"""Soak: 50 join/leave cycles in one process leave no growing tasks, threads or sockets.

A host stays in the room; each cycle a new guest (own media, own session) joins, gets video
both ways, and leaves. Resources are counted after a warm-up and again at the end. (Video at
30 fps, tiny: each cycle waits for two frames each way, 100 ms apart at 10 fps.)
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import Callable

import pytest

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media, close_media
from app.meeting.links import Link, new_secret
from app.meeting.session import Session
from app.net.rendezvous import RendezvousServer

pytestmark = [pytest.mark.usefixtures("loopback"), pytest.mark.timeout(420)]
CYCLES, WARMUP = 50, 10


def config(name: str) -> EngineConfig:
    return EngineConfig(display_name=name, loopback_only=True)


async def until(check: Callable[[], bool], limit: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _threads() -> int:
    """Threads, not counting the event loop's default executor: a pool that grows on demand
    up to its fixed maximum (getaddrinfo, aiortc's DTLS helpers), so it cannot leak."""
    pool = [t for t in threading.enumerate() if t.name.startswith("asyncio_")]
    assert len(pool) <= min(32, (os.cpu_count() or 1) + 4)
    return threading.active_count() - len(pool)


async def settle() -> tuple[int, int, int]:
    """(tasks, threads, open file descriptors) once the dust has settled."""
    await asyncio.sleep(0.5)
    gc.collect()
    await asyncio.sleep(0.1)
    return len(asyncio.all_tasks()), _threads(), len(os.listdir("/proc/self/fd"))


async def test_fifty_join_leave_cycles_leak_nothing() -> None:
    server = RendezvousServer("127.0.0.1", 0)
    await server.start()
    link = Link("127.0.0.1", server.port, "soak", new_secret())
    host_media = build_media(MediaOptions(True, 160, 120, 30, label="host"))
    host = Session(config("host"), host_media)
    counts: dict[int, tuple[int, int, int]] = {}
    try:
        await host.create(link, "small", 3600)
        for cycle in range(1, CYCLES + 1):
            media = build_media(MediaOptions(True, 160, 120, 30, label=f"g{cycle}"))
            guest = Session(config(f"guest{cycle}"), media)
            try:
                await guest.join(link)
                me = guest.my_id
                await until(lambda: host_media.video_frames(me) > 1)  # noqa: B023
                await until(lambda: media.video_frames(host.my_id) > 1)  # noqa: B023
            finally:
                await guest.leave()
                await close_media(media)
            await until(lambda: not host.peers)
            if cycle in (WARMUP, CYCLES):
                counts[cycle] = await settle()
        (tasks0, threads0, fds0), (tasks1, threads1, fds1) = counts[WARMUP], counts[CYCLES]
        report = f"after {WARMUP} cycles {counts[WARMUP]}, after {CYCLES} {counts[CYCLES]}"
        assert tasks1 <= tasks0 + 2, "tasks grew: " + report
        assert threads1 <= threads0, "threads grew: " + report
        assert fds1 <= fds0 + 3, "file descriptors grew: " + report
    finally:
        await host.leave()
        await close_media(host_media)
        await server.close()
