"""The asyncio loop on the Qt thread: created, run and torn down in one place.

Two hazards make tearing a qasync loop down more than ``loop.close()``:

* ``QEventLoop.close()`` only marks its timer object stopped. Every ``call_later`` still pending
  stays registered with the GUI thread's event dispatcher, and the loop is always a reference
  cycle (its call-soon signal is connected to a lambda that holds the loop). So the timer's C++
  object dies whenever the cycle collector next runs, which can be on a camera, decoder or
  zeroconf thread: Qt cannot stop timers from another thread ("QObject::~QObject: Timers cannot
  be stopped from another thread") and the next ``processEvents`` fires a timer on freed memory,
  a segfault far from the cause. :func:`close_loop` kills the timers and destroys the loop's Qt
  objects on the Qt thread, right away.
* Any other Qt object caught in a reference cycle has the same problem, so while a loop runs the
  cycle collector is moved to the Qt thread (:class:`app.ui.main_thread_gc.MainThreadGc`).

While the loop runs, the GIL is handed between threads every SWITCH_S instead of Python's 5 ms:
a call's engine (app.meeting.engine) runs on a thread of its own, and each time it wakes for a
packet or a timer while the GUI thread runs Python it waits for the GIL up to one interval.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject

from app.ui.main_thread_gc import MainThreadGc

T = TypeVar("T")
SWITCH_S = 0.001  # GIL hand-over interval while the GUI and a call engine share it
ALL_EVENTS = QEventLoop.ProcessEventsFlag.AllEvents


def _destroy(obj: object) -> None:
    if isinstance(obj, QObject) and shiboken6.isValid(obj):
        shiboken6.delete(obj)


def close_loop(loop: qasync.QEventLoop) -> None:
    """Close ``loop`` and destroy its Qt objects on this (the Qt) thread. Idempotent."""
    if not loop.is_closed():
        loop.close()
    timer = getattr(loop, "_timer", None)
    callbacks = getattr(timer, "_SimpleTimer__callbacks", None)
    if isinstance(timer, QObject) and shiboken6.isValid(timer) and isinstance(callbacks, dict):
        for timer_id in list(callbacks):
            timer.killTimer(timer_id)
        callbacks.clear()
    _destroy(timer)
    _destroy(getattr(loop, "_QEventLoop__call_soon_signaller", None))
    loop._timer = _Closed()


class _Closed:
    """A closed loop's timer: what is scheduled on the loop once it is closed is dropped (it
    would never run). A coroutine left half run is finalised by the garbage collector, maybe
    after the loop closed, and its clean-up may schedule a callback (a transport closed calls
    call_soon): qasync handed it to its Qt timer, destroyed by then, and the app stopped with
    "Internal C++ object (_SimpleTimer) already deleted" instead of its one line."""

    def add_callback(self, handle: asyncio.Handle, delay: float = 0) -> asyncio.Handle:
        handle.cancel()
        return handle


@contextmanager
def qt_loop(app: QCoreApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop set as the current loop, with cycle collection on the Qt thread."""
    gc_guard = MainThreadGc()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    gc_guard.start()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_S)
    try:
        yield loop
    finally:
        sys.setswitchinterval(switch)
        asyncio.set_event_loop(None)
        close_loop(loop)
        gc_guard.close()  # collects once here, on the Qt thread, then hands collection back
        _destroy(gc_guard)


CLEANUP_S = 3.0  # s given to the clean-up after Qt stopped the loop by itself
LEFT_S = 1.0  # s then given to the tasks left over (cancelled) to end


class LoopStopped(RuntimeError):
    """Qt stopped its loop before the program was done: the window system went away (the
    X server died, the session ended)."""


def run_in_qt_loop(app: QCoreApplication, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh Qt loop, then tear the loop down safely.
    LoopStopped if Qt stopped the loop first: ``coro`` is then cancelled, with a few seconds
    for its clean-up, and every task left after it too (none is left half run, to be finished
    by the garbage collector once the loop is gone)."""
    with qt_loop(app) as loop:
        task: asyncio.Task[T] = loop.create_task(coro)
        task.add_done_callback(lambda _: loop.stop())
        # (not qasync's run_until_complete: once Qt's loop stops it processes Qt's events
        # once more with no running loop set, and a task woken then failed, its exception
        # logged at exit: "no running event loop")
        loop.run_forever()
        if task.done():
            return task.result()
        task.cancel()  # its clean-up (rooms closed, goodbyes said) gets a last chance
        run_down(loop, {task}, CLEANUP_S)
        left = asyncio.all_tasks(loop)  # (a library's, still starting up: zeroconf's)
        for each in left:
            each.cancel()
        run_down(loop, left, LEFT_S)
        for each in asyncio.all_tasks(loop):  # what could not finish: dropped quietly
            each._log_destroy_pending = False  # type: ignore[attr-defined]
        raise LoopStopped("Qt's event loop stopped before the program was done")


def run_down(loop: qasync.QEventLoop, tasks: set[asyncio.Task[Any]], within: float) -> None:
    """Run ``loop`` until ``tasks`` are done, ``within`` seconds at most, processing Qt's
    events here: Qt's own loop does not run while its window system is gone (every start
    of it sees the broken connection and stops it again at once: the clean-up got 1 ms)."""
    deadline = time.monotonic() + within
    wake = loop.call_later(within, lambda: None)  # (an event to wait for, at the latest)
    asyncio._set_running_loop(loop)
    try:
        while not all(task.done() for task in tasks) and time.monotonic() < deadline:
            QCoreApplication.processEvents(
                ALL_EVENTS | QEventLoop.ProcessEventsFlag.WaitForMoreEvents
            )
    finally:
        asyncio._set_running_loop(None)
        wake.cancel()
