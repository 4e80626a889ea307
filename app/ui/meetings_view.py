"""My meetings: every room this user hosts, with a live countdown, who is in it, and actions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import PeerMeetError
from app.meeting.hosting import EXTEND_S, HostService
from app.meeting.store import ENDED, EXPIRED, UNAVAILABLE, MeetingRecord
from app.net.rooms import CAPACITY as SEATS
from app.net.rooms import MAX_LIFETIME_S
from app.ui import style
from app.ui.elided import ElidedLabel
from app.ui.forms import copy_text, named
from app.ui.geometry import ColumnScroll
from app.ui.home_parts import Placeholder
from app.ui.missed_knocks import MissedKnocks
from app.ui.task_set import TaskSet

log = logging.getLogger(__name__)
SIZE_WORDS = {"small": "Small", "mid": "Medium", "large": "Large"}
EXTEND_TIP = "Give this meeting one more hour"
ROW_BUTTONS = ("end", "forget", "retry", "extend", "copy", "enter")  # a row's, in Tab order
ROW_WORDS = {  # what each says (the copy button says "Copied ✓" for a moment)
    "end": "End now", "forget": "Remove", "retry": "Try again", "extend": "+1 hour",
    "copy": "Copy link", "enter": "Enter",
}  # fmt: skip
SAFE_BUTTONS = ("copy", "enter", "extend", "retry")  # what the focus may fall back to
#: a taken meeting's row, where its countdown was (its end is the new owner's: not known here)
TAKEN_WORD = "Someone else's"
TAKEN_TIP = "Whoever opened it again decides how long it runs: PeerMeet cannot see its time left."


def _left() -> str:
    """ " left", small and dim after a countdown (at the current text size)."""
    dim = f"font-size: {style.pt(9)}; color: {style.TEXT_DIM}; font-family: sans-serif"
    return f'<span style="{dim}"> left</span>'


def countdown(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def people(n: int | None, me: bool = False, seats: int = 0) -> str:
    """Who is in a meeting, ``n`` with the person using the app when ``me``; "full: " first
    when ``n`` fills its ``seats`` (nobody else can join: the host should know)."""
    if n is None:
        return ""
    full = "full: " if seats and n >= seats else ""
    if me and n:
        return full + ("only you in it now" if n == 1 else f"you and {n - 1} more in it now")
    if n == 0:
        return "nobody in it yet"
    return f"{full}{n} {'person' if n == 1 else 'people'} in it now"


class MeetingRow(QFrame):
    """Name and countdown, what it is and who is in it, then what can be done with it."""

    def __init__(self, view: MeetingsView, record: MeetingRecord) -> None:
        super().__init__()
        self.setObjectName("MeetingRow")
        self.record = record
        self._in_it = view.in_it
        self._state: tuple[str, bool] = ("", False)
        self.title = named(ElidedLabel(record.title or record.room), "RowTitle")  # (64 chars)
        self.status = named(QLabel(), "RowStatus")
        self.status.setWordWrap(True)
        self.countdown = named(QLabel(), "Countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.copy = QPushButton(ROW_WORDS["copy"])
        self.enter = named(QPushButton(ROW_WORDS["enter"]), "RowEnter")
        self.extend = QPushButton(ROW_WORDS["extend"])
        self.extend.setToolTip(EXTEND_TIP)
        self.end = named(QPushButton(ROW_WORDS["end"]), "RowEnd")
        self.end.setToolTip("Close the meeting for everyone in it")
        self.forget = QPushButton(ROW_WORDS["forget"])
        self.forget.setToolTip("Remove it from this list")
        self.retry = QPushButton(ROW_WORDS["retry"])
        self.retry.setToolTip("Reopen it on its port, once the program that took it is closed")
        for name in ROW_BUTTONS:  # Enter presses the one with the keyboard's focus, as Space
            getattr(self, name).setAutoDefault(True)
        link = record.link
        self.copy.clicked.connect(lambda: copy_text(link, self.copy))
        self.enter.clicked.connect(lambda: view.enterRequested.emit(link))
        self.extend.clicked.connect(lambda: view.run(f"extend “{record.room}”", view.extend(link)))
        self.end.clicked.connect(lambda: view.end(record))
        self.forget.clicked.connect(lambda: view.host.forget(link))
        self.retry.clicked.connect(lambda: view.run(f"reopen “{record.room}”", view.reopen(link)))
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.countdown)
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for button in (self.end, self.forget):
            buttons.addWidget(button)
        buttons.addStretch()
        for button in (self.retry, self.extend, self.copy, self.enter):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 14, 12)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        self.refresh(view.host)

    def refresh(self, host: HostService) -> None:
        r, now = self.record, host.now()
        live = r.is_live(now)
        self.countdown.setToolTip(TAKEN_TIP if live and r.taken else "")
        if live:
            left = r.time_left(now)  # (taken: when it ends is the new owner's to say, not ours)
            self.countdown.setText(TAKEN_WORD if r.taken else f"{countdown(left)}{_left()}")
            longest = left > MAX_LIFETIME_S - 60  # (the rendezvous caps what it adds at 24 h)
            self.extend.setEnabled(not longest)
            if longest:
                tip = "A meeting lasts at most 24 hours from now."
            elif left > MAX_LIFETIME_S - EXTEND_S:  # less than an hour to the cap
                tip = "Give this meeting more time: up to 24 hours from now"
            else:
                tip = EXTEND_TIP
            self.extend.setToolTip(tip)
            size = f"{SIZE_WORDS.get(r.size, r.size)} meeting"
            where = "hosted on this computer" if r.embedded else f"via {r.rendezvous}"
            twins = [x for x in host.records() if x.title == r.title and x.is_live(now)]
            started = time.strftime("started %H:%M", time.localtime(r.created_at))
            who = people(host.participants(r.link), self._in_it(r.link), SEATS.get(r.size, 0))
            parts = (  # (two of one name: told apart by when they started)
                size, who, where, started if len(twins) > 1 else "",
            )  # fmt: skip
            self.status.setText(r.note or " · ".join(p for p in parts if p))
            self._name_buttons(started if len(twins) > 1 else "")
        else:
            state = {ENDED: "Ended", UNAVAILABLE: "Not reopened"}.get(r.state, "Expired")
            self.countdown.setText(state)
            why = "You ended it" if r.state == ENDED else "Its time ran out"
            self.status.setText(r.note or f"{why}: the link no longer works.")
            self._name_buttons()
        state = ("taken" if r.taken else "live") if live else r.state or EXPIRED
        if (state, r.taken) == self._state:
            return
        self._state = state, r.taken
        self.setProperty("state", state)
        self.status.setProperty("role", "warning" if r.note else "dim")
        for widget in (self, self.status, self.countdown, self.title):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        ours = live and not r.taken  # (taken: someone else opened it again, and owns it now)
        for button in (self.enter, self.copy):
            button.setVisible(live)
        self.extend.setVisible(ours)
        self.end.setVisible(ours or r.state == UNAVAILABLE)
        self.retry.setVisible(r.state == UNAVAILABLE and r.embedded)
        self.forget.setVisible(not ours)

    def _name_buttons(self, started: str = "") -> None:
        """Each button says which meeting it acts on ("End now: Standup, started 09:30"), as
        the row shows it: a screen reader's Tab from row to row heard only "End now"."""
        title = ", ".join(p for p in (self.record.title or self.record.room, started) if p)
        for name in ROW_BUTTONS:
            button = getattr(self, name)
            said = f"{ROW_WORDS[name]}: {title}"
            if button.accessibleName() != said:
                button.setAccessibleName(said)


