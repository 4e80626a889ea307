"""Knocks nobody answered, kept in the main window until dismissed.

A knock's prompt goes away when its time runs out (app.net.knockdesk): a host who stepped away
never learned someone had knocked. ``MissedKnocks.add`` (``LanHosting``'s ``on_missed``) keeps a
line per missed knock ("Alice knocked on “standup” at 12:03 — no answer; they can knock again"),
the newest first, and asks for attention in the taskbar when the window is not the active one.
A knock the guest cancelled is not missed: the desk does not call ``on_missed`` for it.
In a call, the call window is in front (the main window may be hidden behind it):
``knock_missed`` also says it there, in the call's banner, without taking the keyboard.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.net.knockdesk import KnockRequest
from app.ui import style
from app.ui.banner import Banner

KEPT = 5  # lines shown; older misses are counted ("and 2 earlier knocks")


def missed_line(request: KnockRequest, when: float) -> str:
    name, room = style.isolated(style.shortened(request.name)), style.isolated(request.room)
    at = time.strftime("%H:%M", time.localtime(when))
    return f"{name} knocked on “{room}” at {at} — no answer; they can knock again"


class MissedKnocks(QFrame):
    """Hidden until a knock is missed; its ✕ clears every line."""

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        self._clock = clock
        self.lines: list[str] = []  # newest first
        self.earlier = 0  # missed knocks no longer listed
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # (guests' names)
        self.text.setWordWrap(True)
        self.dismiss = QPushButton("✕")
        self.dismiss.setProperty("role", "flat")
        self.dismiss.setToolTip("Dismiss")
        self.dismiss.setAccessibleName("Dismiss missed knocks")
        self.dismiss.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 6, 8)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def add(self, request: KnockRequest, *, alert: bool = True) -> str:
        """A knock timed out with no answer: say so, and flash the taskbar if away (``alert``).
        Returns the line added."""
        self.lines.insert(0, missed_line(request, self._clock()))
        if len(self.lines) > KEPT:
            self.lines.pop()
            self.earlier += 1
        more = f"\n… and {self.earlier} earlier" if self.earlier else ""
        self.text.setText("\n".join(self.lines) + more)
        self.show()
        window = self.window()
        if alert and not window.isActiveWindow():  # (stepped away: the taskbar entry asks)
            QApplication.alert(window)
        style.announce(self.text, self.lines[0])
        return self.lines[0]

    def clear(self) -> None:
        self.lines, self.earlier = [], 0
        self.text.clear()
        self.hide()


def knock_missed(missed: MissedKnocks, call: QWidget | None, request: KnockRequest) -> None:
    """``LanHosting``'s ``on_missed`` in the desktop app: the line in My meetings and, while a
    call window (``call``) is open, in its banner too, until dismissed: the main window may be
    hidden behind the call. Neither takes the keyboard; the window in front flashes in the
    taskbar if it is not the active one."""
    banner = getattr(call, "banner", None) if call is not None and call.isVisible() else None
    line = missed.add(request, alert=not isinstance(banner, Banner))
    if call is not None and isinstance(banner, Banner):
        banner.show_message(f"{line} (also listed in My meetings)", seconds=0)
        if not call.isActiveWindow():
            QApplication.alert(call)
