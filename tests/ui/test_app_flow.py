"""The whole desktop flow, as a person does it: start a meeting in the app, a headless peer
(the CLI, another process) joins its link, video shows and moves, chat goes both ways, mute
shows on the other side, and Leave cleans up."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import qasync
import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.meeting import regain, rejoin, roster
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.recovery import Recovery
from app.meeting.settings import SettingsStore
from app.meeting.store import ENDED, LIVE
from app.net.rendezvous import RendezvousServer
from app.ui import home_joins
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


def test_the_host_ends_the_meeting_for_everyone_from_the_call(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    cli: subprocess.Popen[str] | None = None

    async def scenario() -> None:
        nonlocal cli
        start = window.open_start()
        start.name.setText("End Test")
        start.start_button.click()
        await until(lambda: start.pages.currentIndex() == 1, what="the share page")
        cli = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
            [sys.executable, "-m", "app", "join", start.link.text(), "--headless", "--synthetic",
             "--res", "160x120", "--fps", "10", "--display-name", "Cleo", "--seconds", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        start.enter.click()
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        await until(lambda: any(t.name == "Cleo" for t in call.grid.tiles.values()), 20, "Cleo")
        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        assert call.leave_menu is not None and call.leave_menu.isVisible()
        call.leave_menu.actions()[1].trigger()  # End meeting for everyone
        await until(lambda: closed(call) and not bridge.in_call, 10, "left")
        assert host.records()[0].state == ENDED
        await until(lambda: cli is not None and cli.poll() is not None, 15, "the guest told")
        assert window.may_quit() and window.quit_box is None  # nobody to cut off: no question

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        if cli is not None:
            cli.terminate()
            _, err = cli.communicate(timeout=20)
    assert "call ended (ended)" in err, err


def test_a_call_ended_from_my_meetings_looks_over_in_its_window(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """The host ends the meeting from My meetings while in its call: their own call window says
    they ended it, and nothing in it still looks live (buttons, chat entry, own picture, clock)."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def scenario() -> None:
        start = window.open_start()
        start.name.setText("Over Test")
        start.start_button.click()
        await until(lambda: start.pages.currentIndex() == 1, what="the share page")
        link = start.link.text()
        start.enter.click()
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow) and call.grid.me is not None
        row = window.meetings.rows[link]
        await until(lambda: "only you in it now" in row.status.text(), 10, "you, counted")
        await window.meetings.guard("end", host.end(link))  # what End now does, once confirmed
        await until(lambda: call.toolbar.leave_button.text() == "Close", 10, "the end")
        assert call.banner.text.text().startswith("You ended the meeting.")
        bar = call.toolbar
        assert not any(b.isEnabled() for b in (bar.mic_button, bar.cam_button, bar.share_button))
        assert not call.chat.entry.isEnabled() and call.grid.me is None
        assert call.focusWidget() is bar.leave_button  # ("Close": what is left to do)
        assert not bar.mic_button.isVisible()  # nothing left to switch
        call.toggle_mic()  # Ctrl+D: nothing to mute any more, and the label stays
        assert bar.mic_button.text() == "Mute"
        shown = bar.info.text()
        await asyncio.sleep(1.2)
        assert bar.info.text() == shown  # the call's clock stopped
        await call.leave()

    try:
        run(qloop, scenario(), 40)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)


def test_a_call_that_was_cut_off_offers_to_join_again(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The host's computer is gone and nobody else is there: after rejoin.ALONE_S the call ends
    as "disconnected", and Join again opens the join for the same link."""
    monkeypatch.setattr(rejoin, "ALONE_S", 1.0)
    # a stall is seen after 1.5 s (default 3), a silent link dropped after 2 s (default 10)
    monkeypatch.setattr(roster, "Recovery", functools.partial(Recovery, stall_s=1.5))
    monkeypatch.setattr(regain, "LOST_S", 2.0)
    headless = subprocess.Popen(
        [sys.executable, "-m", "app", "host", "--headless", "--name", "cut-off", "--bind",
         "127.0.0.1", "--synthetic", "--res", "160x120", "--fps", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert headless.stdout is not None
    link = headless.stdout.readline().strip()
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def scenario() -> None:
        window.open_join(link, auto=True)
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        await until(lambda: len(bridge.peers()) == 1, 15, "the host")
        headless.kill()  # its computer is gone: no goodbye, no rendezvous
        await until(lambda: call.toolbar.again_button.isVisible(), 30, "cut off")
        assert "Press Join again" in call.banner.text.text()
        before = len(window.dialogs)
        call.toolbar.again_button.click()
        await until(lambda: closed(call) and len(window.dialogs) > before, 10, "again")
        again = window.dialogs[-1]
        assert isinstance(again, JoinDialog) and again.link.text() == link
        again.reject()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        headless.kill()
        headless.communicate(timeout=20)


def test_the_host_ends_a_meeting_on_an_outside_rendezvous_from_the_call(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Asked from outside the room and confirmed (app.ui.host_controls); when the rendezvous
    cannot be told, the window says so and stays."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def enter(title: str) -> tuple[CallWindow, str]:
        record = await host.start(title, rendezvous=f"peermeet://127.0.0.1:{port}")
        window.open_join(record.link, auto=True)
        await until(
            lambda: isinstance(window.call_window, CallWindow) and window.call_window.isVisible(),
            15,
            "call window",
        )
        call = window.call_window
        assert isinstance(call, CallWindow) and bridge.in_call
        return call, record.link

    async def scenario() -> None:
        call, link = await enter("Outside")
        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        assert call.leave_menu is not None
        call.leave_menu.actions()[1].trigger()  # End meeting for everyone
        await until(lambda: closed(call) and not bridge.in_call, 10, "ended and left")
        assert host.store.find(link).state == ENDED  # type: ignore[union-attr]
        assert server.room_count == 0

        call, link = await enter("Unreachable")
        await server.close()  # the outside rendezvous is gone: the end cannot be asked for
        await asyncio.sleep(0.5)
        call.end_for_everyone()
        await until(lambda: "Could not end the meeting" in call.banner.text.text(), 10, "said")
        assert call.isVisible() and call.toolbar.leave_button.isEnabled()
        assert host.store.find(link).state == LIVE  # type: ignore[union-attr]
        await call.leave()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)


def test_the_hosts_call_opens_its_outside_meeting_again_when_the_server_forgot_it(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """The outside rendezvous restarts without its rooms while Ada is in her meeting: her call
    opens the room again (until its old expiry; the app's own check of the meeting knows she
    is in it and leaves it to the call), My meetings keeps the new owner token, and End
    meeting for everyone still ends it."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    restarted = RendezvousServer(host="127.0.0.1", port=port)
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def scenario() -> None:
        record = await host.start("Outside", rendezvous=f"peermeet://127.0.0.1:{port}")
        token, ends = record.owner_token, record.expires_at
        window.open_join(record.link, auto=True)
        await until(lambda: bridge.in_call and bridge.expires_at > 0, 15, "in the call")
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        assert host.in_call(record.link)  # (so My meetings' own check leaves it to the call)
        await server.close()  # every connection drops, and the room is forgotten
        await restarted.start()
        await until(lambda: record.owner_token != token, 20, "the room opened again")
        assert restarted.room_count == 1 and abs(record.expires_at - ends) <= 1.5
        assert abs(bridge.expires_at - ends) <= 1.5  # the call's clock: the old expiry
        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        assert call.leave_menu is not None
        call.leave_menu.actions()[1].trigger()  # End meeting for everyone
        await until(lambda: closed(call) and not bridge.in_call, 10, "ended and left")
        assert host.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        assert restarted.room_count == 0 and not host.in_call(record.link)

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)
        run(qloop, restarted.close(), 10)


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


