"""The one shared notice widget: a non-modal message across the top of a window (the call's).

Each line it shows stays as long as it takes to read (``reading_seconds``), or as long as the
caller says, or until dismissed; news does not take the place of news not read yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.ui.style import announce, restyle

#: how much the news of each level of a Banner matters: less than what is shown, it is added
#: under it, rather than taking its place
LEVELS = {"status": 0, "notice": 1, "warning": 2, "ended": 3}
WORDS_PER_S = 3.0  # a reading speed that leaves time to take the words in
NOTICE_S = 3.0  # to notice the banner at all, before reading starts
LEAST_S, MOST_S = 6.0, 40.0  # a one-word notice still stays a while; a long one not forever
MOST_LINES = 4  # more, and the oldest news goes


def reading_seconds(text: str) -> float:
    """How long ``text`` stays when its caller does not say: about 3 words a second, plus a
    few seconds to notice it (every notice stayed 10 s: a 35-word one was gone half-read)."""
    words = len(text.split())
    return min(max(NOTICE_S + words / WORDS_PER_S, LEAST_S), MOST_S)


class Banner(QFrame):
    """A non-modal message across the top; notices fade after a while, endings stay.

    ``area`` gives the part of the parent to center in (default: all of it), e.g. the video
    grid, so a side panel's heading stays readable; ``home``: where the keyboard goes when its
    ✕ is pressed with the keys (on, to the next control, it went to Mute: a Space muted);
    ``clock``: seconds, as time.monotonic (tests give their own)."""

    def __init__(
        self,
        parent: QWidget,
        area: Callable[[], QRect] | None = None,
        home: QWidget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(parent)
        self._area, self._home, self._clock = area, home, clock
        #: each line shown: when it may go (None: it stays until dismissed or ended)
        self._until: dict[str, float | None] = {}
        self._read_by = 0.0  # when what is shown has had time to be read
        self.setObjectName("Banner")
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)  # notices carry others' names
        self.text.setWordWrap(True)
        close = QPushButton("✕")
        close.setProperty("role", "flat")
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss notice")
        close.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 6, 8)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._expire)
        self.hide()

    def _dismiss(self) -> None:
        focus = QApplication.focusWidget()
        if self._home is not None and focus is not None and self.isAncestorOf(focus):
            self._home.setFocus()
        self.hide()

    def _expire(self) -> None:
        """A notice's time is up; one the keyboard is on (its ✕) stays until the focus moves."""
        focus = QApplication.focusWidget()
        if focus is not None and self.isAncestorOf(focus):
            self._timer.start(1000)
        else:
            self.hide()

    def show_message(
        self,
        text: str,
        level: str = "notice",
        seconds: float | None = None,
        *,
        over: Sequence[str] = (),
    ) -> None:
        """``level``: "status" (routine news that looks like a notice: things back to normal),
        "notice", "warning" (looks like one) or "ended"; ``seconds``: how long it stays
        (default: as long as it takes to read, reading_seconds; 0 keeps it until dismissed);
        ``over``: what this news ends (lost touch, once back in touch): those go.
        What is shown stays readable: news less important than it goes under it, more important
        above it (the meeting's end is near, and no microphone was found, say; or someone else
        opened the meeting again, and we are back in touch); news as important goes under it
        while it has not had time to be read, else takes its place; an ending takes the place
        of all."""
        now = self._clock()
        up = str(self.property("level") or "notice") if not self.isHidden() else ""
        shown = {k: v for k, v in self._until.items() if k not in over} if up else {}
        rank, up_rank = LEVELS.get(level, 1), LEVELS.get(up, 1)
        unread = rank == up_rank and now < self._read_by
        if not shown or level == "ended" or (rank == up_rank and not unread):
            shown, self._read_by = {}, 0.0  # (in its place)
        elif rank <= up_rank:
            level = up  # (it goes under what is shown)
        seconds = reading_seconds(text) if seconds is None else seconds
        until = now + seconds if seconds > 0 else None
        new = [line for line in text.split("\n") if line]
        for line in new:  # (said already: it stays as long as the longer asks)
            was = shown.get(line, until)
            shown[line] = None if was is None or until is None else max(was, until)
        lines = [*new, *(k for k in shown if k not in new)] if rank > up_rank else list(shown)
        while len(lines) > MOST_LINES:  # (the oldest, least important news goes)
            del lines[-1 if rank > up_rank else 1]
        self._until = {line: shown[line] for line in lines}
        self._read_by = max(self._read_by, now + reading_seconds(text))
        restyle(self, "level", level)
        self.text.setText("\n".join(lines))
        self._arm(now)
        self.show()
        self.raise_()
        self.place()
        announce(self.text, urgent=level not in ("notice", "status"))

    def _arm(self, now: float) -> None:
        """Time the banner out when its last line's time is up (never, if one stays)."""
        self._timer.stop()
        ends = list(self._until.values())
        if ends and None not in ends:
            self._timer.start(max(0, int((max(e or 0.0 for e in ends) - now) * 1000)))

    def hides_at(self) -> float | None:
        """When (by its clock) the banner goes by itself; None if it does not: what it shows
        stays until dismissed or ended (or nothing is shown)."""
        if self.isHidden() or not self._timer.isActive():
            return None
        return self._clock() + self._timer.remainingTime() / 1000

    def drop(self, words: str) -> None:
        """Take off the lines that say ``words`` (news that is over: unmuted, the camera back),
        leaving the rest; hidden if nothing is left."""
        kept = {k: v for k, v in self._until.items() if words not in k}
        if self.isHidden() or len(kept) == len(self._until):
            return
        self._until = kept
        if not kept:
            self.hide()
            return
        self.text.setText("\n".join(kept))
        self._arm(self._clock())
        self.place()

    def place(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        area = self._area() if self._area is not None else parent.rect()
        if area.width() < 240:  # too narrow to read: use the whole window
            area = parent.rect()
        w = min(680, area.width() - 40)
        self.setFixedWidth(w)
        self.adjustSize()
        self.move(area.x() + (area.width() - w) // 2, area.y() + 14)
