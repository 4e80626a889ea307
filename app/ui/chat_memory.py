"""The chat of a meeting, kept for the next call of that meeting (app.ui.call_window).

Join again (after a call that was cut off) closes the call window and joins through a new one:
its chat was empty, the conversation so far gone from view, and what was being typed with it.
A ``ChatMemory`` belongs to the one Bridge (a person's calls, one after the other): each call
window gives it its chat as it closes, and the next window of the same meeting (the link's
secret) shows that chat again, with a divider where the person left and came back, and puts what
they were typing back in the box, to finish and send. Another meeting starts with an empty chat.
Kept in memory only, while PeerMeet runs, and not without end: the chat of the last MEETINGS
meetings left, the last LINES lines of each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt

from app.errors import PeerMeetError
from app.meeting.links import parse_link
from app.ui.chat_panel import ChatPanel
from app.ui.chat_text import Line
from app.ui.chat_trim import SHOWN

MEETINGS = 10  # meetings whose chat is kept: the last left (an older one's goes)
LINES = SHOWN  # of a meeting's chat, the last lines kept (as many as its view shows)


@dataclass(frozen=True)
class Earlier:
    """What a meeting's chat held as its call window closed."""

    lines: tuple[Line, ...]
    draft: str  # typed, not sent
    reason: str  # why the call ended ("left": the person closed its window)
    at: float  # when (time.time())
    shown: bool = False  # the chat was open
    cut_top: bool = False  # its oldest lines had been removed (app.ui.chat_trim)

    @property
    def reopen(self) -> bool:
        """The chat opens again in the new window: it was open, or what was typed is back."""
        return self.shown or bool(self.draft.strip())


def divider(reason: str, gone: float, back: float) -> str:
    """The line between the earlier part of a meeting's chat and now."""
    then, now = (time.strftime("%H:%M", time.localtime(t)) for t in (gone, back))
    if reason == "left":
        return f"You left at {then} · joined again at {now}"
    if reason == "disconnected":
        return f"You were cut off at {then} · joined again at {now}"
    return f"The call ended at {then} · you joined again at {now}"


def _meeting(link: str) -> str | None:
    try:
        return parse_link(link).secret
    except PeerMeetError:
        return None  # (a window that never joined)


class ChatMemory(QObject):
    @classmethod
    def of(cls, bridge: QObject) -> ChatMemory:
        """The memory of ``bridge``'s calls (made the first time it is asked for)."""
        found = bridge.findChild(cls, "", Qt.FindChildOption.FindDirectChildrenOnly)
        return found if isinstance(found, ChatMemory) else cls(bridge)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._kept: dict[str, Earlier] = {}  # by the meeting's secret

    def keep(self, link: str, chat: ChatPanel) -> None:
        """``chat`` as the call of ``link`` leaves it (its window is closing)."""
        meeting, draft = _meeting(link), chat.entry.text()
        if meeting is None or not (chat.lines or draft.strip()):
            return
        reason, at = chat.ended or ("left", time.time())
        self._kept.pop(meeting, None)  # (left last: kept longest)
        lines, shown = tuple(chat.lines[-LINES:]), not chat.isHidden()
        cut = chat.cut_top or len(chat.lines) > LINES
        self._kept[meeting] = Earlier(lines, draft.strip("\n"), reason, at, shown, cut)
        for gone in list(self._kept)[:-MEETINGS]:  # (in the order they were left)
            del self._kept[gone]

    def restore(self, link: str, chat: ChatPanel) -> Earlier | None:
        """Show in ``chat`` (of a new call of ``link``) what the last call of that meeting
        showed, and put what was being typed back in its box; None if there is nothing (a
        first call, another meeting). The window opens the chat if ``reopen``."""
        meeting = _meeting(link)
        earlier = self._kept.pop(meeting, None) if meeting is not None else None
        if earlier is None:
            return None
        if earlier.lines:
            chat.replay(earlier.lines, earlier.cut_top)
            text = divider(earlier.reason, earlier.at, time.time())
            chat.add_notice(text, "divider")
        if earlier.draft.strip():
            chat.open_entry(earlier.draft)
        return earlier
