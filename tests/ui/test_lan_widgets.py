"""The LAN room list and the knock dialogs, driven like a person would (no network)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import TypeVar

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.errors import refusal
from app.net.knockdesk import KnockRequest
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinCheck
from app.ui.knock_dialogs import GuestWaitDialog, HostKnockPrompt, ask_host, knock_with_dialog
from app.ui.lan_rooms import LanRoomsWidget, time_left
from app.ui.style import plain_tip
from tests.ui.conftest import run, until

NOW = 1_900_000_000.0
W = TypeVar("W", bound=QWidget)


def found(room: str, people: int = 1, fp: str = "a" * 32) -> FoundRoom:
    info = LanRoom(room, "Alice", "small", people, 4, int(NOW) + 3900, fp)
    return FoundRoom(f"{room}-x", info, ("10.0.0.5",), 8765)


def pins(room: str, fp: str) -> PinCheck:
    if room == "forged":
        return PinCheck(room, fp, "changed", "b" * 32)
    return PinCheck(room, fp, "known" if room == "team-sync" else "new", None)


def test_room_list_rows_warning_and_knock(qtbot: QtBot) -> None:
    knocked: list[FoundRoom] = []
    widget = LanRoomsWidget(knocked.append, pins, clock=lambda: NOW)
    qtbot.addWidget(widget)
    assert not widget.empty.isHidden() and widget.table.isHidden()
    rooms = [found("team-sync"), found("forged"), found("full-room", people=4)]
    widget.set_rooms(rooms)
    table = widget.table
    assert widget.empty.isHidden() and table.rowCount() == 3
    items = [[table.item(r, c) or QTableWidgetItem() for c in range(5)] for r in range(3)]
    texts = [[item.text() for item in row] for row in items]
    assert texts[0][:4] == ["team-sync", "Alice", "1 / 4", "1 h 05 min"]
    assert texts[0][4].startswith("✓") and texts[1][4].startswith("⚠ changed")
    assert "another host key" in items[1][4].toolTip()
    assert not widget.knock_button(2).isEnabled()
    widget.knock_button(1).click()
    assert knocked == [rooms[1]]
    widget.set_rooms([])
    assert not widget.empty.isHidden()


def test_the_room_list_asks_for_the_height_of_its_rows(qtbot: QtBot) -> None:
    """A table asks for 192 px, one row or ten: one above My meetings, the home window had no
    way to give the rooms' card what it needs (app.ui.home_parts.Columns)."""
    widget = LanRoomsWidget(lambda room: None, pins, clock=lambda: NOW)
    qtbot.addWidget(widget)
    table = widget.table
    heights = []
    for count in (1, 2, 10):
        widget.set_rooms([found(f"room-{n}") for n in range(count)])
        heights.append(table.sizeHint().height())
        rows = sum(table.rowHeight(r) for r in range(count))
        assert heights[-1] == table.horizontalHeader().height() + rows + 2 * table.frameWidth()
    assert heights[0] < heights[1] < heights[2], heights


def test_each_knock_button_says_its_room_and_a_changed_host_key(qtbot: QtBot) -> None:
    """Tab goes from Knock to Knock (the list takes no focus): a screen reader heard "Knock,
    button" for every room, never which room, nor that its host key had changed."""
    widget = LanRoomsWidget(lambda room: None, pins, clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.set_rooms([found("team-sync"), found("forged")])

    def said(button: QWidget, what: QAccessible.Text) -> str:
        face = QAccessible.queryAccessibleInterface(button)
        assert face is not None
        return face.text(what)

    sync, forged = widget.knock_button(0), widget.knock_button(1)
    assert said(sync, QAccessible.Text.Name) == "Knock: team-sync"
    assert said(forged, QAccessible.Text.Name) == "Knock: forged"
    assert said(sync, QAccessible.Text.Description).startswith(
        "Host Alice, 1 of 4 in it, 1 h 05 min left. The same host you met before"
    )
    assert "another host key" in said(forged, QAccessible.Text.Description)


def test_a_long_host_name_leaves_every_knock_button_in_view(qtbot: QtBot) -> None:
    """Anyone on the LAN chooses the host name it announces: it must not push the rest out."""
    widget = LanRoomsWidget(lambda room: None, pins, clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.resize(470, 300)
    long_host = LanRoom("team-sync", "Maximilian Alexander von Hohenzollern-Sigmaringen " * 2,
                        "small", 1, 4, int(NOW) + 3900, "a" * 32)  # fmt: skip
    widget.set_rooms([FoundRoom("x", long_host, ("10.0.0.5",), 8765), found("forged")])
    widget.show()
    qtbot.waitExposed(widget)
    table = widget.table
    qtbot.waitUntil(lambda: table.columnWidth(0) >= 60, timeout=2000)  # readable, next to ⚠
    for row in range(2):
        button = widget.knock_button(row)
        right = button.mapTo(table.viewport(), button.rect().topRight()).x()
        assert right <= table.viewport().width(), right
    assert table.item(0, 1).toolTip() == plain_tip(long_host.host)  # the whole name, on hover


def test_time_left() -> None:
    assert [time_left(s) for s in (-1, 30, 600, 7260)] == [
        "ended",
        "< 1 min",
        "10 min",
        "2 h 01 min",
    ]


def shown(kind: type[W], button: str = "") -> W | None:
    """The visible top-level dialog of ``kind`` (whose button says ``button``, if given)."""
    for widget in QApplication.topLevelWidgets():
        visible = isinstance(widget, kind) and widget.isVisible()
        if visible and (not button or getattr(widget, "button").text() == button):  # noqa: B009
            return widget  # type: ignore[return-value]
    return None


@pytest.fixture
def loop(qapp: QApplication, qloop: qasync.QEventLoop) -> qasync.QEventLoop:
    qapp.setQuitOnLastWindowClosed(False)  # the dialogs here are the only windows
    return qloop


def prompts() -> list[HostKnockPrompt]:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, HostKnockPrompt)]
    return sorted((w for w in found if w.isVisible()), key=lambda w: (w.y(), w.x()))


