"""The desktop flow when a call ends other than by Leave: the host ends the meeting for everyone
from the call, a call ended from My meetings looks over in its window, and a call cut off
(the host's computer gone) offers to join again."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.meeting import regain, rejoin, roster
from app.meeting.hosting import HostService
from app.meeting.recovery import Recovery
from app.meeting.store import ENDED
from app.ui.call_window import CallWindow
from app.ui.join_dialog import JoinDialog
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home


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
