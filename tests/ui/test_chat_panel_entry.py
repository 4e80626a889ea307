"""The chat panel's box to write in and what it sends: several lines, pastes, its limit, messages
split into parts (never inside a character), spaces and indents kept as typed; and messages of
several lines received as typed."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QKeySequence, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui.chat_entry import CLIPPED, KEYS, LIMIT, MAX_LINES, ChatEntry
from app.ui.chat_panel import MAX_LEN, ChatPanel, split_message


def sending(qtbot: QtBot, *, shown: bool = False) -> tuple[ChatPanel, list[str]]:
    """A chat panel (on screen if ``shown``), and the list of what it sends."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    if shown:
        panel.show()
        qtbot.waitExposed(panel)
    sent: list[str] = []
    panel.send.connect(sent.extend)
    return panel, sent


def test_a_message_is_split_at_what_the_others_take_emoji_or_not(qtbot: QtBot) -> None:
    panel, sent = sending(qtbot)
    panel.entry.setPlainText("🙂" * 4100)  # two UTF-16 units each: Qt's limit counts those
    panel.entry.submitted.emit()
    assert sent == ["🙂" * 4000, "🙂" * 100]  # in two: what the others take, nothing lost


def test_a_long_message_without_spaces_is_not_cut_inside_a_character(qtbot: QtBot) -> None:
    """No space or line break near the limit: the message was cut at exactly MAX_LEN code
    points, which fell between an emoji and its skin tone (one part ended in "👍", the next
    began with "🏽", shown on both sides as two broken emoji), or a letter and its accent. The
    cut goes back to where the character as seen begins; the parts still join back to the
    message."""
    panel, sent = sending(qtbot)
    thumbs = "k" + "👍🏽" * 2500 + "!"  # (1, then 2 per emoji: the limit falls inside one)
    panel.entry.setPlainText(thumbs)
    panel.entry.submitted.emit()
    assert "".join(sent) == thumbs and all(len(part) <= MAX_LEN for part in sent)
    assert all(part.startswith(("k", "👍")) for part in sent), [p[:2] for p in sent]
    accents = "x" * (MAX_LEN - 1) + "e\u0301" + "tc"  # (é as e and its combining accent)
    assert split_message(accents) == ["x" * (MAX_LEN - 1), "e\u0301tc"]
    family = "👨\u200d👩\u200d👧" * 1001  # (5 code points each, joined by ZWJ)
    parts = split_message(family)
    assert "".join(parts) == family and parts[1].startswith("👨\u200d👩")


