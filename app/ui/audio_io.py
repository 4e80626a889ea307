"""The microphone and speaker, through QtMultimedia (only this module and its two helpers
touch it: app.ui.audio_devices finds and opens devices, app.ui.audio_speaker feeds the speaker).

``QtAudioIO`` turns the chosen (or default) input device into a PcmSource (``.mic``, a PcmRing
filled from QAudioSource's readyRead) and is itself the PcmSink for the speaker (QAudioSink in
push mode, fed as ``bytesFree`` allows from a small queue; nothing blocks the GUI thread).
PCM is s16 mono 48 kHz; a device that wants another format gets converted data.

Devices come and go: when the active one disappears (or fails) it switches to the default and
emits ``deviceChanged``. What Qt 6.12 (PulseAudio backend) does and does not tell us:
- removing a device emits audioInputsChanged/audioOutputsChanged only if that changes the
  system default (e.g. unplugging the headset in use); otherwise PulseAudio silently moves our
  stream to the default device while ``device()`` still names the old one (and Qt still lists
  it); plugging it back in does emit the signal, but nothing tells whether our stream went
  elsewhere meanwhile: so a device chosen in Settings is reopened whenever the list changes;
- so the sound server itself is asked (app.ui.pulse_streams): which devices it really has
  (``_pick`` passes over the ones Qt still lists after they went) and which device our own
  stream is on (found at the server when opened, as the one stream that is new: another
  QtAudioIO of this process, e.g. the Settings meter during a call, has its own): ``_check_moved``
  follows a move and says it; the only microphone unplugged leaves the speakers' monitor,
  which would send the others their own voices back: the microphone is stopped until one is
  connected;
- a stream killed by the sound server stays "ActiveState/NoError": a watchdog restarts a
  microphone that delivers nothing, or a speaker that takes nothing, for STALL_S;
- when the sound server itself goes away, opening a device aborts the process: then both
  devices stay closed until app.ui.sound_server says it is back (and Qt reconnected to it).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QIODevice, QObject, Qt, QThread, QTimer, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioSink, QAudioSource, QMediaDevices, QtAudio

from app.errors import MediaError
from app.media.audio import PcmConverter, PcmRing
from app.ui import sound_server
from app.ui.audio_devices import (
    SERVER_BACK,
    SERVER_GONE,
    SERVER_LOST,
    WHAT,
    DeviceId,
    Kind,
    Stream,
    default,
    describe,
    devices,
    fallback_note,
    gone_note,
    id_str,
    open_stream,
    opt_id,
    switch_note,
)
from app.ui.audio_speaker import SpeakerQueue
from app.ui.pulse_streams import OwnStreams

log = logging.getLogger(__name__)

MAX_RESTARTS, FAILURE_WINDOW_S = 3, 10.0  # a device failing more often than this is dropped
WATCH_MS, STALL_S = 250, 1.0  # a device silent/stuck for STALL_S is restarted
OPENING_S = 3.0  # ... but a microphone just opened has this long to deliver its first sound
SERVER_CHECK_TICKS = 4  # while the sound server is gone, look for it every 4 WATCH_MS
MOVED_CHECK_TICKS = 4  # ask the sound server where our streams are every 4 WATCH_MS
_FINE = (QtAudio.Error.NoError, QtAudio.Error.UnderrunError)  # underrun: push mode ran dry


class QtAudioIO(QObject):
    """Microphone (``.mic``, a PcmSource) and speaker (``write``: this object is the PcmSink).

    ``input_device``/``output_device``: a QAudioDevice id (bytes or str, see ``input_devices()``)
    or None for the system default (then a new system default is followed). A missing device
    falls back to the default; every switch is announced with ``deviceChanged(message)``.
    Needs a Qt application; lives on the thread that creates it (the GUI thread for the join
    dialog's preview, a call's AudioThread in app.ui.audio_thread), where every method but
    ``write`` and ``mic`` must be called. ``close()`` is idempotent.
    """

    deviceChanged = Signal(str)
    _pcm = Signal(object)  # speaker audio written from another thread (the call's engine)

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
        self._want: dict[Kind, bytes | None] = {"in": opt_id(input_device), "out": None}
        self._want["out"] = opt_id(output_device)
        self._dev: dict[Kind, QAudioDevice | None] = {"in": None, "out": None}
        self._source: QAudioSource | None = None
        self._in_io: QIODevice | None = None
        self._speaker = SpeakerQueue(self)
        self._conv: dict[Kind, PcmConverter | None] = {"in": None, "out": None}
        self._closed = False
        self._failures: dict[Kind, list[float]] = {"in": [], "out": []}
        self._failed: dict[Kind, bool] = {"in": False, "out": False}
        self._mic_alive = 0.0  # when the microphone last delivered (the speaker keeps its own)
        self._server: sound_server.State = "ok"
        self._ticks = 0
        self._streams = OwnStreams(sound_server.socket_path())  # where PulseAudio has them
        self._pcm.connect(self._write_here, Qt.ConnectionType.QueuedConnection)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(WATCH_MS)
        self._watchdog.timeout.connect(self._watch)
        self._watchdog.start()
        self._media = QMediaDevices(self)
        self._media.audioInputsChanged.connect(lambda: self._reconcile("in", listed=True))
        self._media.audioOutputsChanged.connect(lambda: self._reconcile("out", listed=True))
        if not self._server_ok():
            return
        for kind in ("in", "out"):
            note = self._switch(kind, self._pick(kind))
            note = note or fallback_note(kind, self._want[kind], self._dev[kind])
            if note:  # say it once the caller had a chance to connect deviceChanged
                QTimer.singleShot(0, self, lambda note=note: self._say(note))

    # --- devices --------------------------------------------------------------------------

    @staticmethod
    def input_devices() -> list[tuple[str, str]]:
        """(id, description) of every microphone, for a settings menu."""
        return describe(QMediaDevices.audioInputs())

    @staticmethod
    def output_devices() -> list[tuple[str, str]]:
        """(id, description) of every speaker/headset, for a settings menu."""
        return describe(QMediaDevices.audioOutputs())

    @staticmethod
    def watch(parent: QObject, inputs: Callable[[], None], outputs: Callable[[], None]) -> QObject:
        """Call ``inputs``/``outputs`` when microphones/speakers come or go (as far as Qt tells:
        see the module doc); the watcher lives as long as ``parent``."""
        media = QMediaDevices(parent)
        media.audioInputsChanged.connect(inputs)
        media.audioOutputsChanged.connect(outputs)
        return media

    def device(self, kind: Kind) -> tuple[str, str] | None:
        """(id, description) of the device in use for "in" or "out", or None."""
        dev = self._dev[kind]
        return describe([dev])[0] if dev is not None else None

    def wanted(self, kind: Kind) -> str:
        """The id of the device asked for ("in" or "out"), "" for the system default."""
        want = self._want[kind]
        return "" if want is None else want.decode("utf-8", "surrogateescape")

    def has_device(self, kind: Kind) -> bool:
        """Whether a device is in use for ``kind`` (safe to ask from any thread)."""
        return self._dev[kind] is not None

    def set_device(self, kind: Kind, device_id: DeviceId | None) -> None:
        """Use another device for "in" or "out" (None: follow the system default)."""
        self._want[kind], old = opt_id(device_id), self._dev[kind]
        self._reconcile(kind)
        note = fallback_note(kind, self._want[kind], old) if self._dev[kind] is old else None
        if note:  # (one that is gone: nothing was switched, and so nothing said)
            self._say(note)

    def _pick(self, kind: Kind) -> QAudioDevice | None:
        """The device asked for if connected, else the default (Qt still lists unplugged
        devices: those the sound server says it does not have are passed over)."""
        want, present = self._want[kind], self._streams.present(kind)
        there = [dev for dev in devices(kind) if present is None or id_str(dev) in present]
        for dev in there:
            if want is not None and bytes(dev.id().data()) == want:
                return dev
        fallback = default(kind)
        if fallback is not None and (present is None or id_str(fallback) in present):
            return fallback
        return there[0] if there else None

    def _check_moved(self, kind: Kind) -> None:
        """PulseAudio moves our stream off an unplugged device without a word from Qt: follow
        it, and stop recording when all that is left is the speakers' monitor (an echo)."""
        old = self._dev[kind]
        on = self._streams.where(kind, id_str(old)) if old is not None else None
        if old is None or on is None or on.name == id_str(old):
            return  # cannot tell, our stream is not there (yet), or it is where we think
        log.info("our %s stream was moved from %s to %s", kind, id_str(old), on.name)
        if on.monitor:
            self._stop(kind)
            self._say(gone_note(kind, old, None))
            return
        new = next((dev for dev in devices(kind) if id_str(dev) == on.name), None)
        if new is not None:
            self._dev[kind] = new
            self._say(gone_note(kind, old, new))

    def _reconcile(self, kind: Kind, listed: bool = False) -> None:
        """Devices changed (``listed``: Qt says so) or a device failed: move to the right one
        and say why."""
        if self._closed or not self._server_ok():
            return
        old, new = self._dev[kind], self._pick(kind)
        same = old is not None and new is not None and old.id() == new.id()
        if same and listed and self._want[kind] is not None and self._running(kind):
            # the chosen device may have been unplugged (our stream moved to the default
            # without a word from Qt) and plugged back in: open it again, to be sure
            failure = self._switch(kind, new)
            if failure:
                self._say(switch_note(kind, old, new, failure))
            return
        if (same and self._running(kind)) or (old is None and new is None):
            return
        failure = self._switch(kind, new)
        self._say(switch_note(kind, old, new, failure, self._streams.present(kind, 0.0)))

    def _running(self, kind: Kind) -> bool:
        qt = self._source if kind == "in" else self._speaker.sink
        return qt is not None and qt.error() in _FINE and not self._failed[kind]

    def _switch(self, kind: Kind, dev: QAudioDevice | None) -> str | None:
        """Open ``dev`` for ``kind``; a message if that did not fully work, else None."""
        self._stop(kind)
        if dev is None:
            return f"No {WHAT[kind].lower()} found: " + (
                "the others hear silence." if kind == "in" else "you will not hear the others."
            )
        with self._streams.opening(kind):  # (our stream, told from others of this process)
            stream, dev, note = self._open(kind, dev)
        if isinstance(stream, str):
            return stream
        qt, io = stream.qt, stream.io
        self._dev[kind], self._conv[kind] = dev, stream.conv
        self._failed[kind] = False

        def on_state() -> None:  # no parameter: PySide cannot convert QAudio::State (6.12)
            with contextlib.suppress(RuntimeError):  # at exit: Qt deleted it, we did not close
                self._state_changed(kind, qt)

        qt.stateChanged.connect(on_state)
        if isinstance(qt, QAudioSource):
            self._source, self._in_io = qt, io
            self._mic_alive = time.monotonic() + OPENING_S - STALL_S  # (a busy sound server)
            io.readyRead.connect(self._read_mic)
        else:
            self._speaker.attach(qt, io, stream.fmt)
        return note

    def _open(self, kind: Kind, dev: QAudioDevice) -> tuple[Stream | str, QAudioDevice, str | None]:
        """Start ``dev``, or the default if it will not (a message why not, or the device
        opened, and what to say of it)."""
        stream = open_stream(kind, dev, self)
        fallback = default(kind)
        if isinstance(stream, str) and fallback is not None and fallback.id() != dev.id():
            # Qt lists a device PulseAudio removed until the list changes for another reason
            log.warning("%s", stream)
            failed, dev = dev, fallback
            stream = open_stream(kind, dev, self)
            note = f"{WHAT[kind]} '{failed.description()}' could not be opened: "
            return stream, dev, note + f"using '{dev.description()}' instead."
        return stream, dev, None

    def _stop(self, kind: Kind) -> None:
        qt: QAudioSource | QAudioSink | None = self._source if kind == "in" else self._speaker.sink
        if qt is not None:
            qt.blockSignals(True)
            qt.stop()
            qt.deleteLater()
        self._streams.forget(kind)
        if kind == "in":
            self._source, self._in_io = None, None
        else:
            self._speaker.detach()
        self._dev[kind] = self._conv[kind] = None

    def _state_changed(self, kind: Kind, qt: QAudioSource | QAudioSink) -> None:
        if self._closed or qt is not (self._source if kind == "in" else self._speaker.sink):
            return
        if qt.state() == QtAudio.State.StoppedState and qt.error() not in _FINE:
            self._device_failed(kind, qt.error().name)

    def _watch(self) -> None:
        """Qt 6.12 reports nothing when PulseAudio kills a stream: the microphone just stops
        delivering and the speaker stops taking data. Treat a second of that as a failure."""
        self._ticks += 1
        if self._server != "ok":
            if self._ticks % SERVER_CHECK_TICKS == 0:
                self._server_ok()
            return
        if self._ticks % MOVED_CHECK_TICKS == 0:
            self._check_moved("in")
            self._check_moved("out")
        now = time.monotonic()
        if self._source is not None and now - self._mic_alive > STALL_S:
            self._device_failed("in", "no sound from the device")
        if self._speaker.stuck_for(now) > STALL_S:
            self._device_failed("out", "the device takes no sound")

    def _device_failed(self, kind: Kind, why: str) -> None:
        if self._failed[kind] or not self._server_ok():
            return
        log.warning("audio %s device failed: %s", kind, why)
        now = time.monotonic()
        recent = [t for t in self._failures[kind] if now - t < FAILURE_WINDOW_S] + [now]
        self._failures[kind] = recent
        if len(recent) > MAX_RESTARTS:  # give up until the device list changes
            dev = self._dev[kind]
            self._stop(kind)
            desc = dev.description() if dev else ""
            self._say(f"{WHAT[kind]} '{desc}' keeps failing; pick another one in Settings.")
            return
        self._failed[kind] = True
        QTimer.singleShot(0, self, lambda: self._reconcile(kind))  # not from inside Qt

    def _server_ok(self) -> bool:
        """Whether the sound server is there for Qt (see app.ui.sound_server). When that
        changes, say so: devices are closed while it is gone, reopened when it is back."""
        old, self._server = self._server, sound_server.state()
        if self._server == old:
            return old == "ok"
        if self._server == "ok":
            self._failures, self._failed = {"in": [], "out": []}, {"in": False, "out": False}
            notes = [self._switch(kind, self._pick(kind)) for kind in ("in", "out")]
            self._say(" ".join([SERVER_BACK, *(note for note in notes if note)]))
            return True
        log.warning("sound server %s", self._server)
        self._stop("in")
        self._stop("out")
        note = SERVER_GONE if self._server == "down" else SERVER_LOST
        QTimer.singleShot(0, self, lambda: self._say(note))  # from __init__: after connecting
        return False

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
            self._mic_alive = time.monotonic()
            self.mic.push(conv.to_pcm(data))

    def write(self, pcm: bytes) -> None:
        """PcmSink: queue s16 mono 48 kHz for the speaker. Never blocks; keeps <= ~200 ms.

        Any thread may write: from another one the audio is queued to this object's thread."""
        if QThread.currentThread() == self.thread():
            self._write_here(pcm)
        elif not self._closed:
            self._pcm.emit(pcm)

    def _write_here(self, pcm: bytes) -> None:
        conv = self._conv["out"]
        if not self._closed and conv is not None:
            self._speaker.push(conv.from_pcm(pcm))

    @property
    def queued_ms(self) -> float:
        """Speaker audio queued on our side (not yet handed to the device), in ms."""
        return self._speaker.queued_ms

    @property
    def dropped(self) -> int:
        """Speaker bytes dropped because more than ~200 ms was queued."""
        return self._speaker.dropped

    @property
    def underruns(self) -> int:
        """Times the speaker ran dry (an audible gap)."""
        return self._speaker.underruns

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._watchdog.stop()
        self._stop("in")
        self._stop("out")
        self._streams.close()
        self.mic.close()
