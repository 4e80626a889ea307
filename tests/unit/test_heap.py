"""heap.give_back: memory freed on another thread goes back to the system (glibc)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.media import heap


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_memory_a_thread_freed_is_given_back() -> None:
    last: list[object] = []

    def churn() -> None:  # what a capture thread does: many frame-sized buffers, then gone
        buffers = [np.ones(60_000, np.uint8) for _ in range(3000)]  # ~180 MB, under mmap size
        last.append(buffers[-1])  # one still in use at the top: glibc trims nothing by itself
        del buffers

    thread = threading.Thread(target=churn)
    thread.start()
    thread.join()
    kept = rss_mb()
    if not heap.give_back():
        pytest.skip("not glibc")
    assert rss_mb() < kept - 100, (kept, rss_mb())