def test_a_no_break_space_is_sent_as_typed(qtbot: QtBot) -> None:
    """A no-break space (typed with AltGr+Space on French layouts, or pasted) was sent as a
    plain space: the box's plain text turns it into one, and "20 %" could break there."""
    panel, sent = sending(qtbot, shown=True)
    panel.entry.setFocus()
    QTest.keyClicks(panel.entry, "Prix\u00a0: 20\u00a0%")
    QTest.keyClick(panel.entry, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(panel.entry, "merci")
    QTest.keyClick(panel.entry, Qt.Key.Key_Return)
    assert sent == ["Prix\u00a0: 20\u00a0%\nmerci"]


def test_pasted_code_keeps_the_indent_of_its_first_line(qtbot: QtBot) -> None:
    """Blank lines before a message and white space after it are left out, but not the
    indent of its first line: pasted code arrives lined up as it was."""
    panel, sent = sending(qtbot, shown=True)
    panel.entry.setFocus()
    QApplication.clipboard().setText("\n  \n    if ready:\n        go()\n\n")
    QTest.keySequence(panel.entry, QKeySequence.StandardKey.Paste)
    QTest.keyClick(panel.entry, Qt.Key.Key_Return)
    assert sent == ["    if ready:\n        go()"]
    QTest.keyClicks(panel.entry, "   ")  # white space alone is not a message
    QTest.keyClick(panel.entry, Qt.Key.Key_Return)
    assert len(sent) == 1


def test_a_long_message_goes_whole_in_parts(qtbot: QtBot) -> None:
    panel, sent = sending(qtbot)
    text = " ".join(f"word{i}" for i in range(1000))  # 6889 characters
    panel.entry.setPlainText(text)
    panel.entry.submitted.emit()
    assert len(sent) == 2 and all(len(part) <= MAX_LEN for part in sent)
    assert "".join(sent) == text  # cut after a space, nothing lost
    assert split_message("x" * (MAX_LEN + 5)) == ["x" * MAX_LEN, "xxxxx"]  # no space: cut
    code = "def f():\n" + "    return 1  # one\n" * 300  # indented lines, a cut between two
    parts = split_message(code)
    assert parts[1].startswith("    return") and parts[0].endswith("\n")
    assert "".join(parts) == code and all(len(part) <= MAX_LEN for part in parts)
    assert "".join(split_message("a   b " * 2000)) == "a   b " * 2000  # runs of spaces too


def one_line(entry: ChatEntry) -> int:
    """The box's height with one line in it."""
    return entry.fontMetrics().lineSpacing()


def test_the_box_takes_several_lines_and_grows_with_them_up_to_a_few(qtbot: QtBot) -> None:
    """The chat's box was a single line: a message of several lines could not be written, and
    one pasted showed as one line. Enter sends, Shift+Enter starts a new line; the box grows
    with them, up to MAX_LINES, then scrolls; once sent, it is one line high again."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 600)
    panel.show()
    qtbot.waitExposed(panel)
    sent: list[str] = []
    panel.send.connect(sent.extend)
    entry, shift = panel.entry, Qt.KeyboardModifier.ShiftModifier
    entry.setFocus()
    empty = entry.height()
    QTest.keyClicks(entry, "agenda:")
    QTest.keyClick(entry, Qt.Key.Key_Return, shift)
    QTest.keyClicks(entry, "1. budget")
    assert entry.text() == "agenda:\n1. budget" and not sent  # Shift+Enter: a new line
    assert entry.height() >= empty + one_line(entry)  # grown by the line
    for i in range(2, 12):
        QTest.keyClick(entry, Qt.Key.Key_Return, shift)
        QTest.keyClicks(entry, f"{i}. item")
    bar = entry.verticalScrollBar()
    assert empty + (MAX_LINES - 1) * one_line(entry) <= entry.height()
    assert entry.height() < empty + MAX_LINES * one_line(entry)  # no higher: it scrolls
    assert bar.maximum() > 0 and bar.value() > 0  # scrolled, the line typed in view:
    assert entry.viewport().rect().contains(entry.cursorRect())
    QTest.keyClick(entry, Qt.Key.Key_Return)  # Enter sends
    assert len(sent) == 1 and sent[0].startswith("agenda:\n1. budget\n2. item\n")
    assert entry.text() == "" and entry.height() == empty
    panel.add_message("Me", sent[0], mine=True)  # (as the call window shows what was sent)
    lines = paragraphs(panel)
    assert lines[-12:] == ["agenda:", "1. budget", *(f"{i}. item" for i in range(2, 12))]


def paragraphs(panel: ChatPanel) -> list[str]:
    doc, found = panel.view.document(), []
    block = doc.begin()
    while block.isValid():
        found.append(block.text())
        block = block.next()
    return found


def test_a_received_message_of_several_lines_shows_them_as_typed(qtbot: QtBot) -> None:
    """Lines, blank lines and the spaces that line things up stay as they were written."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.add_message("Olga", "totals:\n\n    north   12\n    south    7", sender="p1")
    assert paragraphs(panel)[1:] == ["totals:", "", "    north   12", "    south    7"]
    assert "totals:\n\n    north   12\n    south    7" in panel.view.toPlainText()


def test_a_paste_keeps_its_line_breaks_and_leaves_its_formatting(qtbot: QtBot) -> None:
    """Copied from a web page or a document: the text and its lines come in, not its fonts
    and colours (nothing of it is sent anyway), and Windows' line ends are plain ones."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    copied = QMimeData()
    copied.setHtml('<h1 style="color:red">Minutes</h1><p><b>bold</b> point</p>')
    copied.setText("Minutes\r\nbold point")
    QApplication.clipboard().setMimeData(copied)
    entry = panel.entry
    entry.setFocus()
    QTest.keyClicks(entry, "> ")
    QTest.keySequence(entry, QKeySequence.StandardKey.Paste)
    assert entry.text() == "> Minutes\nbold point"
    html = entry.toHtml()
    assert "red" not in html and "font-weight:700" not in html and "<h1" not in html, html
    assert entry.height() > one_line(entry) * 2  # (two lines: the box grew)


def test_the_box_holds_what_it_did_and_says_what_was_left_out(qtbot: QtBot) -> None:
    """The single-line entry took LIMIT characters (sent in parts); the box does too, and
    says so under it as the end comes near, and when a paste went past it (the line entry
    cut it without a word)."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    entry = panel.entry
    assert entry.hint.text() == KEYS  # (how to send, how to start a new line)
    entry.setPlainText("x" * (LIMIT - 150))
    entry.moveCursor(QTextCursor.MoveOperation.End)
    assert entry.hint.text() == "150 characters left of 16,000."
    copied = QMimeData()
    copied.setText("y" * 100 + " " + "z" * 100)
    entry.insertFromMimeData(copied)
    assert len(entry.text()) == LIMIT and entry.text().endswith("y" * 100 + " " + "z" * 49)
    assert entry.hint.text() == CLIPPED and entry.hint.property("role") == "warning"
    assert "left out" in CLIPPED and "Send this, then paste the rest" in CLIPPED
    QTest.keyClicks(entry, "more")  # at the limit: nothing more goes in
    assert len(entry.text()) == LIMIT
    entry.setPlainText("🙂" * (LIMIT // 2 - 1))  # two units each
    entry.moveCursor(QTextCursor.MoveOperation.End)
    copied.setText("🙂🙂")  # room for one
    entry.insertFromMimeData(copied)
    assert entry.text() == "🙂" * (LIMIT // 2)  # never half of one
    entry.clear()
    assert entry.hint.text() == KEYS and entry.hint.property("role") == "dim"


def test_a_paste_cut_at_the_limit_is_undone_in_one_step(qtbot: QtBot) -> None:
    """A paste past the limit was cut after it went in: Ctrl+Z brought back what was cut,
    which was cut again at once, so the paste could never be undone (nor anything before
    it). Now it is one step: undone, the box holds what was typed before it; typing at the
    limit is undone as it was typed."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    entry = panel.entry
    entry.setFocus()
    QTest.keyClicks(entry, "see below: ")
    copied = QMimeData()
    copied.setText("page " * (LIMIT // 5 + 20))
    QApplication.clipboard().setMimeData(copied)
    QTest.keySequence(entry, QKeySequence.StandardKey.Paste)
    assert len(entry.text()) == LIMIT and entry.hint.text() == CLIPPED
    QTest.keySequence(entry, QKeySequence.StandardKey.Undo)
    assert entry.text() == "see below: "
    assert entry.hint.text() == KEYS  # (nothing cut in the box now)
    QTest.keySequence(entry, QKeySequence.StandardKey.Redo)
    assert len(entry.text()) == LIMIT
    QTest.keyClicks(entry, "!")  # (no room: left out, and said)
    assert len(entry.text()) == LIMIT and entry.hint.text() == CLIPPED
    QTest.keySequence(entry, QKeySequence.StandardKey.Undo)
    assert entry.text() == "see below: "