class MeetingsView(QWidget):
    """Rows for ``host.records()``, rebuilt when they change and refreshed every second."""

    enterRequested = Signal(str)  # link

    def __init__(
        self,
        host: HostService,
        parent: QWidget | None = None,
        *,
        in_it: Callable[[str], bool] = lambda link: False,
    ) -> None:
        """``in_it(link)``: the person using the app is in that meeting's call now (then they
        are not counted among the people End now asks about)."""
        super().__init__(parent)
        self.host, self.in_it = host, in_it
        self.tasks = TaskSet()
        self.rows: dict[str, MeetingRow] = {}
        self.message = named(QLabel(), "ErrorBox")
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # (a rendezvous' words in it)
        self.message.setWordWrap(True)
        self.message.hide()
        self.missed = MissedKnocks()  # knocks on these meetings nobody answered, until dismissed
        # (not in the list's scroll area: there it scrolled, cut, in a card too short for it)
        self.empty = Placeholder(
            "No meetings yet.\n\nStart one and it appears here, with its link and time left."
        )
        self._list = QVBoxLayout()
        self._list.setSpacing(8)
        inner = named(QWidget(), "MeetingsList")
        box = QVBoxLayout(inner)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(self._list)
        box.addStretch()
        scroll = self._scroll = ColumnScroll(inner)  # (as wide as a row's buttons need)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (Tab goes to the rows' buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.missed)
        layout.addWidget(self.message)
        layout.addWidget(self.empty, 1)
        layout.addWidget(scroll, 1)
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        host.subscribe(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        focus = self._focused()  # (rows are made afresh: the keyboard's place is put back)
        for row in self.rows.values():
            row.hide()
            self._list.removeWidget(row)
            row.deleteLater()
        self.rows = {}
        now = self.host.now()  # live ones first (newest first), then the finished ones
        for record in sorted(self.host.records(), key=lambda r: not r.is_live(now)):
            row = MeetingRow(self, record)
            self.rows[record.link] = row
            self._list.addWidget(row)
        self.empty.setVisible(not self.rows)
        self._scroll.setVisible(bool(self.rows))
        self._scroll.updateGeometry()  # (the width it needs may have changed)
        self._refocus(focus)
        if self.host.store.problem:  # damaged on load, or cannot be saved
            self.show_error(self.host.store.problem)

    def _focused(self) -> tuple[str, str] | None:
        """(link, button) of the row button that has the keyboard's focus, if one has."""
        focus = self.window().focusWidget()  # (also while another window is the active one)
        for link, row in self.rows.items():
            for name in ROW_BUTTONS:
                if getattr(row, name) is focus:
                    return link, name
        return None

    def _refocus(self, focused: tuple[str, str] | None) -> None:
        """The same button of the same row again, else one beside it that does no harm (never
        End now or Remove: the next Space would end or drop the meeting); nothing if the row
        is gone."""
        row = self.rows.get(focused[0]) if focused is not None else None
        if row is None or focused is None:
            return
        names = (focused[1], *SAFE_BUTTONS) if focused[1] in SAFE_BUTTONS else SAFE_BUTTONS
        buttons = [getattr(row, name) for name in names]
        shown = [b for b in buttons if not b.isHidden() and b.isEnabled()]
        if shown:
            shown[0].setFocus()

    def refresh(self) -> None:
        """Tick the countdowns and participant counts."""
        for row in self.rows.values():
            row.refresh(self.host)

    def end(self, record: MeetingRecord) -> None:
        """End Now, asking first if people are in it (it cannot be undone)."""
        n = self.host.participants(record.link)
        if n and self.in_it(record.link):
            n -= 1  # (ending it ends your own call too: nobody else to ask about)
        if n != 0:  # None: an outside rendezvous does not say who is in (it may be full)
            who = {None: "People may be", 1: "1 person is"}.get(n, f"{n} people are")
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "End the meeting?",
                f"{who} in “{record.title or record.room}”. End it for everyone? Its link "
                "stops working.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setTextFormat(Qt.TextFormat.PlainText)  # the title as typed, never markup
            box.setDefaultButton(QMessageBox.StandardButton.No)  # (it cannot be undone)
            if box.exec() != QMessageBox.StandardButton.Yes:
                return
        self.run(f"end “{record.room}”", self.host.end(record.link))

    async def extend(self, link: str) -> None:
        await self.host.extend(link)

    async def reopen(self, link: str) -> None:
        await self.host.reopen(link)

    def run(self, what: str, coro: Coroutine[Any, Any, Any]) -> None:
        self.message.hide()
        self.tasks.spawn(self.guard(what, coro))

    async def guard(self, what: str, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro``; if it fails, say so above the list ("Could not {what}: …")."""
        try:
            await coro
        except PeerMeetError as exc:
            self.show_error(f"Could not {what}: {exc}")

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def open_view(self) -> None:
        """Tick and listen again after ``close_view`` (its window shown again). Idempotent."""
        if not self._timer.isActive():
            self._timer.start()
            self.host.subscribe(self.rebuild)
            self.rebuild()

    def close_view(self) -> None:
        """Stop ticking, listening and any action under way. Idempotent."""
        self._timer.stop()
        self.host.unsubscribe(self.rebuild)
        self.tasks.cancel()
