"""Cyclic garbage is collected on the Qt thread, never on a worker thread.

CPython runs its cycle collector in whichever thread happens to cross the allocation threshold.
In this app that is often a worker: a camera or screen grabber, one of aiortc's decoder threads,
zeroconf's thread. If the garbage it finds holds a Qt object (a closed qasync loop's socket
notifiers and timer, a tile, a dialog's children), that object's C++ destructor then runs on
the wrong thread while the GUI thread's event dispatcher may still point at it, and the next
``processEvents`` dereferences freed memory: a segfault long after the cause. The remedy
(the one pyqtgraph ships) is to turn the automatic collector off and collect from a Qt timer,
with the same generational thresholds, so finalizers only ever run on the GUI thread.
Reference counting, which frees nearly everything, is unaffected.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 250


class MainThreadGc(QObject):
    """Owns the process's cycle collection while started; ``close()`` gives it back."""

    def __init__(self, interval_ms: int = CHECK_INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._was_enabled = False
        self._started = False
        self.collections = 0  # how many times check() collected (for tests and diagnostics)

    @property
    def running(self) -> bool:
        return self._started

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()

    def check(self) -> int:
        """Collect the oldest generation whose count is over its threshold; objects freed."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            limit = thresholds[generation] if generation < len(thresholds) else 0
            if limit and counts[generation] > limit:
                self.collections += 1
                return gc.collect(generation)
        return 0

    def close(self) -> None:
        """Stop the timer, collect once here, and hand collection back to CPython. Idempotent."""
        if not self._started:
            return
        self._started = False
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
