"""The chat panel: web addresses become links that open in the browser, nothing else does; the
box to write in (several lines, pastes, its limit); names and text that read right to left."""

from __future__ import annotations

import re
import time

import pytest
from PySide6.QtCore import QMimeData, QRect, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QKeySequence, QTextBlock, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.meeting.links import Link, new_secret
from app.ui.chat_entry import CLIPPED, KEYS, LIMIT, MAX_LINES, ChatEntry
from app.ui.chat_memory import LINES, MEETINGS, ChatMemory, divider
from app.ui.chat_panel import MAX_LEN, UNSENT, ChatPanel, linkify, split_message
from app.ui.chat_trim import KEEP
from app.ui.style import FSI, PDI


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


def test_chat_links_web_addresses_and_only_those(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = linkify("see www.example.com/x. (bob@www.example.com is no link)")
    assert '<a href="https://www.example.com/x"' in bare and ">www.example.com/x</a>." in bare
    assert bare.count("<a ") == 1
    html = linkify("notes: https://example.org/doc?id=1&x=2. <b>bold</b> javascript:alert(1)")
    assert '<a href="https://example.org/doc?id=1&amp;x=2"' in html  # the full stop stays out
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and 'href="javascript' not in html
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.add_message("Ada", "slides: https://example.org/s")
    assert "https://example.org/s" in panel.view.toHtml()
    panel.view.anchorClicked.emit(QUrl("https://example.org/s"))
    panel.view.anchorClicked.emit(QUrl("file:///etc/passwd"))  # (a crafted anchor): ignored
    assert opened == ["https://example.org/s"]


def test_reading_older_messages_is_not_interrupted(qtbot: QtBot) -> None:
    """A new message scrolls the chat to the end only if the person was at the end (or sent
    it): someone reading back up stays where they are."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 400)
    panel.show()
    for i in range(60):
        panel.add_message("Ada", f"message {i}")
    bar = panel.view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # following the end
    bar.setValue(0)  # reading back
    panel.add_message("Ada", "one more")
    panel.add_notice("Bo joined")
    assert bar.value() == 0
    panel.add_message("Me", "my answer", mine=True)  # what I send: shown
    assert bar.value() == bar.maximum()


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


def test_the_chat_stays_at_the_end_when_the_panel_resizes(qtbot: QtBot) -> None:
    """Following the end survives a resize (the window made smaller, the panel narrowed):
    the next messages still come into view."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 400)
    panel.show()
    qtbot.waitExposed(panel)
    bar = panel.view.verticalScrollBar()
    for i in range(40):
        panel.add_message("Ada", f"message {i} " + "words " * 8)
    assert bar.value() == bar.maximum() > 0
    panel.resize(290, 300)  # narrower: the text wraps into more lines
    qtbot.wait(20)
    for i in range(5):
        panel.add_message("Bo", f"later {i}")
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    bar.setValue(bar.maximum() // 2)  # reading back: a resize does not pull them down
    panel.resize(340, 300)
    panel.add_message("Bo", "one more")
    qtbot.wait(20)
    assert bar.value() < bar.maximum()


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


def test_a_link_keeps_its_own_closing_bracket() -> None:
    html = linkify("see https://en.wikipedia.org/wiki/Python_(language) (or not)")
    assert 'href="https://en.wikipedia.org/wiki/Python_(language)"' in html
    assert linkify("(https://example.org/a)").endswith("/a</a>)")  # a bracket around it stays out


def test_messages_and_senders_are_spaced_apart(qtbot: QtBot) -> None:
    """A new sender's heading stands apart from the message before it, and two messages of one
    sender in a row are two paragraphs: the gaps were written as CSS margins, which
    QTextBrowser.append drops, so 'You' sat under Olga's last line and 'yes' then 'I hear you'
    read as one message."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.add_notice("Olga joined")
    panel.add_message("Olga", "Hi! Is this thing on?", sender="p1")
    panel.add_message("Olga", "see https://example.org/x", sender="p1")
    panel.add_message("Me", "yes", mine=True)
    panel.add_message("Me", "I hear you\nsecond line", mine=True)
    doc, gaps = panel.view.document(), {}
    block = doc.begin()
    while block.isValid():
        first_line = block.text().split("\xa0")[0].strip(FSI + PDI)  # (a heading: no time)
        gaps[first_line] = block.blockFormat().topMargin()
        block = block.next()
    assert gaps["Olga"] >= 8 and gaps["You"] >= 8, gaps  # a heading: a clear gap
    assert 0 < gaps["see https://example.org/x"] < gaps["Olga"], gaps  # one sender: a small one
    assert 0 < gaps["I hear you"] < gaps["You"], gaps
    assert gaps["Hi! Is this thing on?"] == 0 and gaps["yes"] == 0  # (under its heading)


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


def test_a_right_to_left_name_reads_before_its_time_and_its_text_from_the_right(
    qtbot: QtBot,
) -> None:
    """An Arabic or Hebrew name beside the time showed in mixed order: the time's digits
    joined the name, and came before it ("10:02 שלום"). The name is held apart (FSI … PDI)
    in a heading that reads left to right; a message in Arabic or Hebrew starts at the right,
    one in English at the left, whoever wrote it."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 500)
    panel.show()
    qtbot.waitExposed(panel)
    for who, text in (("שלום", "hello everyone"), ("محمد", "مرحبا بالجميع\nsecond line")):
        panel.add_message(who, text, sender=who)
    width = panel.view.document().textWidth()
    for block in blocks(panel):
        shown = block.text()
        line = block.layout().lineAt(0)
        if "\xa0" in shown:  # a heading: the name, held apart, then the time
            name, stamp = shown.split("\xa0")
            assert name[0] == FSI and name[-1] == PDI and re.fullmatch(r"\d\d:\d\d", stamp)
            assert block.textDirection() == Qt.LayoutDirection.LeftToRight
            right_of_name = max(line.cursorToX(i)[0] for i in range(len(name) + 1))
            assert line.cursorToX(len(name) + 1)[0] >= right_of_name - 1, shown  # time after
            assert line.naturalTextRect().left() < width / 2  # at the left
        elif shown == "مرحبا بالجميع":
            assert block.textDirection() == Qt.LayoutDirection.RightToLeft
            assert line.naturalTextRect().right() > width - 4  # from the right
            assert line.naturalTextRect().left() > width / 2
        else:
            assert block.textDirection() == Qt.LayoutDirection.LeftToRight, shown
            assert line.naturalTextRect().left() < 4, shown
    image = panel.view.viewport().grab().toImage()  # as painted: the Arabic line at the right
    (arabic,) = [b for b in blocks(panel) if b.text() == "مرحبا بالجميع"]
    row = panel.view.document().documentLayout().blockBoundingRect(arabic).toRect()
    half = image.width() // 2
    assert inked(image, QRect(half, row.top(), half, row.height()))
    assert not inked(image, QRect(0, row.top(), half, row.height()))


def inked(image: QImage, area: QRect) -> bool:
    """Anything drawn in ``area`` (a pixel unlike the background, at the image's corner)."""
    ground = image.pixel(0, 0)
    xs, ys = range(area.left(), area.right() + 1), range(area.top(), area.bottom() + 1)
    return any(image.pixel(x, y) != ground for x in xs for y in ys)


def blocks(panel: ChatPanel) -> list[QTextBlock]:
    doc, found = panel.view.document(), []
    block = doc.begin()
    while block.isValid():
        found.append(block)
        block = block.next()
    return found


def _drawn(qtbot: QtBot, text: str, notice: bool = True) -> QImage:
    """``text`` as a chat shows it in a notice (else in a message), cut to its ink: what is
    drawn in the last paragraph of the chat, as on screen."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.resize(340, 300)
    panel.show()
    qtbot.waitExposed(panel)
    if notice:
        panel.add_notice(text)
    else:
        panel.add_message("Olga", text)
    view, doc = panel.view, panel.view.document()
    block = doc.documentLayout().blockBoundingRect(doc.lastBlock()).toAlignedRect()
    image = (
        view.viewport()
        .grab()
        .toImage()
        .copy(block.translated(0, -view.verticalScrollBar().value()))
    )
    ground = image.pixel(0, 0)
    ink = [
        (x, y)
        for y in range(image.height())
        for x in range(image.width())
        if image.pixel(x, y) != ground
    ]
    assert ink, f"nothing drawn of {text!r}"
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    return image.copy(QRect(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1))


def test_a_notice_draws_a_name_in_any_script(qtbot: QtBot) -> None:
    """Notices were italic: where the italic face has no Arabic (DejaVu Sans Oblique, as under
    Xvfb; a system without an italic Arabic face), "أحمد joined" showed empty boxes. The name
    is drawn: not the missing-glyph boxes of characters no font has, and as wide as the same
    name in a message."""
    name = "أحمد"
    drawn = _drawn(qtbot, name)
    boxes = _drawn(qtbot, "\ue000\ue001\ue002\ue003")  # (private use: a box each)
    assert drawn.size() != boxes.size() or drawn != boxes
    assert abs(drawn.width() - _drawn(qtbot, name, notice=False).width()) <= 1
    hebrew = "דוד"
    assert abs(_drawn(qtbot, hebrew).width() - _drawn(qtbot, hebrew, notice=False).width()) <= 1


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
