"""The microphones and speakers that are really connected, for the lists a person picks from.

Qt (PulseAudio backend) keeps listing a device that is not the default after it is unplugged,
and says nothing (see app.ui.audio_io): the Settings dialog went on offering an unplugged
headset as if it were there, chosen and without a word. ``ConnectedDevices`` leaves out what
the sound server itself says it does not have (app.ui.pulse_streams), and, as Qt tells nothing
then, asks it again every POLL_MS while it lives: ``changed(kind)`` says when a list changed.
With no server to ask, Qt's lists are taken as they are.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtMultimedia import QMediaDevices

from app.ui import sound_server
from app.ui.audio_devices import Kind, describe, devices, id_str
from app.ui.pulse_streams import WAIT_S, StreamWatch

POLL_MS = 500  # how often the sound server is asked while a list is shown
KINDS: tuple[Kind, Kind] = ("in", "out")


class ConnectedDevices(QObject):
    """``listed(kind)``: (id, description) of each connected microphone ("in") or speaker
    ("out"). Lives as long as its parent; ``close()`` (idempotent) stops asking."""

    changed = Signal(str)  # "in" or "out": its list is not what it was

    def __init__(self, parent: QObject | None = None, *, poll: bool = True) -> None:
        """``poll``: ask the server every POLL_MS (a list on show); without, a menu built on
        demand calls ``refresh()`` first."""
        super().__init__(parent)
        self._watch = StreamWatch(sound_server.socket_path())
        self._present: dict[Kind, frozenset[str] | None] = {"in": None, "out": None}
        self._ask(WAIT_S)
        self._last = {kind: self.listed(kind) for kind in KINDS}
        self._media = QMediaDevices(self)  # a device plugged in, or the default unplugged
        self._media.audioInputsChanged.connect(lambda: self._check(WAIT_S))
        self._media.audioOutputsChanged.connect(lambda: self._check(WAIT_S))
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(lambda: self._check(0.0))
        if poll:
            self._timer.start()
        watch = self._watch  # (not self: gone by then)
        self.destroyed.connect(lambda: watch.close())

    def listed(self, kind: Kind) -> list[tuple[str, str]]:
        present = self._present[kind]
        return describe([d for d in devices(kind) if present is None or id_str(d) in present])

    def refresh(self) -> None:
        """Ask the server now (waiting at most WAIT_S), for ``listed`` to be up to date."""
        self._check(WAIT_S)

    def _ask(self, wait: float) -> None:
        """The server's newest answer (``wait``: a fresh one, waited for that long; without,
        the last one, and a fresh one is asked for the next time)."""
        snapshot = self._watch.snapshot(wait)
        if snapshot is not None:
            self._present = dict(snapshot.present)

    def _check(self, wait: float) -> None:
        self._ask(wait)
        for kind in KINDS:
            now = self.listed(kind)
            if now != self._last[kind]:
                self._last[kind] = now
                self.changed.emit(kind)

    def close(self) -> None:
        self._timer.stop()
        self._watch.close()
