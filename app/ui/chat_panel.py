"""Chat beside the video: messages from everyone (yours too), a box to write in (app.ui.chat_entry:
Enter sends, Shift+Enter starts a new line).

Each line of a message is a paragraph of its own, laid out the way its text reads (an Arabic or
Hebrew line from the right); headings, notices and dividers read left to right, with names held
apart (app.ui.chat_text). What was shown is kept in ``lines``, to be shown again when the person
comes back to the meeting (app.ui.chat_memory): the last SHOWN lines, as the view keeps only
those (app.ui.chat_trim).
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from app.net.text import clean_chat
from app.ui import style
from app.ui.chat_entry import ChatEntry
from app.ui.chat_hint import NewMessages
from app.ui.chat_text import MAX_LEN, Line, heading, linkify, said, split_message, trimmed
from app.ui.chat_trim import KEEP, MAX_BLOCKS, SHOWN, drop_top, say_removed

__all__ = ["MAX_LEN", "ChatPanel", "linkify", "split_message"]
UNSENT = "What you were typing was not sent: it is left below, to copy."
AUTO = Qt.LayoutDirection.LayoutDirectionAuto  # (a paragraph reads the way its text does)


def _open_web_link(url: QUrl) -> None:
    if url.scheme().lower() in ("http", "https"):
        QDesktopServices.openUrl(url)


class ChatPanel(QWidget):
    send = Signal(list)  # what the user entered, in messages (stripped, never empty)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SidePanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.messages: list[tuple[str, str, bool]] = []  # (name, text, mine)
        self.lines: list[Line] = []  # everything shown, in order (the last SHOWN)
        self._sizes: list[int] = []  # of each line, the paragraphs it takes in the view
        self.cut_top = False  # older lines were removed (a line at the top says so)
        self.ended: tuple[str, float] | None = None  # why and when the call ended
        title = QLabel("Chat")
        title.setProperty("role", "title")
        hint = QLabel("Messages go straight to each person over the encrypted connection.")
        hint.setProperty("role", "dim")
        hint.setWordWrap(True)
        self.view = QTextBrowser()
        self.view.setOpenExternalLinks(False)
        self.view.setOpenLinks(False)  # web links go to the browser (below), nothing else
        self.view.anchorClicked.connect(_open_web_link)
        self.view.document().setDocumentMargin(2)
        self.view.setAccessibleName("Chat messages")
        self.new_messages = NewMessages(self.view)  # (come while reading older ones)
        bar = self.view.verticalScrollBar()
        self._following = True  # at the end: stay there as messages come and the panel resizes
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(lambda _low, high: bar.setValue(high) if self._following else None)
        self.entry = ChatEntry()
        self.entry.setPlaceholderText("Message everyone")
        self.entry.setAccessibleName("Message everyone")
        self.entry.submitted.connect(self._submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 16)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.entry)
        layout.addWidget(self.entry.hint)
        self._last_sender: tuple[str, bool] | None = None

    def add_message(
        self, name: str, text: str, mine: bool = False, sender: str = "", at: float = 0.0
    ) -> None:
        """``sender``: who sent it (a peer id), so that two people of one name are not taken
        for one; "" groups by the name. ``at``: when it came (time.time(); 0: now)."""
        self._message(Line("message", text, at or time.time(), name, mine, sender))

    def _message(self, line: Line, quiet: bool = False) -> None:
        """Show ``line``; ``quiet``: shown again from earlier (nobody is told it came)."""
        name, text, mine, sender = line.name, line.text, line.mine, line.sender
        self.messages.append((name, text, mine))
        self.lines.append(line)
        colour = style.ACCENT if mine else style.SPEAKING
        paragraphs: list[tuple[str, Qt.LayoutDirection]] = []
        headed = self._last_sender != (sender or name, mine)  # (one person's in a row: grouped)
        if headed:
            stamp = time.strftime("%H:%M", time.localtime(line.at))
            paragraphs.append((heading("You" if mine else name, stamp, colour), self._reading))
        self._last_sender = (sender or name, mine)
        body = f'<span style="color:{style.TEXT}; white-space:pre-wrap">'
        lines = text.removesuffix("\n").split("\n")  # (a part cut at a line's end, whose
        paragraphs += [(f"{body}{linkify(part)}</span>", AUTO) for part in lines]  # next follows)
        if not (mine or quiet):  # read out as it comes, where the keyboard is (chat hidden or not)
            style.announce(self, f"{name}: {said(text)}")
        # a new sender stands apart; one sender's messages in a row, each a paragraph
        self._append(paragraphs, mine, 10 if headed else 4)
        self._keep_newest()
        if mine:
            self.new_messages.done()
        elif not (self._following or quiet):  # left where they read: told that more has come
            self.new_messages.came()

    def add_notice(self, text: str, kind: str = "notice") -> None:
        """``kind``: "divider" stands across the chat, between two parts of a meeting; "unsent"
        is not shown again with the rest (app.ui.chat_memory)."""
        self._notice(Line(kind, text, time.time()))

    def _notice(self, line: Line, quiet: bool = False) -> None:
        self._last_sender = None
        self.lines.append(line)
        if not (quiet or line.kind == "divider"):  # ("Olga joined", "nobody got this message")
            style.announce(self, line.text)
        text, dim = html.escape(line.text), f"color:{style.TEXT_DIM}"
        if line.kind == "divider":  # a narrow chat breaks it after a "·", never "11:26 ──" alone
            parts = (part.replace(" ", "&nbsp;") for part in text.split(" · "))
            text = "&nbsp;· ".join(parts)
            across = f'<span style="{dim}">──&nbsp;{text}&nbsp;──</span>'
            self._append([(across, self._reading)], gap=14, centre=True)
        else:
            self._append([(f'<span style="{dim}">{text}</span>', self._reading)], gap=8)
        self._keep_newest()

    def replay(self, lines: Sequence[Line], cut_top: bool = False) -> None:
        """Show ``lines`` (from an earlier call of this meeting) as they were, without a word
        to a screen reader or a count of new messages; ``cut_top``: older ones had been
        removed (said above them, as it was)."""
        if cut_top and not self.lines and not self.cut_top:
            say_removed(QTextCursor(self.view.document()))
            self.cut_top = True
        for line in lines:
            if line.kind == "message":
                self._message(line, quiet=True)
            elif line.kind != "unsent":  # (said of an entry that is open again now)
                self._notice(line, quiet=True)

    @property
    def _reading(self) -> Qt.LayoutDirection:
        """The way headings and notices read: the app's (names in them are held apart)."""
        return self.layoutDirection()

    def _append(
        self,
        paragraphs: list[tuple[str, Qt.LayoutDirection]],
        mine: bool = False,
        gap: int = 0,
        centre: bool = False,
    ) -> None:
        """Add ``paragraphs`` (HTML, the way each reads) to the end, ``gap`` px below what is
        there; follow the end if the person was reading it (or wrote this), else leave them
        where they are, reading older messages."""
        bar = self.view.verticalScrollBar()
        self._following = self._following or mine
        doc = self.view.document()
        cursor = QTextCursor(doc)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        first, before = doc.isEmpty(), doc.blockCount()
        cursor.beginEditBlock()  # laid out once, not for each paragraph (2000 lines: 1.5 s)
        for at, (html_text, direction) in enumerate(paragraphs):
            form = QTextBlockFormat()
            form.setTopMargin(style.by_text(gap) if at == 0 and not first else 0)
            form.setLayoutDirection(direction)
            if centre:
                form.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            if at or not first:  # (an empty document has a block to fill)
                cursor.insertBlock(form, QTextCharFormat())
            cursor.insertHtml(html_text)
            cursor.setBlockFormat(form)  # (HTML into an empty document brings its own)
        cursor.endEditBlock()
        self._sizes.append(doc.blockCount() - (0 if first else before))  # (a U+2029 is one)
        if self._following:
            bar.setValue(bar.maximum())

    def _keep_newest(self) -> None:
        """Past SHOWN lines in the view, or MAX_BLOCKS paragraphs, remove the oldest down to
        KEEP of that (the newest line stays); someone reading older ones stays where they are."""
        doc, drop, blocks = self.view.document(), 0, 0
        paragraphs = doc.blockCount() - self.cut_top
        if len(self.lines) <= SHOWN and paragraphs <= MAX_BLOCKS:
            return
        lines, over = int(SHOWN * KEEP), paragraphs - int(MAX_BLOCKS * KEEP)
        while drop < len(self.lines) - 1 and (len(self.lines) - drop > lines or blocks < over):
            blocks, drop = blocks + self._sizes[drop], drop + 1
        bar, high = self.view.verticalScrollBar(), doc.documentLayout().documentSize().height()
        drop_top(doc, blocks, self.cut_top)
        self.cut_top, gone = True, self.lines[:drop]
        del self.lines[:drop], self._sizes[:drop]
        del self.messages[: sum(line.kind == "message" for line in gone)]
        if not self._following:  # (the same message under their eyes)
            shift = high - doc.documentLayout().documentSize().height()
            bar.setValue(bar.value() - round(shift))

    def _scrolled(self, value: int) -> None:
        """The person scrolled (or the end moved): following while at the end."""
        self._following = value >= self.view.verticalScrollBar().maximum() - 4
        if self._following and self.new_messages.count:
            self.new_messages.done()  # read down to the end

    def take_keyboard(self) -> bool:
        """The keyboard to the entry; False if it takes none (the call is over, and nothing
        unsent is left in it to copy)."""
        if not self.entry.isEnabled():
            return False
        self.entry.setFocus()
        return True

    def close_entry(self, why: str, reason: str = "ended") -> None:
        """No more sending (the call is over, for ``reason``); ``why`` shows in the entry. A
        message half typed stays in it, read-only, to be copied (it was wiped without a
        word)."""
        self.ended = (reason, time.time())
        draft = self.entry.text().strip()
        self.entry.setPlaceholderText(why)
        self.entry.hint.hide()
        if not draft:
            self.entry.clear()
            self.entry.setEnabled(False)
            return
        self.entry.setReadOnly(True)
        keys = Qt.TextInteractionFlag.TextSelectableByKeyboard
        self.entry.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | keys)
        unsent = f"{why}: this message was not sent. It stays here to be copied."
        self.entry.setToolTip(unsent)
        self.entry.setAccessibleDescription(unsent)
        self.add_notice(UNSENT, "unsent")

    def open_entry(self, draft: str) -> None:
        """``draft`` (typed in an earlier call of this meeting, not sent) back in the entry."""
        self.entry.setPlainText(draft)
        self.entry.moveCursor(QTextCursor.MoveOperation.End)

    def _submit(self) -> None:
        """Send what is in the box the way the others will see it, and show it so: without
        the bidi controls and the other characters app.net.text takes out of what comes in."""
        typed = self.entry.text()
        text = trimmed(clean_chat(typed, len(typed)))
        if text and not self.entry.isReadOnly():  # (read-only: the call is over, not sent)
            self.entry.clear()
            self.send.emit(split_message(text))  # (what the others take, emoji or not)
