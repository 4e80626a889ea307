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
import contextlib
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject

from app.ui.main_thread_gc import MainThreadGc

T = TypeVar("T")
SWITCH_S = 0.001  # GIL hand-over interval while the GUI and a call engine share it


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


class LoopStopped(RuntimeError):
    """Qt stopped its loop before the program was done: the window system went away (the
    X server died, the session ended)."""


def run_in_qt_loop(app: QCoreApplication, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh Qt loop, then tear the loop down safely.
    LoopStopped if Qt stopped the loop first (``coro`` is then cancelled, with a few seconds
    for its clean-up)."""
    with qt_loop(app) as loop:
        task = loop.create_task(coro)
        try:
            result: T = loop.run_until_complete(task)
        except RuntimeError as exc:
            if task.done():
                raise
            task.cancel()  # its clean-up (rooms closed, goodbyes said) gets a last chance
            with contextlib.suppress(RuntimeError):
                loop.run_until_complete(asyncio.wait([task], timeout=CLEANUP_S))
            for left in asyncio.all_tasks(loop):  # what could not finish: dropped quietly
                left._log_destroy_pending = False  # type: ignore[attr-defined]
            raise LoopStopped(str(exc)) from None
        return result
