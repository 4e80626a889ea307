"""A card over the video while nobody else is in the call: "Waiting for others to join", with
the meeting's link to copy (the people panel has it too, but nobody alone in a call goes
looking there). It watches the grid itself: shown while the grid holds only your own tiles
and the call is on, gone the moment someone's tile arrives."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout

from app.ui import style
from app.ui.video_grid import VideoGrid

CHECK_MS = 300  # how often the grid is looked at (a peer's tile may come at any moment)
COPY = "Copy invite link"


class WaitingCard(QFrame):
    def __init__(self, grid: VideoGrid, in_call: Callable[[], bool], link: str) -> None:
        """``in_call()``: whether the call is on (after it ended nobody is awaited);
        ``link``: the meeting's share link ("" when not known: then no button)."""
        super().__init__(grid)
        self.setObjectName("WaitingCard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(
            f"#WaitingCard {{ background: rgba(15, 17, 21, 215); border: 1px solid "
            f"{style.BORDER}; border-radius: 12px; }}"
        )
        self._grid, self._in_call, self._link = grid, in_call, link
        self._lost = False  # out of touch with the meeting: "getting back in" is said instead
        title = QLabel("Waiting for others to join")
        title.setProperty("role", "title")
        hint = QLabel(
            "Send them the meeting's link." if link else "They join with the meeting's link."
        )
        hint.setProperty("role", "dim")
        self.copy = QPushButton(COPY)
        self.copy.setToolTip("Copy this meeting's link to send to someone")
        self.copy.clicked.connect(self._copy)
        self.copy.setVisible(bool(link))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 16)
        layout.setSpacing(6)
        for widget in (title, hint):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.copy, 0, Qt.AlignmentFlag.AlignHCenter)
        self.hide()
        grid.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(CHECK_MS)
        QTimer.singleShot(0, self, self.check)

    def alone(self) -> bool:
        """Only your own tiles (camera, your screen) are in the grid."""
        return all(peer_id == "" for peer_id, _ in self._grid.tiles)

    def lost(self, detail: str, _with_others: bool = False) -> None:
        """Bridge.reconnecting: out of touch with the meeting (``detail``), or back ("")."""
        self._lost = bool(detail)
        self.check()

    def check(self) -> None:
        show = self.alone() and self._in_call() and not self._lost
        if show != self.isVisible():
            self.setVisible(show)
        if show:
            self._place()

    def _place(self) -> None:
        self.adjustSize()
        area = self._grid.rect()
        x = area.center().x() - self.width() // 2
        y = area.bottom() - self.height() - 48  # above your name on your own picture
        self.move(max(0, x), max(0, y))
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._grid and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self._link)
        self.copy.setText("Copied")
        QTimer.singleShot(1500, self, lambda: self.copy.setText(COPY))
