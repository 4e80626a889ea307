"""The chat panel: web addresses become links that open in the browser, nothing else does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from app.ui.chat_panel import ChatPanel, linkify


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


def test_a_message_is_cut_at_what_the_others_get_emoji_or_not(qtbot: QtBot) -> None:
    panel = ChatPanel()
    qtbot.addWidget(panel)
    sent: list[str] = []
    panel.send.connect(sent.append)
    panel.entry.setText("🙂" * 4100)  # two UTF-16 units each: Qt's limit counts those
    panel.entry.returnPressed.emit()
    assert sent == ["🙂" * 4000]