def test_joining_another_meeting_from_the_join_dialog_asks_and_leaves_first(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A link pasted into Join while in a call: asked first, as a link passed in is (the call
    was left without a word, and its old window then ended the new call when closed)."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    answers: list[bool] = []
    monkeypatch.setattr(home_joins, "leave_to_join", lambda parent, here, there: answers.pop())

    async def scenario() -> None:
        first, second = await host.start("Alpha"), await host.start("Beta")
        window.open_join(first.link, auto=True)
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        await until(lambda: bridge.in_call and call.isVisible(), 15, "in Alpha")
        dialog = window.open_join()
        assert dialog is not None
        dialog.link.setText("not a link")  # wrong: said, and the call goes on
        dialog.start_join()
        await until(lambda: dialog.failure is not None, 5, "the link refused")
        assert bridge.in_call and str(bridge.link) == first.link
        answers.append(False)  # "Stay"
        dialog.link.setText(second.link)
        dialog.start_join()
        assert not answers and dialog.isVisible() and not dialog.joining
        assert bridge.in_call and str(bridge.link) == first.link
        answers.append(True)  # "Leave and join", as this dialog is set: camera off
        dialog.cam_box.setChecked(False)
        dialog.name.setText("Ada B")
        dialog.start_join()
        await until(lambda: closed(call), 15, "the first call's window closed")
        await until(lambda: bridge.in_call and str(bridge.link) == second.link, 15, "in Beta")
        await until(lambda: window.call_window is not call, 15, "the second call's window")
        assert not bridge.camera_on and bridge.display_name == "Ada B"  # (as it was set)
        await until(lambda: host.participants(second.link) == 1, 10, "in Beta's room")
        assert host.participants(first.link) == 0
        await asyncio.sleep(0.5)  # (the old window closing must not end the new call)
        assert bridge.in_call and host.participants(second.link) == 1

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()


def test_a_link_opened_while_joining_another_meeting_asks_and_switches(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A peermeet:// link clicked while a join is under way (its host slow to answer) was
    dropped without a word: now the person is asked, and can join the new one instead."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    asked: list[tuple[str, str]] = []
    answers: list[bool] = []

    def ask(parent: object, here: str, there: str) -> bool:
        asked.append((here, there))
        return answers.pop()

    monkeypatch.setattr(home_joins, "stop_joining_to_join", ask)

    async def scenario() -> None:
        silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # never answers
        port = silent.sockets[0].getsockname()[1]
        slow = f"peermeet://127.0.0.1:{port}/slow-room#k=AAAAAAAAAAAAAAAAAAAAAA"
        beta = await host.start("Beta")
        try:
            joining = window.open_join(slow, auto=True)
            assert joining is not None and joining.joining
            joining.name.setText("Ada B")
            joining.cam_box.setChecked(False)
            answers.append(False)  # "Keep joining": the new link is not taken
            assert window.open_join(beta.link) is joining and joining.joining
            assert asked == [("slow-room", "beta")]
            assert window.open_join(slow) is joining and len(asked) == 1  # the same: not asked
            answers.append(True)  # "Join the other one"
            assert window.open_join(beta.link) is None
            await until(lambda: joining not in window.dialogs, 10, "the slow join given up")
            await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
            await until(lambda: bridge.in_call and str(bridge.link) == beta.link, 15, "in Beta")
            assert bridge.display_name == "Ada B" and not bridge.camera_on  # as it was set
            await until(lambda: host.participants(beta.link) == 1, 10, "in Beta's room")
        finally:
            silent.close()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
