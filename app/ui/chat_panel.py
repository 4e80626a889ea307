"""Chat beside the video: messages from everyone (yours too), a line to type in; Enter sends."""

from __future__ import annotations

import html
import re
import time

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from app.net.text import MAX_CHAT_CHARS
from app.ui import style
from app.ui.chat_hint import NewMessages

MAX_LEN = MAX_CHAT_CHARS  # characters per message, as the others take it; longer input is cut
SAID_CHARS = 280  # of a longer message, a screen reader reads this much (the rest is shown)


#: web addresses in a message become links (what is around them stays plain text); a bare
#: ``www.`` address counts as one (it opens as https)
_WEB = re.compile(r"(?:https?://|(?<![\w.@/])www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


def linkify(text: str) -> str:
    """``text`` as HTML: escaped, with its http(s) and www. addresses as links."""
    out, at = [], 0
    for found in _WEB.finditer(text):
        url, end = found.group(0), found.end()
        while text[end : end + 1] == ")" and url.count("(") > url.count(")"):
            url, end = url + ")", end + 1  # ...wiki/Python_(language): its own bracket
        shown = url
        if url[:4].lower() == "www.":
            url = "https://" + url
        out += [html.escape(text[at : found.start()]), f'<a href="{html.escape(url)}"']
        out.append(f' style="color:{style.ACCENT}">{html.escape(shown)}</a>')
        at = end
    return "".join(out) + html.escape(text[at:])


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
        self.entry = QLineEdit()
        self.entry.setPlaceholderText("Message everyone  (Enter to send)")
        self.entry.setAccessibleName("Message everyone")
        self.entry.setMaxLength(4 * MAX_LEN)  # (UTF-16 units, an emoji is two; sent in parts)
        self.entry.returnPressed.connect(self._submit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 16)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.entry)
        self._last_sender: tuple[str, bool] | None = None

    def add_message(self, name: str, text: str, mine: bool = False, sender: str = "") -> None:
        """``sender``: who sent it (a peer id), so that two people of one name are not taken
        for one; "" groups by the name."""
        self.messages.append((name, text, mine))
        who = "You" if mine else name
        body = linkify(text).replace("\n", "<br>")
        colour = style.ACCENT if mine else style.SPEAKING
        head = ""
        if self._last_sender != (sender or name, mine):  # group one person's messages in a row
            stamp = time.strftime("%H:%M")
            small = f"color:{style.TEXT_DIM}; font-size:{style.pt(8)}"
            head = (
                f'<div><b style="color:{colour}">{html.escape(who)}</b>'
                f'&nbsp;<span style="{small}">{stamp}</span></div>'
            )
        self._last_sender = (sender or name, mine)
        if not mine:  # read out as it comes, where the keyboard is (the chat may be hidden)
            style.announce(self, f"{name}: {said(text)}")
        # a new sender stands apart; one sender's messages in a row, each a paragraph
        self._append(f'{head}<div style="color:{style.TEXT}">{body}</div>', mine, 10 if head else 4)
        if mine:
            self.new_messages.done()
        elif not self._following:  # left where they read: told that more has come
            self.new_messages.came()

    def add_notice(self, text: str) -> None:
        self._last_sender = None
        style.announce(self, text)  # ("Olga joined", "Olga left", "nobody got this message")
        self._append(f'<div style="color:{style.TEXT_DIM}"><i>{html.escape(text)}</i></div>', gap=8)

    def _append(self, html_text: str, mine: bool = False, gap: int = 0) -> None:
        """Add to the end, ``gap`` px below what is there; follow the end if the person was
        reading it (or wrote this), else leave them where they are, reading older messages."""
        bar = self.view.verticalScrollBar()
        self._following = self._following or mine
        doc = self.view.document()
        first = doc.blockCount() if not doc.isEmpty() else 0  # (append fills an empty one)
        self.view.append(html_text)
        block = doc.findBlockByNumber(first)  # (append drops a CSS margin-top: set it here)
        spaced = block.blockFormat()
        spaced.setTopMargin(style.by_text(gap) if first else 0)  # (none above the first)
        QTextCursor(block).setBlockFormat(spaced)
        if self._following:
            bar.setValue(bar.maximum())

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

    def close_entry(self, why: str) -> None:
        """No more sending (the call is over); ``why`` shows in the entry. A message half
        typed stays in it, read-only, to be copied (it was wiped without a word)."""
        draft = self.entry.text().strip()
        self.entry.setPlaceholderText(why)
        if not draft:
            self.entry.clear()
            self.entry.setEnabled(False)
            return
        self.entry.setReadOnly(True)
        unsent = f"{why}: this message was not sent. It stays here to be copied."
        self.entry.setToolTip(unsent)
        self.entry.setAccessibleDescription(unsent)
        self.add_notice("What you were typing was not sent: it is left below, to copy.")

    def _submit(self) -> None:
        text = self.entry.text().strip()
        if text and not self.entry.isReadOnly():  # (read-only: the call is over, not sent)
            self.entry.clear()
            self.send.emit(split_message(text))  # (what the others take, emoji or not)


def said(text: str, limit: int = SAID_CHARS) -> str:
    """What a screen reader reads of a message as it comes: a long one (a page pasted) was read
    whole, minutes of it, and everything said after it waited."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2 :]:  # at a word's end
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut} … (long message: the rest is in the chat)"


def split_message(text: str, limit: int = MAX_LEN) -> list[str]:
    """``text`` in messages of at most ``limit`` characters, cut at a space where one is near
    the limit (nothing is lost)."""
    parts = []
    while len(text) > limit:
        cut = text.rfind(" ", limit // 2, limit + 1)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text else parts
