"""A closed qasync loop's Qt objects die on the Qt thread, whoever collects the loop later.

Each case runs in a child process: the hazard it guards against ends in a segfault.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys

import shiboken6
from PySide6.QtWidgets import QApplication

from app.ui.qt_loop import qt_loop, run_in_qt_loop

CHILD = """
import asyncio, gc, sys, threading, time
import qasync
from PySide6.QtCore import QCoreApplication
from app.ui.qt_loop import close_loop

app = QCoreApplication([])
for _ in range(5):
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def main() -> None:
        for k in range(20):  # timers still pending when the loop closes
            asyncio.get_running_loop().call_later(0.05 + k * 0.002, lambda: None)
        await asyncio.sleep(0.01)

    loop.run_until_complete(main())
    asyncio.set_event_loop(None)
    if sys.argv[1] == "close_loop":
        close_loop(loop)
        close_loop(loop)  # idempotent
    else:
        loop.close()
    del loop
    worker = threading.Thread(target=gc.collect)  # the loop is a cycle: collected over there
    worker.start()
    worker.join()
    end = time.monotonic() + 0.2
    while time.monotonic() < end:  # the timers would have fired by now
        app.processEvents()
print("survived")
"""


def run_child(mode: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-c", CHILD, mode], capture_output=True, text=True, env=env, timeout=60
    )


def test_close_loop_leaves_no_timer_for_another_thread() -> None:
    done = run_child("close_loop")
    assert done.returncode == 0, done.stderr
    assert "survived" in done.stdout
    assert "Timers cannot be stopped from another thread" not in done.stderr


def test_plain_close_leaves_timers_a_worker_thread_destroys() -> None:
    done = run_child("plain")
    assert "Timers cannot be stopped from another thread" in done.stderr  # the hazard is real


def test_qt_loop_collects_on_the_qt_thread_and_leaves_nothing_behind(qapp: QApplication) -> None:
    was_enabled = gc.isenabled()

    async def pending_timer() -> bool:
        asyncio.get_running_loop().call_later(60, lambda: None)  # still pending at the end
        return gc.isenabled()

    with qt_loop(qapp) as loop:
        assert loop.run_until_complete(pending_timer()) is False  # the Qt thread collects
        timer = loop._timer
    assert loop.is_closed() and not shiboken6.isValid(timer)
    assert gc.isenabled() == was_enabled
    assert run_in_qt_loop(qapp, pending_timer()) is False


def test_a_closed_loop_drops_what_is_scheduled_on_it_after(qapp: QApplication) -> None:
    """A coroutine left half run is finalised by the garbage collector, maybe once its loop
    is closed; its clean-up may schedule a callback (a transport closed calls call_soon), which
    qasync gave to its Qt timer, destroyed with the loop: "Internal C++ object (_SimpleTimer)
    already deleted", a traceback as the app stopped."""

    async def half_run(loop: asyncio.AbstractEventLoop, opened: asyncio.Future[None]) -> None:
        try:
            await opened
        finally:  # (as asyncio's create_datagram_endpoint does, on its way out)
            loop.call_soon(lambda: None)

    with qt_loop(qapp) as loop:
        coro = half_run(loop, loop.create_future())
        coro.send(None)  # (run up to its await, as a task had)
    coro.close()  # (the garbage collector's finalisation, after the loop closed)
    assert loop.call_soon(lambda: None).cancelled()
