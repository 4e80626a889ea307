"""The whole desktop flow, as a person does it: start a meeting in the app, a headless peer
(the CLI, another process) joins its link, video shows and moves, chat goes both ways, mute
shows on the other side, and Leave cleans up; and the main window by keyboard and screen
reader. ``ada_at_home`` here is shared by the other app flow tests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import qasync
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.meeting.store import LIVE
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.join_dialog import JoinDialog
from app.ui.main_window import MainWindow
from app.ui.start_dialog import StartDialog
from tests.ui.conftest import closed, run, until

#: the hosted room's rendezvous: its tasks outlive a call (the room lives while the app runs)
SERVER_TASKS = ("rendezvous", "rvsession", "aiohttp")


def ada_at_home(
    qtbot: QtBot, host: HostService, tmp: Path, video: tuple[int, int, int] = (160, 120, 10)
) -> tuple[Bridge, MainWindow]:
    """Ada's main window, shown, with a bridge whose calls send synthetic media of ``video``
    (width, height, fps)."""
    bridge = Bridge(
        EngineConfig("Ada"), lambda loop: build_media(MediaOptions(True, *video), loop=loop)
    )
    window = MainWindow(host, bridge, SettingsStore(tmp / "settings.json"))
    qtbot.addWidget(window)
    window.show()
    return bridge, window


def test_start_in_the_app_and_a_headless_peer_joins(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    bridge, window = ada_at_home(qtbot, host, tmp_path, (320, 240, 15))
    stats = tmp_path / "cli.json"
    cli: subprocess.Popen[str] | None = None

    async def scenario() -> None:
        nonlocal cli
        start = window.open_start()
        start.name.setText("Flow Test")
        start.start_button.click()
        await until(lambda: start.pages.currentIndex() == 1, what="the share page")
        link = start.link.text()
        before = asyncio.all_tasks()  # the hosting service's own tasks are running from here on
        assert parse_link(link).room == "flow-test"
        cli = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
            [sys.executable, "-m", "app", "join", link, "--headless", "--synthetic",
             "--res", "320x240", "--fps", "15", "--display-name", "Cleo",
             "--chat", "hi from the cli", "--seconds", "40", "--stats-json", str(stats)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        start.enter.click()  # Enter meeting: the join dialog joins, then the call window opens
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        assert call.windowTitle() == "Flow Test — PeerMeet"  # as typed, not "flow-test"

        def cleo_tile() -> object:
            return next((t for t in call.grid.tiles.values() if t.name == "Cleo"), None)

        await until(lambda: cleo_tile() is not None, 20, "Cleo's tile")
        tile = cleo_tile()
        await until(lambda: tile.frames_shown > 5, 10, "Cleo's video")  # type: ignore[attr-defined]
        first = tile.grab().toImage()  # type: ignore[attr-defined]
        await asyncio.sleep(0.5)
        assert tile.grab().toImage() != first, "Cleo's video does not move"  # type: ignore[attr-defined]

        # Enter on this meeting in My meetings while in it: the open call comes to the front
        dialogs = len(window.dialogs)
        window.meetings.rows[link].enter.click()
        await asyncio.sleep(0.3)
        assert window.call_window is call and call.isVisible() and bridge.in_call
        assert len(window.dialogs) == dialogs  # no second join, no second call window

        await until(lambda: ("Cleo", "hi from the cli", False) in call.chat.messages, 10, "chat")
        call.chat.entry.setPlainText("hi from the app")
        QTest.keyClick(call.chat.entry, Qt.Key.Key_Return)
        QTest.mouseClick(call.toolbar.mic_button, Qt.MouseButton.LeftButton)
        assert call.toolbar.mic_button.text() == "Unmute"
        await asyncio.sleep(1.5)  # let the chat line and the mute state cross

        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        menu = call.leave_menu  # the host's Leave: leave, or end the meeting for everyone
        assert menu is not None and menu.isVisible()
        stay, end = menu.actions()
        assert (stay.text(), end.text()) == ("Leave meeting", "End meeting for everyone")
        stay.trigger()
        await until(lambda: closed(call) and not bridge.in_call, 10, "left")
        assert host.records()[0].state == LIVE
        assert "call" in window.settings.load().windows  # the next call opens where this was
        # nothing of the call or its dialogs is kept (each join kept a window and a dialog)
        await until(lambda: not shiboken6.isValid(call), 5, "the call window deleted")
        assert window.call_window is None and not shiboken6.isValid(start)
        # quitting now would cut Cleo off: asked first (from Qt's loop, as the app does)
        answers: list[bool] = []
        window.close()  # the last window: the app would quit now
        assert not window.meetings._timer.isActive()
        assert "main" in window.settings.load().windows
        QTimer.singleShot(0, lambda: answers.append(window.may_quit()))
        await until(lambda: window.quit_box is not None, 5, "Quit PeerMeet?")
        assert "“Flow Test”: 1 person" in window.quit_box.text()  # type: ignore[union-attr]
        window.quit_box.button(QMessageBox.StandardButton.Cancel).click()  # type: ignore[union-attr]
        await until(lambda: answers == [False], 5, "kept running")
        assert window.isVisible() and window.meetings._timer.isActive()  # My meetings ticks
        await asyncio.sleep(0.3)
        # the hosted room's rendezvous outlives the call (the room lives while the app runs)
        leftover = {
            t
            for t in asyncio.all_tasks() - before
            if not t.done() and not any(part in repr(t) for part in SERVER_TASKS)
        }
        leftover.discard(asyncio.current_task())  # type: ignore[arg-type]
        assert not leftover, leftover

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        # stop the hosted room's tasks while the loop runs (Qt teardown may spin it otherwise)
        run(qloop, host.close(), 10)
        if cli is not None:
            cli.terminate()
            _, err = cli.communicate(timeout=20)
    data = json.loads(stats.read_text())
    assert [c["text"] for c in data["chat_received"]] == ["hi from the app"], err
    assert "call ended (ended)" not in err
    (ada,) = data["peers"].values()  # the app, under the name from its settings
    assert ada["mic"] is False  # the app's mute reached the other side
    assert ada["video_frames"] > 20 and ada["audio_frames"] > 50


def test_the_main_window_by_keyboard_and_screen_reader(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Start meeting has the focus at first; Ctrl+N, Ctrl+J and Ctrl+, open what their cards
    and buttons do (their tips say so); the cards' words reach a screen reader."""
    bridge = Bridge(EngineConfig("Ada"), lambda loop: None)
    window = MainWindow(host, bridge, SettingsStore(tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    assert QApplication.focusWidget() is window.start_button
    assert window.start_button.accessibleName() == "Start meeting"
    assert "Paste a link" in window.join_button.accessibleDescription()
    assert window.join_button.toolTip() == "Join meeting (Ctrl+J)"
    for key, kind in ((Qt.Key.Key_N, StartDialog), (Qt.Key.Key_J, JoinDialog)):
        QTest.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
        dialog = window.dialogs[-1]
        assert isinstance(dialog, kind)
        if isinstance(dialog, JoinDialog):
            assert dialog.link.accessibleName() == "Meeting link"
        dialog.reject()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    QTest.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert any(type(d).__name__ == "SettingsDialog" for d in window.dialogs)
    for dialog in list(window.dialogs):
        dialog.reject()
