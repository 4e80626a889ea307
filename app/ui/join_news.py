"""What a screen reader hears while a join is under way (app.ui.join_dialog).

The steps show on screen one after the other, but nothing was said between pressing Join and
the call window or an error: up to ten silent seconds when the host cannot be reached. It is
said when the join starts, then every few seconds while it is still under way, with the step
it is at (not each step as it comes: on a good network they all come within a second).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.errors import PeerMeetError
from app.meeting.links import parse_link
from app.ui import style

STILL_EVERY_MS = 4000  # while a join is still under way, it is said this often
DOING = (
    "reaching the meeting point",
    "entering the room",
    "finding the others",
    "making the secure handshake",
    "starting video and sound",
)


def _room(link: str) -> str:
    try:
        return parse_link(link).room
    except PeerMeetError:
        return ""  # (the dialog says what is wrong with it, at once)


class JoinNews(QObject):
    def __init__(self, dialog: QWidget) -> None:
        super().__init__(dialog)
        self._dialog = dialog
        self._step = 1
        self._timer = QTimer(self)
        self._timer.setInterval(STILL_EVERY_MS)
        self._timer.timeout.connect(self._still)

    def started(self, link: str) -> None:
        """Join was pressed for ``link``."""
        self._step = 1
        room = _room(link)
        where = f" “{room}”" if room else ""
        style.announce(self._dialog, f"Joining{where}: {DOING[0]} …")
        self._timer.start()

    def step(self, step: int) -> None:
        """The join is at ``step`` (1 to 5) now."""
        self._step = min(max(step, 1), len(DOING))

    def stop(self) -> None:
        """The join is over (the call window opens, or the dialog says why not)."""
        self._timer.stop()

    def _still(self) -> None:
        style.announce(self._dialog, f"Still joining: {DOING[self._step - 1]} …")
