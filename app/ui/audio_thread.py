"""AudioThread: a call's microphone and speaker (QtAudioIO) on a Qt thread of their own.

QtAudioIO feeds the speaker and reads the microphone from its thread's event loop. On the GUI
thread, a dialog opening or a heavy relayout (50-200 ms) would leave the speaker without audio
(an audible gap) and the microphone unread; on a thread of their own they keep time whatever the
GUI does. The call's engine writes speaker audio from its own thread (QtAudioIO.write queues it
here) and reads the microphone ring (thread-safe).

``open`` builds the QtAudioIO on the audio thread and waits for it; its ``deviceChanged``
messages reach ``notice`` on the GUI thread. ``release`` closes it there. ``close`` stops the
thread; every method is for the GUI thread, and ``close`` is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from app.ui.audio_devices import Kind
from app.ui.audio_io import QtAudioIO


class _Runner(QObject):
    """Lives on the audio thread; runs one job at a time for a caller that waits."""

    def __init__(self) -> None:
        super().__init__()
        self.job: Callable[[], Any] | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    @Slot()
    def run(self) -> None:
        job, self.job = self.job, None
        self.result, self.error = None, None
        try:
            self.result = job() if job is not None else None
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc


class _Relay(QObject):
    """Lives on the GUI thread: device messages from the audio thread arrive here, queued."""

    said = Signal(str)

    @Slot(str)
    def say(self, text: str) -> None:
        self.said.emit(text)


class AudioThread:
    def __init__(self, notice: Callable[[str], None] | None = None) -> None:
        self._thread = QThread()
        self._thread.setObjectName("peermeet-audio")
        self._runner = _Runner()
        self._relay = _Relay()
        if notice is not None:
            self._relay.said.connect(notice)
        self._started = self._closed = False

    def _call(self, job: Callable[[], Any]) -> Any:
        if self._closed:
            raise RuntimeError("the audio thread is closed")
        if not self._started:
            self._started = True
            self._runner.moveToThread(self._thread)
            self._thread.start()
        self._runner.job = job
        QMetaObject.invokeMethod(self._runner, "run", Qt.ConnectionType.BlockingQueuedConnection)
        if self._runner.error is not None:
            error, self._runner.error = self._runner.error, None
            raise error
        return self._runner.result

    def open(self, input_device: str | None, output_device: str | None) -> QtAudioIO:
        """A QtAudioIO for these devices (None: the system default), living on this thread.
        Raises what QtAudioIO raises (MediaError)."""

        def make() -> QtAudioIO:
            io = QtAudioIO(input_device, output_device)
            io.deviceChanged.connect(self._relay.say)  # before its first notes (queued there)
            return io

        io: QtAudioIO = self._call(make)
        return io

    def set_device(self, io: QtAudioIO, kind: Kind, device_id: str | None) -> None:
        """Move ``io``'s microphone ("in") or speaker ("out") to another device (None: the
        system default), on this thread."""
        if not self._closed:
            self._call(lambda: io.set_device(kind, device_id))

    def release(self, io: QtAudioIO) -> None:
        """Close ``io`` on this thread (after the engine stopped writing to it)."""

        def close_io() -> None:
            io.close()
            io.deleteLater()  # on its own thread, where its timers run

        if not self._closed:
            self._call(close_io)

    def close(self) -> None:
        if self._closed:
            return
        if self._started:
            gui = QThread.currentThread()
            self._call(lambda: self._runner.moveToThread(gui))  # dies here, with its owner
            self._thread.quit()
            self._thread.wait()
        self._closed = True
