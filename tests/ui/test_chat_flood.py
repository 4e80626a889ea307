"""The chat panel through a call with someone sending messages without end: its view keeps the
newest lines (the document itself, not only what is on screen), says that earlier ones were
removed, and leaves someone reading older messages where they were. Real widgets under Xvfb."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from pytestqt.qtbot import QtBot

from app.meeting.links import Link, new_secret
from app.ui.chat_memory import ChatMemory
from app.ui.chat_panel import ChatPanel
from app.ui.chat_trim import MAX_BLOCKS, REMOVED, SHOWN


def shown_panel(qtbot: QtBot) -> ChatPanel:
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 500)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def test_a_flood_of_messages_leaves_the_newest_and_says_earlier_ones_were_removed(
    qtbot: QtBot,
) -> None:
    """1400 messages (each from one of two people, so each has its heading) and notices: the
    document had a paragraph for every one of them, all call long."""
    panel = shown_panel(qtbot)
    doc = panel.view.document()
    for n in range(1400):
        sender = ("eve", "Eve") if n % 2 else ("bob", "Bob")
        panel.add_message(sender[1], f"message {n}", sender=sender[0])
        if n % 100 == 0:
            panel.add_notice(f"notice {n}")
        assert len(panel.lines) <= SHOWN and doc.blockCount() <= 2 * SHOWN + 1
    assert len(panel.messages) <= SHOWN and len(panel.lines) > SHOWN * 0.8
    assert doc.firstBlock().text() == REMOVED
    text = panel.view.toPlainText()
    assert text.count(REMOVED) == 1 and text.endswith("message 1399")
    assert "message 99\n" not in text
    assert panel.messages[-1] == ("Eve", "message 1399", False)
    oldest, first = panel.lines[0], doc.firstBlock().next()  # (below the line that says so)
    if oldest.kind == "message":  # whole: its heading, then its text
        assert oldest.name in first.text() and first.next().text() == oldest.text
    else:
        assert first.text() == oldest.text


def test_a_message_of_many_lines_counts_each_line(qtbot: QtBot) -> None:
    """Few messages, each of thousands of short lines: the cap on messages alone let the
    paragraphs grow without end."""
    panel = shown_panel(qtbot)
    doc = panel.view.document()
    for n in range(5):
        panel.add_message("Eve", f"block {n}\n" + "x\n" * 1500, sender="eve")
        assert doc.blockCount() <= MAX_BLOCKS + 1502
    assert doc.firstBlock().text() == REMOVED
    text = panel.view.toPlainText()
    assert text.rstrip().endswith("x") and "block 4" in text and "block 0\n" not in text


def test_someone_reading_older_messages_stays_on_them_as_the_oldest_go(qtbot: QtBot) -> None:
    panel = shown_panel(qtbot)
    for n in range(SHOWN - 10):
        panel.add_message("Eve", f"message {n}", sender="eve")
    bar = panel.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)  # reading back
    before = panel.view.cursorForPosition(QPoint(10, 10)).block().text()
    for n in range(SHOWN - 10, SHOWN + 30):  # the oldest go meanwhile
        panel.add_message("Eve", f"message {n}", sender="eve")
    assert panel.view.document().firstBlock().text() == REMOVED  # (they went)
    assert panel.view.cursorForPosition(QPoint(10, 10)).block().text() == before
    assert panel.new_messages.isVisible()


def test_a_message_of_many_lines_is_laid_out_once(qtbot: QtBot) -> None:
    """Each of a message's lines (a paragraph each) was laid out as it went in: a message of
    2000 short lines held the call's window up for 1.5-2 s (0.2-0.4 s laid out once)."""
    panel = shown_panel(qtbot)
    layouts: list[object] = []
    panel.view.document().documentLayout().documentSizeChanged.connect(layouts.append)
    panel.add_message("Eve", "x\n" * 500, sender="eve")
    assert len(layouts) <= 5


def test_joining_again_shows_that_earlier_messages_were_removed(qtbot: QtBot) -> None:
    """The chat of a meeting comes back after Join again (app.ui.chat_memory) with the lines
    its view kept; the line that said older ones were removed comes back above them."""
    link = str(Link("127.0.0.1", 8765, "m", new_secret()))
    memory, panel, back = ChatMemory(), shown_panel(qtbot), shown_panel(qtbot)
    for n in range(SHOWN + 50):
        panel.add_message("Eve", f"message {n}", sender="eve")
    memory.keep(link, panel)
    assert memory.restore(link, back) is not None
    doc = back.view.document()
    assert doc.firstBlock().text() == REMOVED and back.view.toPlainText().count(REMOVED) == 1
    heading = doc.firstBlock().next()
    assert "Eve" in heading.text() and heading.next().text() == panel.messages[0][1]
    assert [m[1] for m in back.messages] == [m[1] for m in panel.messages]
