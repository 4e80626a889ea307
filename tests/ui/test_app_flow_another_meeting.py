"""The desktop flow when another meeting comes up during a call or a join: a link pasted into
Join while in a call asks and leaves first, and a link opened while joining asks and switches."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.ui import home_joins
from app.ui.call_window import CallWindow
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home


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
