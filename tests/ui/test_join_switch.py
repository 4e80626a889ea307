"""A link opened while another join is under way: the question it asks, in a real dialog."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.store import MeetingRecord
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.join_dialog import JoinDialog
from app.ui.main_window import MainWindow
from tests.ui.conftest import run, until
from tests.ui.test_app_flow import ada_at_home

#: the questions a new link asks, and the answer that keeps what is under way
STAY = (("Join another meeting?", "Keep joining"), ("Leave this call?", "Stay"))


def shown_question(title: str) -> bool:
    return any(
        isinstance(box, QMessageBox) and box.isVisible() and box.windowTitle() == title
        for box in QApplication.topLevelWidgets()
    )


def answer(title: str, button: str) -> bool:
    """Click ``button`` of the question ``title`` if it is on screen."""
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QMessageBox) and box.isVisible() and box.windowTitle() == title:
            next(b for b in box.buttons() if b.text() == button).click()
            return True
    return False


async def beta_while_joining_alpha(
    host: HostService, window: MainWindow, errors: list[BaseException]
) -> tuple[MeetingRecord, MeetingRecord]:
    """Meetings Alpha and Beta; Alpha's join is under way as Beta's link comes (errors kept)."""
    alpha, beta = await host.start("Alpha"), await host.start("Beta")
    joining = window.open_join(alpha.link, auto=True)
    assert joining is not None and joining.joining
    open_from_qt(window, beta.link, errors)
    return alpha, beta


def open_from_qt(window: MainWindow, link: str, errors: list[BaseException]) -> None:
    """Open ``link`` from Qt's loop, as a link from another start comes; errors are kept."""

    def go() -> None:
        try:
            window.open_join(link)
        except BaseException as exc:
            errors.append(exc)

    QTimer.singleShot(0, window, go)


def drive(
    qloop: qasync.QEventLoop,
    bridge: Bridge,
    window: MainWindow,
    watch: Callable[[], None],
    scenario: Coroutine[Any, Any, None],
) -> None:
    """Run ``scenario`` with ``watch`` called every 25 ms by a Qt timer (which runs inside the
    questions' own dialog loops too), then leave the call and close the window."""
    poll = QTimer(interval=25)
    poll.timeout.connect(watch)
    poll.start()
    try:
        run(qloop, scenario, 60)
    finally:
        poll.stop()
        run(qloop, bridge.leave(), 10)
        window.close()


def test_the_question_outlives_a_join_that_finishes_while_it_is_asked(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """The join under way may finish while "Join another meeting?" is on screen: its dialog
    is then closed and deleted, and the question went with it (a child of that dialog); the
    link was dropped without a word and open_join raised "already deleted"."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    seen: list[str] = []  # the titles of the questions asked
    errors: list[BaseException] = []
    ticks: list[int] = []  # with the call open and the question still asked

    def watch() -> None:  # a Qt timer: it runs inside the questions' own dialog loops too
        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible() and box.windowTitle() not in seen:
                seen.append(box.windowTitle())
        if answer("Leave this call?", "Leave and join"):
            return
        call = window.call_window
        if not isinstance(call, CallWindow) or not call.isVisible():
            return  # (Alpha's join still under way)
        ticks.append(1)  # its dialog is deleted meanwhile (DISPOSE_RETRY_MS): then answered
        if len(ticks) >= 20:
            answer("Join another meeting?", "Join the other one")

    async def scenario() -> None:
        _, beta = await beta_while_joining_alpha(host, window, errors)
        await until(lambda: "Join another meeting?" in seen, 5, "the question")
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "Alpha's call")
        await until(lambda: len(ticks) >= 20 or bool(errors), 10, "answered")
        await until(lambda: bool(errors) or str(bridge.link) == beta.link, 20, "Beta joined")
        assert not errors, errors
        await until(lambda: str(bridge.link) == beta.link and bridge.in_call, 20, "in Beta")

    drive(qloop, bridge, window, watch, scenario())


def test_keep_joining_answered_after_that_join_is_done_opens_nothing_else(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """The person keeps the join under way, which finished while they were asked: the other
    link is not opened anyway (and the dialog that joined, deleted by then, is not touched)."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    errors: list[BaseException] = []
    ticks: list[int] = []

    def watch() -> None:
        call = window.call_window
        if isinstance(call, CallWindow) and call.isVisible():
            ticks.append(1)  # (the dialog that joined is deleted meanwhile)
        if len(ticks) >= 20:
            answer("Join another meeting?", "Keep joining")

    async def scenario() -> None:
        alpha, _ = await beta_while_joining_alpha(host, window, errors)
        await until(lambda: len(ticks) >= 25, 20, "answered")
        await asyncio.sleep(0.3)
        assert not errors, errors
        assert str(bridge.link) == alpha.link and bridge.in_call
        assert not [d for d in window.dialogs if isinstance(d, JoinDialog)], "Beta opened"

    drive(qloop, bridge, window, watch, scenario())


def test_a_link_opened_while_the_switch_lets_the_first_join_go_is_asked_outside_a_task(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Switching from a join under way to another link, a third link that starts joining
    while the first is let go makes the switch ask again. Asked inside the switch's task, the
    question's dialog loop lost every other task's wake-up (qasync: "Cannot enter into
    task"), so the third join, and everything else awaiting, hung for good."""
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    third: list[str] = []
    switched: list[bool] = []  # the first question answered: switch
    kept: list[int] = []  # ticks the second question has been on screen, then answered

    def watch() -> None:  # a Qt timer: it runs inside the questions' own dialog loops too
        if not switched:
            if answer("Join another meeting?", "Join the other one"):
                switched.append(True)
            return
        first = window.dialogs[0] if window.dialogs else None
        if third and not third[1:] and not isinstance(first, JoinDialog):
            third.append("opened")  # the first join is let go: the third link comes now
            window.open_join(third[0], auto=True)
        asked = [(t, b) for t, b in STAY if shown_question(t)]
        if asked and len(kept) < 40:  # (on screen a while: the third join goes on meanwhile)
            kept.append(1)
        elif asked:
            answer(*asked[0])
            kept.append(1)

    async def scenario() -> None:
        silent = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)  # never answers
        port = silent.sockets[0].getsockname()[1]
        slow = f"peermeet://127.0.0.1:{port}/slow-room#k=AAAAAAAAAAAAAAAAAAAAAA"
        beta, gamma = await host.start("Beta"), await host.start("Gamma")
        try:
            joining = window.open_join(slow, auto=True)
            assert joining is not None and joining.joining
            third.append(gamma.link)
            QTimer.singleShot(0, window, lambda: window.open_join(beta.link))
            await until(lambda: len(kept) > 40, 15, "the second question answered")
            await until(lambda: bridge.in_call and window.call_window is not None, 15, "a call")
            assert str(bridge.link) == gamma.link  # (kept: the third one)
        finally:
            silent.close()

    drive(qloop, bridge, window, watch, scenario())
