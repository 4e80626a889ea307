"""The chat panel's messages: web addresses become links that open in the browser, nothing else
does; reading older messages is not interrupted, the end is kept through a resize, and senders
and messages are spaced apart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from app.ui.chat_panel import ChatPanel, linkify
from app.ui.style import FSI, PDI


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
