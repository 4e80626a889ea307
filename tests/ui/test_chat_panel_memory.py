"""The chat panel's memory of a meeting (app.ui.chat_memory): a call cut off while typing comes
back with its chat and the text to finish, only the last meetings' chats (and of each its last
lines) are kept, and the divider says how the earlier part of the call ended."""

from __future__ import annotations

import re
import time

from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.meeting.links import Link, new_secret
from app.ui.chat_memory import LINES, MEETINGS, ChatMemory, divider
from app.ui.chat_panel import UNSENT, ChatPanel
from app.ui.chat_trim import KEEP


def test_a_call_cut_off_while_typing_comes_back_with_its_chat_and_the_text_to_finish(
    qtbot: QtBot,
) -> None:
    """What the next window of the same meeting gets (app.ui.chat_memory): the messages as
    they were (not read out or counted as new again), a divider that says the call was cut
    off, and the message half typed back in the box, editable (the note that it was left to
    copy is not shown again). Another meeting's window gets nothing."""
    link, other = (str(Link("127.0.0.1", 8765, room, new_secret())) for room in ("a", "b"))
    memory = ChatMemory()
    before = ChatPanel()
    qtbot.addWidget(before)
    before.add_message("Olga", "are the numbers ready?", sender="p1")
    QTest.keyClicks(before.entry, "almost: the last")
    before.close_entry("The call has ended", "disconnected")
    assert before.entry.isReadOnly() and UNSENT in before.view.toPlainText()
    memory.keep(link, before)
    elsewhere, after = ChatPanel(), ChatPanel()
    for panel in (elsewhere, after):
        qtbot.addWidget(panel)
    assert memory.restore(other, elsewhere) is None and not elsewhere.lines
    assert memory.restore(link, after) is not None
    assert after.messages == [("Olga", "are the numbers ready?", False)]
    shown = after.view.toPlainText()
    assert re.search(r"You were cut off at \d\d:\d\d · joined again at \d\d:\d\d ──$", shown)
    assert UNSENT not in shown and after.new_messages.count == 0
    assert after.entry.text() == "almost: the last" and not after.entry.isReadOnly()
    assert after.entry.textCursor().atEnd()
    assert memory.restore(link, ChatPanel()) is None  # (given once: the new window keeps it)


def test_the_chat_of_only_the_last_meetings_is_kept_and_of_each_its_last_lines(
    qtbot: QtBot,
) -> None:
    """Every meeting's chat was kept for as long as PeerMeet ran (a day of calls, pages pasted
    in each). The last MEETINGS meetings left keep theirs (one left again counts as the last),
    and of each the last LINES lines come back."""
    links = [str(Link("127.0.0.1", 8765, f"m{i}", new_secret())) for i in range(MEETINGS + 1)]
    memory = ChatMemory()

    def left(link: str, *said: str) -> None:
        panel = ChatPanel()
        qtbot.addWidget(panel)
        for text in said:
            panel.add_message("Olga", text, sender="p1")
        memory.keep(link, panel)

    left(links[0], "first meeting")
    left(links[1], "second meeting")
    for link in links[2:MEETINGS]:
        left(link, "another meeting")
    left(links[0], "first meeting, again")  # (MEETINGS so far: all kept)
    left(links[MEETINGS], "one more")  # one too many: the one left longest ago goes
    back = ChatPanel()
    qtbot.addWidget(back)
    assert memory.restore(links[1], back) is None and back.messages == []  # the oldest: gone
    assert memory.restore(links[0], back) is not None
    assert back.messages == [("Olga", "first meeting, again", False)]
    for link in links[2:]:
        assert memory.restore(link, ChatPanel()) is not None
    said = [f"line {i}" for i in range(LINES + 5)]
    left(links[1], *said)
    long = ChatPanel()
    qtbot.addWidget(long)
    memory.restore(links[1], long)
    back_again = [text for _name, text, _mine in long.messages]  # the last, as the view kept
    assert back_again == said[-len(back_again) :] and LINES * KEEP <= len(back_again) <= LINES


def test_the_divider_says_how_the_earlier_part_of_the_call_ended() -> None:
    gone, back = (time.mktime((2025, 3, 4, 10, m, 0, 0, 0, -1)) for m in (2, 5))
    assert divider("left", gone, back) == "You left at 10:02 · joined again at 10:05"
    assert divider("disconnected", gone, back).startswith("You were cut off at 10:02 ·")
    assert divider("ended", gone, back) == "The call ended at 10:02 · you joined again at 10:05"
