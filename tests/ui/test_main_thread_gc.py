"""Cycle collection runs on the Qt thread only, so Qt objects are never destroyed on a worker."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from app.ui.main_thread_gc import MainThreadGc


class Cycle:
    """A reference cycle whose finalizer notes which thread the collector ran on."""

    def __init__(self, seen: list[str]) -> None:
        self.seen = seen
        self.me = self

    def __del__(self) -> None:
        self.seen.append(threading.current_thread().name)


def busy_worker(kept: list[list[int]]) -> Callable[[], None]:
    def work() -> None:
        for i in range(20_000):  # far past generation 0's threshold of container allocations
            kept.append([i])

    return work


def garbage_then_worker(kept: list[list[int]]) -> list[str]:
    """A cycle becomes garbage, then a worker allocates (and keeps) many containers."""
    seen: list[str] = []
    gc.collect()
    Cycle(seen)  # unreachable at once: only the cycle collector can free it
    worker = threading.Thread(target=busy_worker(kept), name="busy-worker")
    worker.start()
    worker.join()
    return seen


def test_without_it_a_worker_thread_runs_the_collector() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        assert garbage_then_worker([]) == ["busy-worker"]  # the hazard this module removes
    finally:
        if not was_enabled:
            gc.disable()


def test_collection_moves_to_the_qt_thread_and_close_gives_it_back(qtbot: QtBot) -> None:
    guard = MainThreadGc(interval_ms=20)
    was_enabled = gc.isenabled()
    guard.start()
    try:
        assert guard.running and not gc.isenabled()
        guard.start()  # idempotent
        kept: list[list[int]] = []  # alive until the check: the collector counts net allocations
        seen = garbage_then_worker(kept)
        assert seen == []  # the worker allocated plenty, but did not collect
        qtbot.waitUntil(lambda: seen != [], timeout=3000)
        assert seen == [threading.main_thread().name]
    finally:
        guard.close()
    assert not guard.running and gc.isenabled() == was_enabled
    guard.close()  # idempotent
    assert gc.isenabled() == was_enabled
