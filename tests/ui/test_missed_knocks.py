"""A knock nobody answered in time leaves a notice in the host's main window (until dismissed);
one the guest cancelled leaves none; one missed during a call is said in the call window too.
Real zeroconf on 127.0.0.1, real knocks (from a LanCard, or the knocker a LanCard uses)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.errors import RoomRefused
from app.meeting.lan_hosting import LanHosting
from app.meeting.links import parse_link
from app.net.knock import HostIdentity
from app.net.knocker import knock
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinStore
from app.ui.knock_dialogs import GuestWaitDialog, HostKnockPrompt, ask_host
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from app.ui.missed_knocks import knock_missed
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


def test_a_knock_missed_during_a_call_is_said_in_the_call_window_too(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path, loopback: None
) -> None:
    """Alice is in a call (its window in front, the main window behind it or hidden) when
    Bob's knock times out: the call's banner says so, and stays; the keyboard stays where it
    was. The notice in My meetings is there too."""
    room = f"missed-{uuid.uuid4().hex[:6]}"
    host = host_service(tmp_path, "alice")
    alice = HostIdentity.generate()
    bridge = make_bridge("Alice")
    window = MainWindow(host, bridge, settings_for(tmp_path, "Alice"))
    hosting = LanHosting(
        host,
        lambda request: ask_host(window.knock_parent(), request),
        lambda: "Alice",
        identity=alice,
        interfaces=LO,
        knock_timeout=TIMEOUT_S,
        poll_s=0.2,
        on_missed=lambda request: knock_missed(window.meetings.missed, window.call_window, request),
    )  # fmt: skip (as app.ui.main wires it)
    qtbot.addWidget(window)
    window.show()

    async def scenario() -> None:
        hosting.start()
        record = await host.start(room, "small", 600)
        window.open_join(record.link, auto=True)
        await until(lambda: window.call_window is not None and window.call_window.isVisible(), 15)
        call = window.call_window
        assert call is not None and not call.banner.isVisible()  # type: ignore[attr-defined]
        await until(lambda: record.link in hosting.announced, 10, "the room shown on the LAN")
        window.hide()  # (behind the call, or minimised)
        call.activateWindow()  # (Alice is at the call: the keyboard on its video)
        await until(lambda: call.isActiveWindow() and QApplication.focusWidget(), 5, "active")
        focus = QApplication.focusWidget()
        assert focus is not None and call.isAncestorOf(focus)
        link = parse_link(record.link)
        info = LanRoom(room, "Alice", "small", 1, 4, int(time.time()) + 600, alice.fingerprint)
        found = FoundRoom("x", info, ("127.0.0.1",), link.port)  # (as the LAN list shows it)
        with pytest.raises(RoomRefused) as refused:
            await knock(found, "Bob", lambda code, timeout_s: None)
        assert refused.value.code == "knock_timeout"
        banner = call.banner  # type: ignore[attr-defined]
        await until(lambda: banner.isVisible(), 5, "the call's banner")
        text = banner.text.text()
        assert f"Bob\u2069 knocked on “\u2068{room}\u2069” at " in text and "no answer" in text
        assert "My meetings" in text
        assert QApplication.focusWidget() is focus  # (the keyboard stayed where it was)
        assert QApplication.activeWindow() is call
        assert window.meetings.missed.lines and window.meetings.missed.isVisibleTo(window)
        # It stays until dismissed: no time is set for it to go (a notice read in its own
        # time would go ~10 s on), and nothing else takes it away meanwhile.
        assert banner.hides_at() is None
        await asyncio.sleep(2)
        assert banner.isVisible() and banner.text.text() == text
        assert banner.hides_at() is None

    try:
        run(qloop, scenario(), 45)
    finally:
        window.close()

        async def cleanup() -> None:
            await bridge.leave()
            await hosting.close()
            await host.close()

        run(qloop, cleanup(), 15)
