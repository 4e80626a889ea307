"""Keyboard-only use and what a screen reader is told: where the keyboard goes in the call
window, the call's keys, and names and tips of buttons. Real widgets under Xvfb."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.ui.call_window import CallWindow
from tests.ui.conftest import run
from tests.ui.test_call_window import make_bridge


@pytest.fixture
def call(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[CallWindow]:
    """A call window, shown and active (its bridge has not joined: nothing here needs a call)."""
    window = CallWindow(make_bridge("Ada"))
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.wait(50)
    yield window
    run(qloop, window.leave(), 10)


def key(widget: QWidget | None, key: Qt.Key, modifiers: object = None) -> None:
    assert widget is not None
    if modifiers is None:
        QTest.keyClick(widget, key)
    else:
        QTest.keyClick(widget, key, modifiers)  # type: ignore[arg-type]
    QApplication.processEvents()


def test_the_call_window_opens_with_the_keyboard_on_the_video_not_on_mute(
    call: CallWindow,
) -> None:
    """It opened with the keyboard on Mute, the first button: a stray Space muted the call.
    The keyboard rests on the video, which a screen reader names with the call's keys; Tab
    goes on to the buttons."""
    focus = QApplication.focusWidget()
    assert focus is call.grid, focus
    key(focus, Qt.Key.Key_Space)
    key(focus, Qt.Key.Key_Return)
    assert call.bridge.mic_on and call.toolbar.mic_button.text() == "Mute"
    assert call.grid.accessibleName() == "Call video"
    said = call.grid.accessibleDescription()
    for shortcut in call.keys.shortcuts:  # every key the window has, in the words said
        assert shortcut.key().toString() in said, shortcut.key().toString()
    key(focus, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is call.toolbar.mic_button
