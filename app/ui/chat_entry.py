"""The chat's box to write in, as in other chat apps: Enter sends, Shift+Enter starts a new line.
It grows with what is written up to MAX_LINES lines, then scrolls; a paste comes in as plain text
with its line breaks (no fonts or colours from a web page or a document). It holds at most LIMIT
characters, as the single-line entry did (sent in parts of what the others take): what goes past
is left out, and the line under the box (``hint``) says so, and what to do.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor, QTextDocument
from PySide6.QtWidgets import QLabel, QSizePolicy, QTextEdit, QWidget

from app.net.text import MAX_CHAT_CHARS
from app.ui import style
from app.ui.chat_text import units

LIMIT = 4 * MAX_CHAT_CHARS  # characters in the box (UTF-16 units, an emoji is two); sent in parts
MAX_LINES = 6  # the box grows up to this many lines, then scrolls
NEAR = 0.9  # from this share of LIMIT on, the line under the box counts what is left
KEYS = "Enter sends, Shift+Enter starts a new line"
CLIPPED = (
    f"That is more than a message can hold ({LIMIT:,} characters): the rest was left out. "
    "Send this, then paste the rest."
)
_TYPING = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
_BREAKS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\r": "\n"})


def plain(text: str) -> str:
    """Pasted ``text`` with its line breaks as the box keeps them (Windows' \\r\\n, old Macs' \\r,
    Unicode's separators: one \\n each)."""
    return text.replace("\r\n", "\n").translate(_BREAKS)


def _line_height(doc: QTextDocument) -> float:
    """How high the document lays out one line of its font (more than the font's line spacing:
    six lines measured by that were scrolled, with a scroll bar, in a box made for six)."""
    probe = QTextDocument()
    probe.setDefaultFont(doc.defaultFont())
    probe.setDocumentMargin(0)
    probe.setPlainText("X")
    return probe.size().height()


class ChatEntry(QTextEdit):
    submitted = Signal()  # Enter (not Shift+Enter) in the box

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ChatEntry")
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)  # (Tab goes on to the buttons, as from a line)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().setDocumentMargin(2)
        self.hint = QLabel(KEYS)  # under the box (the chat panel places it)
        self.hint.setProperty("role", "dim")
        self.hint.setWordWrap(True)
        self.setAccessibleDescription(f"{KEYS}.")
        self.clipped = False  # the last change went past LIMIT, and was cut
        self._cut = False  # (what is going in now was cut to fit)
        self.textChanged.connect(self._changed)
        self.document().documentLayout().documentSizeChanged.connect(lambda _size: self.fit())
        self.fit()

    def text(self) -> str:
        """What is written, as written: toPlainText() turns a no-break space into a space
        ("20\u00a0€" was sent as "20 €", free to break across lines)."""
        return plain(self.document().toRawText())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        typed, bare = event.text(), not event.modifiers() & ~_TYPING
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.submitted.emit()
            elif not self.isReadOnly():
                self._insert("\n")  # (a paragraph: Qt's own is a soft break)
        elif bare and typed.isprintable() and self._room() < units(typed):
            self._insert(typed)  # (no room: said, and left out before it goes in)
        else:
            super().keyPressEvent(event)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """Paste and drop: the text only, with its line breaks; links dropped as their
        addresses."""
        text = source.text() or "\n".join(url.toString() for url in source.urls())
        if text:
            self._insert(plain(text))

    def _room(self) -> int:
        """Units that still go in where the cursor is (what is selected goes out first)."""
        return LIMIT - units(self.toPlainText()) + units(self.textCursor().selectedText())

    def _insert(self, text: str) -> None:
        """``text`` in at the cursor, as much of it as the box has room for: cut before it
        goes in, it is one step to undo (cut after, Ctrl+Z brought the rest back, which was
        cut again: the paste could not be undone)."""
        room = self._room()
        if units(text) > room:
            coded = text.encode("utf-16-le")[: 2 * max(room, 0)]
            text = coded.decode("utf-16-le", "ignore")  # (never half an emoji)
            self._cut = True
        try:
            if text:  # (a step of its own to undo, not with what was typed before it)
                cursor = self.textCursor()
                cursor.beginEditBlock()
                cursor.insertText(text)
                cursor.endEditBlock()
            elif self._cut:
                self._changed()  # (nothing went in: still said)
        finally:
            self._cut = False
        self.ensureCursorVisible()

    def fit(self) -> None:
        """As high as what is written, from one line up to MAX_LINES (then it scrolls)."""
        doc = self.document()
        line, margins = _line_height(doc), 2 * doc.documentMargin()
        body = min(max(doc.size().height(), line + margins), MAX_LINES * line + margins)
        edge = self.contentsMargins()  # (frame and padding)
        height = math.ceil(body) + edge.top() + edge.bottom()
        if height != self.height():
            self.setFixedHeight(height)
            self.ensureCursorVisible()

    def _changed(self) -> None:
        text = self.toPlainText()
        over = units(text) - LIMIT
        if over > 0 or self._cut:  # (past LIMIT some other way, an input method's: cut now)
            if over > 0:
                self._trim(text, over)
            self.clipped = True
            style.announce(self, CLIPPED)
        elif units(text) < LIMIT:
            self.clipped = False
        self._say_room(units(self.toPlainText()))

    def _trim(self, text: str, over: int) -> None:
        """Take ``over`` units out of the box: what was just typed or pasted (before the
        cursor), else from the end; never half an emoji."""
        coded = text.encode("utf-16-le")
        end = self.textCursor().position()
        start = max(0, end - over)
        if start and 0xDC00 <= int.from_bytes(coded[2 * start : 2 * start + 2], "little") < 0xE000:
            start -= 1  # (the second half of a pair: the first goes too)
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        left = units(self.toPlainText()) - LIMIT
        if left > 0:  # (the cursor was too near the start)
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.setPosition(cursor.position() - left, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()

    def _say_room(self, used: int) -> None:
        if self.clipped:
            text = CLIPPED
        elif used >= NEAR * LIMIT:
            text = f"{LIMIT - used:,} characters left of {LIMIT:,}."
        else:
            text = KEYS
        if self.hint.text() != text:
            self.hint.setText(text)
            style.restyle(self.hint, "role", "warning" if self.clipped else "dim")
