"""Meetings on this network: name, host, people, time left, host key (with a warning when it
changed) and a Knock button per row.

Fed by the Qt-free browser - pass ``widget.set_rooms`` as ``Discovery.browse``'s callback - and
knocking is the caller's (``on_knock(room)``). ``pin_check`` is ``PinStore.check``.

A room whose host could not be reached (``mark_silent``: a crashed host's announcement lingers
for minutes) is dimmed, its button saying "Not answering" (a knock still tries again), until its
announcement changes, it leaves the list or a knock reaches its host (``clear_silent``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.net.knock import pretty_fingerprint
from app.net.lanroom import FoundRoom
from app.net.pins import PinCheck
from app.ui import style
from app.ui.home_parts import Placeholder
from app.ui.style import plain_tip

COLUMNS = ("Meeting", "Host", "People", "Time left", "Host key", "")
HOST_MAX_PX, MEETING_MIN_PX = 120, 90
TIME_COLUMN, TIME_SHOWN_FROM = 3, 500  # a narrower list leaves the time to the name's tooltip
HOST_CHARS = 24  # a longer announced name is cut (wrapped, it would make a tall row)
EMPTY = (
    "No meetings announced on this network yet.\n"
    "Ask the host to start one here, or paste the link they sent you."
)
WARN = QColor(style.DANGER_HI)  # (4.5:1 or more on the card: legible)
DIM = QColor(style.TEXT_DIM)
SILENT_TIP = (
    "{host}'s PeerMeet could not be reached at the last knock: it may have closed or left "
    "this network (its room stays listed for a few minutes). Press to knock again."
)
NOT_ANSWERING = "Not answering"


def time_left(seconds: float) -> str:
    if seconds <= 0:
        return "ended"
    minutes = int(seconds // 60)
    if minutes < 1:
        return "< 1 min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


class RoomsTable(QTableWidget):
    """As tall as its header and rows want (a table asks for 192 px, one row or ten: the
    home window gave the rooms' card half its height, whatever it listed)."""

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        header = self.horizontalHeader()
        rows = self.verticalHeader().length()
        return QSize(hint.width(), header.height() + rows + 2 * self.frameWidth())


class LanRoomsWidget(QWidget):
    def __init__(
        self,
        on_knock: Callable[[FoundRoom], None],
        pin_check: Callable[[str, str], PinCheck] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._on_knock, self._pin_check, self._clock = on_knock, pin_check, clock
        self._rooms: list[FoundRoom] = []
        self._shown: list[FoundRoom] = []  # the rows, in order
        #: instance -> the announcement as it was when its host could not be reached
        self._silent: dict[str, FoundRoom] = {}
        self.empty = Placeholder(EMPTY)
        self.table = RoomsTable(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes from Knock to Knock...
        self.table.setTabKeyNavigation(False)  # ...then out (not round its cells for good)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # the host's name as long as it is, up to HOST_MAX_PX (anyone on the LAN picks it)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # whole in the tooltip
        self.table.setWordWrap(False)  # (wrapped, each line was cut short on its own)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)
        self._ticker = QTimer(self)
        self._ticker.timeout.connect(self._render)
        self._ticker.start(15_000)  # keep "time left" honest
        self._render()

    def set_rooms(self, rooms: Sequence[FoundRoom]) -> None:
        """Show this list (the browser's whole current list)."""
        self._rooms = list(rooms)
        self._render()

    @property
    def rooms(self) -> list[FoundRoom]:
        return list(self._rooms)

    def mark_silent(self, room: FoundRoom) -> None:
        """A knock on ``room`` could not reach its host: show it as not answering."""
        self._silent[room.instance] = room
        self._render()

    def clear_silent(self, room: FoundRoom) -> None:
        """Its host answered a knock (whatever it said): it looks as any other room again."""
        if self._silent.pop(room.instance, None) is not None:
            self._render()

    def is_silent(self, room: FoundRoom) -> bool:
        return self._silent.get(room.instance) == room  # (changed since: maybe back)

    def knock_button(self, row: int) -> QPushButton:
        button = self.table.cellWidget(row, len(COLUMNS) - 1)
        assert isinstance(button, QPushButton)
        return button

    def _render(self) -> None:
        now = self._clock()
        focus = self.window().focusWidget()  # (the Knock buttons are made afresh: see below)
        shown = [
            self.table.cellWidget(row, len(COLUMNS) - 1) for row in range(self.table.rowCount())
        ]
        had = shown.index(focus) if focus in shown else -1
        knocking_on = self._shown[had].instance if 0 <= had < len(self._shown) else None
        rooms = [r for r in self._rooms if r.info.expires_at > now]
        # a mark lasts while the announcement is the one that did not answer
        self._silent = {r.instance: r for r in rooms if self.is_silent(r)}
        self._shown = rooms
        self.empty.setVisible(not rooms)
        self.table.setVisible(bool(rooms))
        self.table.setRowCount(len(rooms))
        self.table.updateGeometry()  # (as tall as its rows)
        for row, room in enumerate(rooms):
            info = room.info
            cells = (
                info.room,
                info.host if len(info.host) <= HOST_CHARS else info.host[: HOST_CHARS - 1] + "…",
                f"{info.people} / {info.capacity}",
                time_left(info.expires_at - now),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                tip = (f"{info.room} ({cells[3]} left)", info.host)[col] if col < 2 else ""
                item.setToolTip(plain_tip(tip))  # (the time left too: narrow, it has no column)
                if self.is_silent(room):
                    item.setForeground(DIM)
                self.table.setItem(row, col, item)
            key, said = self._key_item(room)
            self.table.setItem(row, 4, key)
            button = QPushButton("Knock")
            button.setAutoDefault(True)  # (Enter presses it when it has the focus)
            full = info.people >= info.capacity
            button.setEnabled(not full)
            button.setToolTip("This meeting is full." if full else f"Ask {info.host} to let you in")
            if self.is_silent(room):  # (Knock still tries again: the host may be back)
                said = f"{SILENT_TIP.format(host=info.host)} {said}"
                button.setText(NOT_ANSWERING)
                button.setToolTip(plain_tip(SILENT_TIP.format(host=info.host)))
                button.setStyleSheet(f"color: {style.TEXT_DIM};")
            # a screen reader Tabs from Knock to Knock (the table takes no focus): each says
            # its row, the host key's warning too (all it heard was "Knock", "Knock")
            button.setAccessibleName(f"Knock: {info.room}")
            button.setAccessibleDescription(
                f"Host {info.host}, {info.people} of {info.capacity} in it, {cells[3]} left. {said}"
            )
            button.clicked.connect(lambda _=False, r=room: self._on_knock(r))
            self.table.setCellWidget(row, len(COLUMNS) - 1, button)
            if room.instance == knocking_on:  # the keyboard stays on that room's Knock
                button.setFocus()
        QTimer.singleShot(0, self, self._fit_host_column)  # once the other columns are sized

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self._fit_host_column)

    def _fit_host_column(self) -> None:
        """The host's name as long as it is, but never more than HOST_MAX_PX nor so wide that
        the meeting's name gets less than MEETING_MIN_PX (both elide; tooltips have them)."""
        self.table.setColumnHidden(TIME_COLUMN, self.table.viewport().width() < TIME_SHOWN_FROM)
        shown = [c for c in range(2, len(COLUMNS)) if not self.table.isColumnHidden(c)]
        rest = sum(self.table.columnWidth(c) for c in shown)
        room = self.table.viewport().width() - rest - MEETING_MIN_PX
        wanted = min(self.table.sizeHintForColumn(1), HOST_MAX_PX)
        self.table.setColumnWidth(1, max(40, min(wanted, room)))

    def _key_item(self, room: FoundRoom) -> tuple[QTableWidgetItem, str]:
        """The host key's cell, and what it says in words."""
        short = pretty_fingerprint(room.info.fingerprint)[:9] + " …"
        check = self._pin_check(room.info.room, room.info.fingerprint) if self._pin_check else None
        if check is not None and check.status == "changed":
            item = QTableWidgetItem("⚠ changed")  # (which key: in the tooltip)
            item.setForeground(WARN)
            said = check.warning or "The host key changed."
            item.setToolTip(plain_tip(said))
        elif check is not None and check.status == "known":
            item = QTableWidgetItem(f"✓ {short}")
            said = "The same host you met before in this meeting."
            item.setToolTip(said)
        else:
            item = QTableWidgetItem(short)
            said = "First time you see this host: compare the knock code with them."
            item.setToolTip(said)
        return item, said
