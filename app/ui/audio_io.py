"""The microphone and speaker, through QtMultimedia (the only module that touches it).

``QtAudioIO`` turns the chosen (or default) input device into a PcmSource (``.mic``, a PcmRing
filled from QAudioSource's readyRead) and is itself the PcmSink for the speaker (QAudioSink in
push mode, fed as ``bytesFree`` allows from a small queue; nothing blocks the GUI thread).
PCM is s16 mono 48 kHz; a device that wants another format gets converted data.

Devices come and go: when the active one disappears (or fails) it switches to the default and
emits ``deviceChanged``. What Qt 6.12 (PulseAudio backend) does and does not tell us:
- removing a device emits audioInputsChanged/audioOutputsChanged only if that changes the
  system default (e.g. unplugging the headset in use); otherwise PulseAudio silently moves our
  stream to the default device, so sound goes on but ``device()`` still names the old one;
- a stream killed by the sound server stays "ActiveState/NoError": a watchdog restarts a
  microphone that delivers nothing, or a speaker that takes nothing, for STALL_S.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

from PySide6.QtCore import QCoreApplication, QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import (
    QAudioDevice,
    QAudioFormat,
    QAudioSink,
    QAudioSource,
    QMediaDevices,
    QtAudio,
)

from app.errors import MediaError
from app.media.audio import RING_MS, PcmConverter, PcmRing
from app.media.pcm import SAMPLE_RATE

log = logging.getLogger(__name__)

DeviceId = bytes | str
Kind = Literal["in", "out"]
IN_BUFFER_MS = 40  # QAudioSource buffer: how often Python sees microphone data, and its delay
OUT_BUFFER_MS = 80  # QAudioSink buffer: device-side room for the cushion below
PREBUFFER_MS = 40  # speaker audio gathered before (re)starting: absorbs GUI-thread hiccups
FLUSH_MS = 10  # while audio waits for room in the device, retry this often
MAX_RESTARTS, FAILURE_WINDOW_S = 3, 10.0  # a device failing more often than this is dropped
WATCH_MS, STALL_S = 250, 1.0  # a device silent/stuck for STALL_S is restarted
_WHAT: dict[Kind, str] = {"in": "Microphone", "out": "Speaker"}
_FINE = (QtAudio.Error.NoError, QtAudio.Error.UnderrunError)  # underrun: push mode ran dry
_F = QAudioFormat.SampleFormat
_SAMPLE_TYPE = {_F.UInt8: "u8", _F.Int16: "s16", _F.Int32: "s32", _F.Float: "f32"}


def pcm_format() -> QAudioFormat:
    fmt = QAudioFormat()
    fmt.setSampleRate(SAMPLE_RATE)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(_F.Int16)
    return fmt


def _id_bytes(device_id: DeviceId) -> bytes:
    return device_id.encode("utf-8", "surrogateescape") if isinstance(device_id, str) else device_id


def _describe(devices: list[QAudioDevice]) -> list[tuple[str, str]]:
    return [(_id_str(d), d.description()) for d in devices]


def _id_str(dev: QAudioDevice) -> str:
    return bytes(dev.id().data()).decode("utf-8", "surrogateescape")


def _devices(kind: Kind) -> list[QAudioDevice]:
    return QMediaDevices.audioInputs() if kind == "in" else QMediaDevices.audioOutputs()


def _default(kind: Kind) -> QAudioDevice | None:
    dev = QMediaDevices.defaultAudioInput() if kind == "in" else QMediaDevices.defaultAudioOutput()
    return None if dev.isNull() else dev


class QtAudioIO(QObject):
    """Microphone (``.mic``, a PcmSource) and speaker (``write``: this object is the PcmSink).

    ``input_device``/``output_device``: a QAudioDevice id (bytes or str, see ``input_devices()``)
    or None for the system default (then a new system default is followed). A missing device
    falls back to the default; every switch is announced with ``deviceChanged(message)``.
    Needs a Qt application; lives on its thread (the GUI thread). ``close()`` is idempotent.
    """

    deviceChanged = Signal(str)

    def __init__(
        self,
        input_device: DeviceId | None = None,
        output_device: DeviceId | None = None,
        parent: QObject | None = None,
    ) -> None:
        if QCoreApplication.instance() is None:
            raise MediaError("Audio needs a Qt application: create QApplication before QtAudioIO.")
        super().__init__(parent)
        self.mic = PcmRing()
        self._want: dict[Kind, bytes | None] = {"in": _opt_id(input_device), "out": None}
        self._want["out"] = _opt_id(output_device)
        self._dev: dict[Kind, QAudioDevice | None] = {"in": None, "out": None}
        self._source: QAudioSource | None = None
        self._sink: QAudioSink | None = None
        self._in_io: QIODevice | None = None
        self._out_io: QIODevice | None = None
        self._conv: dict[Kind, PcmConverter | None] = {"in": None, "out": None}
        self._pending = bytearray()  # speaker audio (device format) waiting for bytesFree
        self._pending_cap = 0
        self._closed = False
        #: speaker bytes dropped because more than ~200 ms was queued
        self.dropped = 0
        #: times the speaker ran dry (an audible gap; then PREBUFFER_MS is gathered again)
        self.underruns = 0
        self._primed = False  # the speaker got its PREBUFFER_MS cushion since it last ran dry
        self._prebuffer = 0
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(FLUSH_MS)
        self._flush_timer.timeout.connect(self._flush)
        self._failures: dict[Kind, list[float]] = {"in": [], "out": []}
        self._failed: dict[Kind, bool] = {"in": False, "out": False}
        self._alive: dict[Kind, float] = {"in": 0.0, "out": 0.0}  # last sign of life
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(WATCH_MS)
        self._watchdog.timeout.connect(self._watch)
        self._watchdog.start()
        self._media = QMediaDevices(self)
        self._media.audioInputsChanged.connect(lambda: self._reconcile("in"))
        self._media.audioOutputsChanged.connect(lambda: self._reconcile("out"))
        for kind in ("in", "out"):
            note = self._switch(kind, self._pick(kind)) or self._fallback_note(kind)
            if note:  # say it once the caller had a chance to connect deviceChanged
                QTimer.singleShot(0, self, lambda note=note: self._say(note))

    def _fallback_note(self, kind: Kind) -> str | None:
        want, dev = self._want[kind], self._dev[kind]
        if want is None or dev is None or bytes(dev.id().data()) == want:
            return None
        return (
            f"{_WHAT[kind]} {want.decode(errors='replace')!r} is not available; "
            f"using '{dev.description()}' instead."
        )

    # --- devices --------------------------------------------------------------------------

    @staticmethod
    def input_devices() -> list[tuple[str, str]]:
        """(id, description) of every microphone, for a settings menu."""
        return _describe(QMediaDevices.audioInputs())

    @staticmethod
    def output_devices() -> list[tuple[str, str]]:
        """(id, description) of every speaker/headset, for a settings menu."""
        return _describe(QMediaDevices.audioOutputs())

    def device(self, kind: Kind) -> tuple[str, str] | None:
        """(id, description) of the device in use for "in" or "out", or None."""
        dev = self._dev[kind]
        return _describe([dev])[0] if dev is not None else None

    def set_device(self, kind: Kind, device_id: DeviceId | None) -> None:
        """Use another device for "in" or "out" (None: follow the system default)."""
        self._want[kind] = _opt_id(device_id)
        self._reconcile(kind)

    def _pick(self, kind: Kind) -> QAudioDevice | None:
        want = self._want[kind]
        for dev in _devices(kind):
            if want is not None and bytes(dev.id().data()) == want:
                return dev
        return _default(kind)

    def _reconcile(self, kind: Kind) -> None:
        """Devices changed (or a device failed): move to the right one and say why."""
        if self._closed:
            return
        old, new = self._dev[kind], self._pick(kind)
        same = old is not None and new is not None and old.id() == new.id()
        if (same and self._running(kind)) or (old is None and new is None):
            return
        failure = self._switch(kind, new)
        what = _WHAT[kind]
        name = f"'{new.description()}'" if new else ""
        if old is None:
            text = failure or f"{what} {name} connected and now in use."
        elif all(d.id() != old.id() for d in _devices(kind)):
            text = f"{what} '{old.description()}' was disconnected. " + (
                failure or f"Now using {name}."
            )
        elif same:
            text = failure or f"{what} {name} stopped working and was restarted."
        else:
            text = failure or f"{what} switched from '{old.description()}' to {name}."
        self._say(text)

    def _running(self, kind: Kind) -> bool:
        qt = self._source if kind == "in" else self._sink
        return qt is not None and qt.error() in _FINE and not self._failed[kind]

    def _switch(self, kind: Kind, dev: QAudioDevice | None) -> str | None:
        """Open ``dev`` for ``kind``; a message if that did not fully work, else None."""
        self._stop(kind)
        what = _WHAT[kind].lower()
        if dev is None:
            return f"No {what} found: " + (
                "the others hear silence until one is connected."
                if kind == "in"
                else "you will not hear the others until one is connected."
            )
        fmt = pcm_format()
        if not dev.isFormatSupported(fmt):
            fmt = dev.preferredFormat()
        try:
            kind_name = _SAMPLE_TYPE.get(fmt.sampleFormat(), fmt.sampleFormat().name)
            conv = PcmConverter(kind_name, fmt.channelCount(), fmt.sampleRate())
        except MediaError as exc:
            return f"Cannot use {what} '{dev.description()}': {exc} Pick another in Settings."
        qt: QAudioSource | QAudioSink
        qt = QAudioSource(dev, fmt, self) if kind == "in" else QAudioSink(dev, fmt, self)
        buffer_ms = IN_BUFFER_MS if kind == "in" else OUT_BUFFER_MS
        qt.setBufferSize(fmt.bytesForDuration(buffer_ms * 1000))
        io = qt.start()
        if io is None or qt.error() != QtAudio.Error.NoError:
            qt.stop()
            qt.deleteLater()
            return (
                f"Could not open {what} '{dev.description()}' ({qt.error().name}). "
                "Check that it is plugged in and not used exclusively by another program."
            )
        self._dev[kind], self._conv[kind] = dev, conv
        self._failed[kind], self._alive[kind] = False, time.monotonic()

        def on_state() -> None:  # no parameter: PySide cannot convert QAudio::State (6.12)
            self._state_changed(kind, qt)

        qt.stateChanged.connect(on_state)
        if isinstance(qt, QAudioSource):
            self._source, self._in_io = qt, io
            io.readyRead.connect(self._read_mic)
        else:
            self._sink, self._out_io = qt, io
            self._pending_cap = fmt.bytesForDuration(RING_MS * 1000)
            self._prebuffer = fmt.bytesForDuration(PREBUFFER_MS * 1000)
            self._primed = False
        return None

    def _stop(self, kind: Kind) -> None:
        qt: QAudioSource | QAudioSink | None = self._source if kind == "in" else self._sink
        if qt is not None:
            qt.blockSignals(True)
            qt.stop()
            qt.deleteLater()
        if kind == "in":
            self._source, self._in_io = None, None
        else:
            self._sink, self._out_io = None, None
            self._pending.clear()
            self._flush_timer.stop()
        self._dev[kind] = self._conv[kind] = None

    def _state_changed(self, kind: Kind, qt: QAudioSource | QAudioSink) -> None:
        if self._closed or qt is not (self._source if kind == "in" else self._sink):
            return
        if qt.state() == QtAudio.State.StoppedState and qt.error() not in _FINE:
            self._device_failed(kind, qt.error().name)

    def _watch(self) -> None:
        """Qt 6.12 reports nothing when PulseAudio kills a stream: the microphone just stops
        delivering and the speaker stops taking data. Treat a second of that as a failure."""
        now = time.monotonic()
        if self._source is not None and now - self._alive["in"] > STALL_S:
            self._device_failed("in", "no sound from the device")
        if self._sink is not None and self._pending and now - self._alive["out"] > STALL_S:
            self._device_failed("out", "the device takes no sound")

    def _device_failed(self, kind: Kind, why: str) -> None:
        if self._failed[kind]:
            return
        log.warning("audio %s device failed: %s", kind, why)
        now = time.monotonic()
        recent = [t for t in self._failures[kind] if now - t < FAILURE_WINDOW_S] + [now]
        self._failures[kind] = recent
        if len(recent) > MAX_RESTARTS:  # give up until the device list changes
            dev = self._dev[kind]
            self._stop(kind)
            desc = dev.description() if dev else ""
            self._say(f"{_WHAT[kind]} '{desc}' keeps failing; pick another one in Settings.")
            return
        self._failed[kind] = True
        QTimer.singleShot(0, self, lambda: self._reconcile(kind))  # not from inside Qt

    def _say(self, message: str) -> None:
        if not self._closed:
            log.info("%s", message)
            self.deviceChanged.emit(message)

    # --- data -----------------------------------------------------------------------------

    def _read_mic(self) -> None:
        io, conv = self._in_io, self._conv["in"]
        if io is None or conv is None:
            return
        data = bytes(io.readAll().data())
        if data:
            self._alive["in"] = time.monotonic()
            self.mic.push(conv.to_pcm(data))

    def write(self, pcm: bytes) -> None:
        """PcmSink: queue s16 mono 48 kHz for the speaker. Never blocks; keeps <= ~200 ms."""
        conv = self._conv["out"]
        if self._closed or conv is None or self._sink is None:
            return
        if not self._pending:  # the stall clock runs only while audio waits
            self._alive["out"] = time.monotonic()
        self._pending += conv.from_pcm(pcm)
        if self._primed and self._sink.bytesFree() >= self._sink.bufferSize():
            self._primed = False  # Qt's buffer is empty: the device ran (or runs) dry
            self.underruns += 1
        excess = len(self._pending) - self._pending_cap
        if excess > 0:
            bpf = self._sink.format().bytesPerFrame()
            excess += -excess % bpf  # whole device frames only
            del self._pending[:excess]
            self.dropped += excess
        self._flush()

    def _flush(self) -> None:
        sink, io = self._sink, self._out_io
        if sink is None or io is None:
            self._pending.clear()
        elif not self._primed and len(self._pending) < self._prebuffer:
            return  # gather a cushion first; write() calls again
        else:
            self._primed = True
            n = min(sink.bytesFree(), len(self._pending))
            n -= n % sink.format().bytesPerFrame()
            if n > 0:
                written = io.write(bytes(self._pending[:n]))
                if written > 0:
                    del self._pending[:written]
                    self._alive["out"] = time.monotonic()
        if self._pending and not self._flush_timer.isActive():
            self._flush_timer.start()
        elif not self._pending:
            self._flush_timer.stop()

    @property
    def queued_ms(self) -> float:
        """Speaker audio queued on our side (not yet handed to the device), in ms."""
        sink = self._sink
        return sink.format().durationForBytes(len(self._pending)) / 1000 if sink else 0.0

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._watchdog.stop()
        self._stop("in")
        self._stop("out")
        self.mic.close()


def _opt_id(device_id: DeviceId | None) -> bytes | None:
    return None if device_id is None else _id_bytes(device_id)