def test_host_prompt_admit_deny_and_withdraw(qtbot: QtBot, loop: qasync.QEventLoop) -> None:
    request = KnockRequest("team-sync", "Bob <b>", b"k" * 32, b"n" * 16, "4 8 2 1", "10.0.0.9")

    async def admitted() -> bool:
        task = asyncio.ensure_future(ask_host(None, request))
        await until(lambda: shown(HostKnockPrompt))
        prompt = shown(HostKnockPrompt)
        assert prompt is not None
        assert prompt.code.text() == "4 8 2 1" and "Bob &lt;b&gt;" in prompt.headline.text()
        assert "\u2068Bob &lt;b&gt;\u2069" in prompt.headline.text()  # isolated from the text
        assert "join “\u2068team-sync\u2069”" in prompt.headline.text()  # which meeting
        second = asyncio.ensure_future(ask_host(None, request))  # another knock meanwhile
        await until(lambda: len(prompts()) == 2)
        first, other = prompts()
        assert other.pos() != first.pos()  # cascaded, not stacked
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
        prompt.admit_button.click()
        return await task

    assert run(loop, admitted(), 5) is True

    async def withdrawn() -> None:  # the knock times out: the prompt goes away by itself
        task = asyncio.ensure_future(ask_host(None, request))
        await until(lambda: shown(HostKnockPrompt))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert shown(HostKnockPrompt) is None

    run(loop, withdrawn(), 5)
    decisions: list[bool] = []
    prompt = HostKnockPrompt("Eve", "1 2 3 4", decisions.append)
    qtbot.addWidget(prompt)
    prompt.reject()  # closing the window denies
    prompt.deny_button.click()  # only once
    assert decisions == [False]
    long = "W" * 64  # no spaces: it cannot wrap, and made the prompt 665 px wide
    wide = HostKnockPrompt(long, "1 2 3 4", decisions.append, room="team-sync")
    qtbot.addWidget(wide)
    assert long not in wide.headline.text() and "W" * 31 + "…" in wide.headline.text()
    assert long in wide.headline.toolTip() and wide.sizeHint().width() < 600
    typing = HostKnockPrompt("Eve", "1 2 3 4", decisions.append)  # while the host types
    qtbot.addWidget(typing)
    assert typing.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    typing.show()
    qtbot.waitExposed(typing)
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Escape, Qt.Key.Key_Space):
        QTest.keyClick(typing, key)
    assert decisions == [False]  # no key meant for the chat admitted or denied anyone
    qtbot.waitUntil(lambda: typing.deny_button.isDefault(), timeout=3000)
    QTest.keyClick(typing, Qt.Key.Key_Return)  # a second later, Enter denies
    assert decisions == [False, False]
    late = HostKnockPrompt("Eve", "1 2 3 4", decisions.append)
    qtbot.addWidget(late)
    late.withdraw()
    late.admit_button.click()
    assert decisions == [False, False]


def test_guest_dialog_shows_code_then_result(loop: qasync.QEventLoop) -> None:
    async def ok(on_code: Callable[[str, int], None]) -> str:
        on_code("4 8 2 1", 60)
        dialog = shown(GuestWaitDialog)
        assert dialog is not None
        assert dialog.code.text() == "4 8 2 1" and "60 s" in dialog.hint.text()
        return "the-link"

    assert run(loop, knock_with_dialog(None, "team-sync", ok), 5) == "the-link"
    assert shown(GuestWaitDialog) is None


