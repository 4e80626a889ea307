"""The chat panel with names and text that read right to left: a name before its time and its
text from the right, and notices that draw a name in any script."""

from __future__ import annotations

import re

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QTextBlock
from pytestqt.qtbot import QtBot

from app.ui.chat_panel import ChatPanel
from app.ui.style import FSI, PDI


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
