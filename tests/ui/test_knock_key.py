"""A keyboard-only host answering a knock: its prompt opens without taking the keyboard (the host
may be typing), and nothing in the app reached it (only Alt+Tab did). Ctrl+Shift+K, in the main
and the call window, takes the keyboard there. Real windows under Xvfb."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.net.knockdesk import KnockRequest
from app.ui.call_window import CallWindow
from app.ui.knock_dialogs import KNOCK_KEY, HostKnockPrompt, ask_host
from app.ui.main_window import MainWindow
from tests.ui.conftest import run, until
from tests.ui.test_call_window import make_bridge

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


async def answer_by_keys(window: QWidget, name: str) -> bool:
    """A knock while ``window`` has the keyboard; Ctrl+Shift+K there, then Space: the answer."""
    window.show()
    window.activateWindow()
    await until(window.isActiveWindow, what="the window active")
    knock = KnockRequest("Team", name, b"", b"", "4 8 2 1", "127.0.0.1")
    asking = asyncio.ensure_future(ask_host(window, knock))
    await until(lambda: prompt_of(name) is not None, what="the prompt")
    prompt = prompt_of(name)
    assert prompt is not None and KNOCK_KEY in prompt.said  # (said as it opens)
    assert not prompt.isActiveWindow() and window.isActiveWindow()  # it took no keyboard
    focus = QApplication.focusWidget()
    QTest.keyClick(focus or window, Qt.Key.Key_K, CTRL_SHIFT)
    await until(prompt.isActiveWindow, what="the prompt to the front")
    assert prompt.deny_button.hasFocus()  # (at once: the first second's wait is for stray keys)
    QTest.keyClick(prompt.deny_button, Qt.Key.Key_Tab)
    assert prompt.admit_button.hasFocus()
    QTest.keyClick(prompt.admit_button, Qt.Key.Key_Space)
    return await asyncio.wait_for(asking, 5)


def prompt_of(name: str) -> HostKnockPrompt | None:
    found = [
        w for w in QApplication.topLevelWidgets()
        if isinstance(w, HostKnockPrompt) and w.isVisible() and name in w.said
    ]  # fmt: skip
    return found[0] if found else None


def test_ctrl_shift_k_takes_the_keyboard_to_a_knock_in_the_call_and_main_window(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    call = CallWindow(make_bridge("Ada"))
    home = MainWindow(host, call.bridge, SettingsStore(tmp_path / "s.json"), lambda: None)
    try:
        call.toolbar.chat_button.click()  # typing in the chat as the knock comes
        assert run(qloop, answer_by_keys(call, "Grace"), 20) is True
        assert run(qloop, answer_by_keys(home, "Heidi"), 20) is True
    finally:
        run(qloop, call.leave(), 10)
        home.close()
        home.deleteLater()
