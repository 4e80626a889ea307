"""A knock nobody answered in time leaves a notice in the host's main window (until dismissed);
one the guest cancelled leaves none. Real zeroconf on 127.0.0.1, real knocks from a LanCard."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from app.meeting.lan_hosting import LanHosting
from app.net.knock import HostIdentity
from app.net.pins import PinStore
from app.ui.knock_dialogs import GuestWaitDialog, HostKnockPrompt, ask_host
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from tests.ui.conftest import run, until
from tests.ui.test_lan_desktop import (
    LO,
    host_service,
    keep_running,  # noqa: F401 (a fixture: windows close without quitting)
    make_bridge,
    row_of,
    settings_for,
    shown,
)

pytestmark = pytest.mark.timeout(60)
TIMEOUT_S = 1.5  # the host's time to answer (60 s in the app)


def knock_scene(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path, cancel: bool
) -> tuple[MainWindow, str]:
    """Bob knocks on Alice's room; nobody answers, and Bob waits (or cancels while waiting)."""
    room = f"missed-{uuid.uuid4().hex[:6]}"
    host = host_service(tmp_path, "alice")
    alice = HostIdentity.generate()
    window = MainWindow(host, make_bridge("Alice"), settings_for(tmp_path, "Alice"), lambda: None)
    hosting = LanHosting(
        host, lambda request: ask_host(window.knock_parent(), request), lambda: "Alice",
        identity=alice, interfaces=LO, knock_timeout=TIMEOUT_S, poll_s=0.2,
        on_missed=window.meetings.missed.add,
    )  # fmt: skip
    card = LanCard(PinStore(tmp_path / "bob-pins.json"), lambda: "Bob", interfaces=LO,
                   hide=lambda found: found.info.fingerprint != alice.fingerprint)  # fmt: skip
    for widget in (window, card):
        qtbot.addWidget(widget)
        widget.show()

    async def scenario() -> None:
        hosting.start()
        card.start()
        await host.start(room, "small", 600)
        await until(lambda: row_of(card, room) is not None, 10, "the room in the list")
        card.rooms.knock_button(row_of(card, room) or 0).click()
        await until(lambda: shown(HostKnockPrompt), 10, "Alice's prompt")
        assert window.meetings.missed.isHidden()  # (nothing missed yet)
        if cancel:
            wait = shown(GuestWaitDialog, "Cancel")
            assert wait is not None
            wait.button.click()
        await until(lambda: not shown(HostKnockPrompt), 10, "the prompt gone")
        await until(lambda: not card.knocking, 5, "the knock over")
        await asyncio.sleep(TIMEOUT_S + 0.5)  # (past when it would have timed out)

    try:
        run(qloop, scenario(), 30)
    finally:

        async def cleanup() -> None:
            await card.shutdown()
            await hosting.close()
            await host.close()

        run(qloop, cleanup(), 15)
    return window, room


def test_a_knock_not_answered_in_time_stays_in_the_main_window_until_dismissed(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """Alice stepped away: the prompt went away with the knock, and she never learned of it."""
    window, room = knock_scene(qloop, qtbot, tmp_path, cancel=False)
    missed = window.meetings.missed
    assert missed.isVisibleTo(window)
    text = missed.text.text()
    assert f"Bob\u2069 knocked on “\u2068{room}\u2069” at " in text, text
    assert time.strftime("%H:", time.localtime()) in text and "no answer" in text, text
    assert "knock again" in text
    failed = shown(GuestWaitDialog, "Close")  # (Bob was told: the host did not answer)
    assert failed is not None and "did not answer" in failed.status.text()
    qtbot.wait(300)
    assert missed.isVisibleTo(window)  # it stays...
    missed.dismiss.click()
    assert not missed.isVisibleTo(window) and missed.lines == []  # ...until dismissed


def test_a_knock_the_guest_cancelled_leaves_no_trace(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    window, _ = knock_scene(qloop, qtbot, tmp_path, cancel=True)
    assert window.meetings.missed.isHidden()
    assert window.meetings.missed.lines == []
