"""SpeakerQueue: feeds a QAudioSink in push mode without ever blocking the GUI thread.

Audio (already in the device's format) waits in a small queue and is written as ``bytesFree``
allows, retried every FLUSH_MS while some is left. After the device runs dry, PREBUFFER_MS is
gathered before writing again, which absorbs GUI-thread hiccups; more than RING_MS queued is
dropped, oldest first. QtAudioIO (app.ui.audio_io) opens the sink and hands it over.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QIODevice, QObject, QTimer
from PySide6.QtMultimedia import QAudioFormat, QAudioSink

from app.media.audio import RING_MS

PREBUFFER_MS = 40  # speaker audio gathered before (re)starting: absorbs GUI-thread hiccups
FLUSH_MS = 10  # while audio waits for room in the device, retry this often


class SpeakerQueue:
    def __init__(self, parent: QObject) -> None:
        self.sink: QAudioSink | None = None
        self._io: QIODevice | None = None
        self._pending = bytearray()  # audio (device format) waiting for bytesFree
        self._cap = 0
        #: bytes dropped because more than ~200 ms was queued
        self.dropped = 0
        #: times the speaker ran dry (an audible gap; then PREBUFFER_MS is gathered again)
        self.underruns = 0
        self._primed = False  # the speaker got its PREBUFFER_MS cushion since it last ran dry
        self._prebuffer = 0
        self._alive = 0.0  # when the device last took audio (or audio started waiting)
        self._timer = QTimer(parent)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

    def attach(self, sink: QAudioSink, io: QIODevice, fmt: QAudioFormat) -> None:
        """Feed ``sink`` (started in push mode, writing to ``io``) from now on."""
        self.sink, self._io = sink, io
        self._cap = fmt.bytesForDuration(RING_MS * 1000)
        self._prebuffer = fmt.bytesForDuration(PREBUFFER_MS * 1000)
        self._primed = False
        self._alive = time.monotonic()

    def detach(self) -> None:
        """Forget the sink and whatever audio was waiting for it."""
        self.sink, self._io = None, None
        self._pending.clear()
        self._timer.stop()

    def push(self, data: bytes) -> None:
        """Queue audio in the device's format. Never blocks; keeps <= ~200 ms."""
        if self.sink is None:
            return
        if not self._pending:  # the stall clock runs only while audio waits
            self._alive = time.monotonic()
        self._pending += data
        if self._primed and self.sink.bytesFree() >= self.sink.bufferSize():
            self._primed = False  # Qt's buffer is empty: the device ran (or runs) dry
            self.underruns += 1
        excess = len(self._pending) - self._cap
        if excess > 0:
            bpf = self.sink.format().bytesPerFrame()
            excess += -excess % bpf  # whole device frames only
            del self._pending[:excess]
            self.dropped += excess
        self.flush()

    def flush(self) -> None:
        sink, io = self.sink, self._io
        if sink is None or io is None:
            self._pending.clear()
        elif not self._primed and len(self._pending) < self._prebuffer:
            return  # gather a cushion first; push() calls again
        else:
            self._primed = True
            n = min(sink.bytesFree(), len(self._pending))
            n -= n % sink.format().bytesPerFrame()
            if n > 0:
                written = io.write(bytes(self._pending[:n]))
                if written > 0:
                    del self._pending[:written]
                    self._alive = time.monotonic()
        if self._pending and not self._timer.isActive():
            self._timer.start()
        elif not self._pending:
            self._timer.stop()

    def stuck_for(self, now: float) -> float:
        """How long queued audio has waited without the device taking any (0: none waits)."""
        return now - self._alive if self.sink is not None and self._pending else 0.0

    @property
    def queued_ms(self) -> float:
        """Audio queued here (not yet handed to the device), in ms."""
        sink = self.sink
        return sink.format().durationForBytes(len(self._pending)) / 1000 if sink else 0.0
