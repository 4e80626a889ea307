"""Sounds when no call is open: a knock on one of our meetings while we are in none.

In a call a sound is mixed into what its speaker plays (Bridge.cue). Outside one, no speaker
is open, so ``DeskSound.play`` opens the speaker chosen in Settings (or the default) for the
length of the sound only, in pull mode from a buffer, and closes it when the sound is over.
The microphone is never opened for it. Sounds off in Settings, no speaker, or no sound server:
nothing is played, and nothing is said (the prompt and the taskbar already tell).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer
from PySide6.QtMultimedia import QAudioDevice, QAudioSink, QtAudio

from app.errors import MediaError
from app.media import cues
from app.media.pcm import FRAME_MS
from app.ui import sound_server
from app.ui.audio_devices import default, device_format, devices, opt_id
from app.ui.bridge import Bridge

log = logging.getLogger(__name__)
GRACE_MS = 1000  # after its length, a sound whose device never said "idle" is stopped anyway


class DeskSound(QObject):
    """``speaker()``: the speaker id chosen in Settings ("" for the default)."""

    def __init__(
        self, bridge: Bridge, speaker: Callable[[], str], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge, self._speaker = bridge, speaker
        self._playing: list[tuple[QAudioSink, QBuffer]] = []
        self.played = 0  # sounds started on a speaker of their own (not in a call)

    def play(self, kind: str) -> None:
        if not self._bridge.sounds:
            return
        if self._bridge.in_call:
            self._bridge.cue(kind)
            return
        pcm = b"".join(cues.frames(kind))
        if pcm and sound_server.state() == "ok":  # (Qt would abort the process without one)
            try:
                self._start(pcm, len(cues.frames(kind)) * FRAME_MS)
            except MediaError as exc:
                log.info("no %s sound: %s", kind, exc)

    def _start(self, pcm: bytes, length_ms: int) -> None:
        """On the speaker chosen, else the default: Qt goes on listing a chosen speaker that
        was unplugged (if it was not the default), and opening it fails (no sound at all)."""
        want = opt_id(self._speaker() or None)
        chosen = next((d for d in devices("out") if bytes(d.id().data()) == want), None)
        fallback = default("out")
        if fallback is None or (chosen is not None and chosen.id() == fallback.id()):
            fallback = None  # (only one to try)
        if chosen is not None:
            try:
                self._open(chosen, pcm, length_ms)
                return
            except MediaError as exc:
                if fallback is None:
                    raise
                log.info("%s: the sound plays on the default speaker", exc)
        if fallback is None:
            raise MediaError("no speaker is connected")
        self._open(fallback, pcm, length_ms)

    def _open(self, dev: QAudioDevice, pcm: bytes, length_ms: int) -> None:
        fmt, conv = device_format(dev)
        data = conv.from_pcm(pcm)
        buffer = QBuffer(self)
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        sink = QAudioSink(dev, fmt, self)
        entry = (sink, buffer)
        self._playing.append(entry)
        sink.stateChanged.connect(lambda: self._idle(entry))  # (no argument: see audio_io)
        sink.start(buffer)
        if sink.error() != QtAudio.Error.NoError:
            self._done(entry)
            raise MediaError(f"the speaker '{dev.description()}' could not be opened")
        self.played += 1
        QTimer.singleShot(length_ms + GRACE_MS, self, lambda: self._done(entry))

    def _idle(self, entry: tuple[QAudioSink, QBuffer]) -> None:
        """The device played all of the buffer (or stopped): let it go."""
        if entry in self._playing and entry[0].state() != QtAudio.State.ActiveState:
            QTimer.singleShot(0, self, lambda: self._done(entry))  # (not inside its own signal)

    def _done(self, entry: tuple[QAudioSink, QBuffer]) -> None:
        if entry not in self._playing:
            return
        self._playing.remove(entry)
        sink, buffer = entry
        sink.stop()
        sink.deleteLater()
        buffer.close()
        buffer.deleteLater()

    @property
    def open_speakers(self) -> int:
        """Sounds still holding a speaker open."""
        return len(self._playing)

    def close(self) -> None:
        """Stop every sound still playing (idempotent)."""
        for entry in list(self._playing):
            self._done(entry)
