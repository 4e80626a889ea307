"""The chat's view kept to its newest lines (app.ui.chat_panel): a peer sending messages all call
long grew the view's document without end, and each message added took longer to lay out than
the last. The oldest lines leave the document itself (not only the screen), and a line at the
top says that earlier messages were removed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument

from app.ui import style

SHOWN = 1000  # lines the chat shows at most (messages and notices): past it, the oldest go
MAX_BLOCKS = 5 * SHOWN  # paragraphs in the view at most: a message of many short lines counts each
#: the oldest tenth goes at once: a removal lays out all that stays again (1.2 ms with 1000
#: lines), one for every message that came was slower than keeping them all
KEEP = 0.9
REMOVED = "Earlier messages were removed: the chat shows the last 1,000."


def drop_top(doc: QTextDocument, blocks: int, marked: bool) -> None:
    """Remove the first ``blocks`` paragraphs of ``doc`` (the oldest lines), below the line that
    says so if ``marked`` (it is there already), else in place of them."""
    first = 1 if marked else 0
    kept = doc.findBlockByNumber(first + blocks)  # (the oldest paragraph that stays)
    cursor = QTextCursor(doc)
    if marked:  # from the end of the line that says so: it stays as it is, and so does ``kept``
        cursor.setPosition(doc.findBlockByNumber(first).position() - 1)
    cursor.setPosition(kept.position() - 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    if not marked:
        say_removed(cursor)  # (in the first paragraph, emptied)


def say_removed(cursor: QTextCursor) -> None:
    """The line that says earlier messages were removed, in ``cursor``'s paragraph (empty)."""
    form = QTextBlockFormat()
    form.setAlignment(Qt.AlignmentFlag.AlignHCenter)
    form.setBottomMargin(style.by_text(6))
    cursor.setBlockFormat(form)
    cursor.setCharFormat(QTextCharFormat())
    cursor.insertHtml(f'<span style="color:{style.TEXT_DIM}">{REMOVED}</span>')
    cursor.setBlockFormat(form)