def test_guest_dialog_failure_stays_until_closed(loop: qasync.QEventLoop) -> None:
    async def denied(on_code: Callable[[str, int], None]) -> str:
        raise refusal("denied")

    async def fail_then_close() -> object:
        task = asyncio.ensure_future(knock_with_dialog(None, "team-sync", denied))
        await until(lambda: shown(GuestWaitDialog, "Close"))
        assert await task is None  # the knock is over (another may start) ...
        dialog = shown(GuestWaitDialog, "Close")  # ... while the reason stays on screen
        assert dialog is not None and "did not let you in" in dialog.status.text()
        label = dialog.status  # nothing cut off: it has its height
        assert label.height() >= label.heightForWidth(label.width()), label.text()
        assert label.height() >= label.minimumSizeHint().height(), label.text()
        assert not dialog.code.isVisible()  # (the code was for the knock that is over)
        dialog.button.click()
        await until(lambda: shown(GuestWaitDialog) is None)
        return None

    assert run(loop, fail_then_close(), 5) is None


def test_a_hosts_refusal_is_shown_as_written_never_as_markup(loop: qasync.QEventLoop) -> None:
    """Anyone on the network can announce a room and answer a knock with their own words: they
    are shown as written (they were rendered as HTML: a large "Admitted", a link, a picture)."""
    said = '<h1 style="color:green">Admitted!</h1> Sign in at <a href="http://x">x</a>'

    async def odd(on_code: Callable[[str, int], None]) -> str:
        raise refusal("made_up", said)

    async def fail() -> None:
        task = asyncio.ensure_future(knock_with_dialog(None, "team-<b>sync</b>", odd))
        await until(lambda: shown(GuestWaitDialog, "Close"))
        await task
        dialog = shown(GuestWaitDialog, "Close")
        assert dialog is not None and said in dialog.status.text()
        assert dialog.status.textFormat() == Qt.TextFormat.PlainText
        dialog.button.click()

    run(loop, fail(), 5)


def test_guest_cancel_stops_the_knock(loop: qasync.QEventLoop) -> None:
    stopped = asyncio.Event()

    async def forever(on_code: Callable[[str, int], None]) -> str:
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()
        return "never"

    async def cancel() -> object:
        task = asyncio.ensure_future(knock_with_dialog(None, "team-sync", forever))
        await until(lambda: shown(GuestWaitDialog, "Cancel"))
        dialog = shown(GuestWaitDialog, "Cancel")
        assert dialog is not None
        dialog.button.click()
        result = await asyncio.wait_for(task, 1)
        assert stopped.is_set()
        return result

    assert run(loop, cancel(), 5) is None


def test_tab_goes_through_the_knock_buttons_and_out_of_the_list(qtbot: QtBot) -> None:
    """The list's table took Tab for moving between its cells: the keyboard never left it."""
    window = QWidget()
    qtbot.addWidget(window)
    before = QPushButton("before")
    widget = LanRoomsWidget(lambda room: None, pins, clock=lambda: NOW)
    widget.set_rooms([found("team-sync"), found("design")])
    after = QPushButton("after")  # (the knock buttons come in the order they were made)
    layout = QVBoxLayout(window)
    for part in (before, widget, after):
        layout.addWidget(part)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    before.setFocus()
    stops = []
    for _ in range(4):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        stops.append(QApplication.focusWidget())
    names = [w.text() if isinstance(w, QPushButton) else type(w).__name__ for w in stops]
    assert stops[:3] == [widget.knock_button(0), widget.knock_button(1), after], names


def test_the_keyboard_stays_on_a_knock_button_when_the_list_is_redrawn(qtbot: QtBot) -> None:
    """The list is redrawn every 15 s and on every announcement: the Knock button with the
    focus is made afresh, and the focus goes to the new one for the same room."""
    widget = LanRoomsWidget(lambda room: None, pins, clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.set_rooms([found("team-sync"), found("design")])
    widget.show()
    qtbot.waitExposed(widget)
    widget.knock_button(1).setFocus()
    widget.set_rooms([found("alpha"), found("team-sync"), found("design")])  # one more above
    assert widget.focusWidget() is widget.knock_button(2)  # still "design"'s


def test_a_failed_knock_leaves_no_blank_band_where_the_code_was(qtbot: QtBot) -> None:
    dialog = GuestWaitDialog("team-sync", lambda: None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_code("4 8 2 1", 60)
    tall = dialog.height()
    dialog.fail("The host did not let you in.")
    assert dialog.height() < tall - 20  # (it kept the height of the code and its hint)
    assert dialog.height() >= dialog.layout().totalHeightForWidth(dialog.width())
