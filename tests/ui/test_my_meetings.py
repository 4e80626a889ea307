"""My meetings, the host's list of the meetings they started, driven like a person would, on
real embedded servers."""

from __future__ import annotations

import asyncio
import time

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import MeetingRecord
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui import style, theme
from app.ui.meetings_view import MeetingsView
from app.ui.style import plain_tip
from tests.ui.conftest import run, until
from tests.ui.dialog_fixtures import (
    Clock,
    clock_fixture,  # noqa: F401 (the "clock" fixture)
    fill,
    host_fixture,  # noqa: F401 (the "host" fixture)
    keep_running,  # noqa: F401 (a fixture: closing dialogs does not quit)
)


def test_my_meetings_keeps_its_buttons_in_view_with_a_long_name(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    title = "Quarterly planning: platform, mobile & web teams, with all leads"[:64]
    run(qloop, host.start(title), 10)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    view.resize(420, 400)
    view.show()
    qtbot.waitExposed(view)
    (row,) = view.rows.values()
    for button in (row.enter, row.copy, row.extend, row.end):
        right = button.mapTo(view, button.rect().topRight()).x()
        assert button.isVisible() and right <= view.width(), (button.text(), right)
    assert row.title.text().endswith("…") and row.title.toolTip() == plain_tip(title)
    assert not view.message.isVisibleTo(view)
    host.store.problem = "Could not save My meetings to /x (Read-only file system). …"
    view.rebuild()  # as after any change: the store's problem is said above the list
    assert view.message.isVisibleTo(view) and "Read-only" in view.message.text()
    view.close_view()


def test_my_meetings_keeps_the_keyboard_on_its_button_and_extends_up_to_the_cap(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    """Rows are made afresh on every change (a meeting extended, another one ending): the
    focused button keeps the focus (it fell to the window's first button, and the next Space
    opened Settings). +1 hour reaches the 24-hour cap (it stopped an hour short of it)."""
    record = run(qloop, host.start("Long one", lifetime_s=23 * 3600 + 1800), 10)
    run(qloop, host.start("Other one"), 10)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=3000)
    row = view.rows[record.link]
    assert row.extend.isEnabled() and "up to 24 hours" in row.extend.toolTip()
    row.extend.setFocus()
    QTest.keyClick(row.extend, Qt.Key.Key_Return)  # (Enter presses it, as Space does)
    run(qloop, until(lambda: view.rows[record.link] is not row, what="the rows made again"), 5)
    again = view.rows[record.link]
    assert not again.extend.isEnabled()  # at 24 h now: the focus goes beside it...
    assert QApplication.focusWidget() is again.copy  # ...never to End now (Space would end it)
    view.rows[record.link].enter.setFocus()
    run(qloop, host.extend(record.link, 60), 5)  # any change: the rows are made again
    run(qloop, until(lambda: view.rows[record.link] is not again, what="made again"), 5)
    assert QApplication.focusWidget() is view.rows[record.link].enter  # the same button
    view.close_view()


def standups(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, clock: Clock
) -> tuple[MeetingRecord, MeetingRecord, MeetingRecord, MeetingsView]:
    """Two meetings named "Standup" started 10 minutes apart, a "Retro", and My meetings."""
    first = run(qloop, host.start("Standup"), 10)
    clock.t += 600
    second = run(qloop, host.start("Standup"), 10)
    lone = run(qloop, host.start("Retro"), 10)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    return first, second, lone, view


def test_two_meetings_of_one_name_are_told_apart_by_their_start(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, clock: Clock
) -> None:
    first, second, lone, view = standups(qloop, qtbot, host, clock)
    texts = [view.rows[r.link].status.text() for r in (first, second, lone)]
    assert "started" in texts[0] and "started" in texts[1] and texts[0] != texts[1]
    assert "started" not in texts[2]  # (a name of its own needs no more)
    view.close_view()


def test_my_meetings_buttons_say_which_meeting_they_act_on(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, clock: Clock
) -> None:
    """A screen reader tabbing through My meetings heard "End now", "+1 hour", "Copy link",
    "Enter" for every row alike: nothing said which meeting."""
    first, second, lone, view = standups(qloop, qtbot, host, clock)
    view.show()

    def said(button: QWidget) -> str:
        face = QAccessible.queryAccessibleInterface(button)
        assert face is not None
        return face.text(QAccessible.Text.Name)

    row = view.rows[lone.link]
    assert [said(b) for b in (row.end, row.extend, row.copy, row.enter)] == [
        "End now: Retro", "+1 hour: Retro", "Copy link: Retro", "Enter: Retro",
    ]  # fmt: skip
    ends = {said(view.rows[r.link].end) for r in (first, second)}
    assert len(ends) == 2 and all(e.startswith("End now: Standup, started ") for e in ends)
    row.copy.click()  # its name stays; the words "Copied ✓" do not: it is said instead
    assert row.copy.text() == "Copied ✓" and said(row.copy) == "Copy link: Retro"
    view.close_view()


def test_my_meetings_asks_before_ending_a_meeting_with_people_and_caps_extend(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = run(qloop, host.start("Old one"), 10)
    clock.t += 10
    ended = run(qloop, host.start("Ended one"), 10)
    run(qloop, host.end(ended.link), 10)
    clock.t += 10
    busy = run(qloop, host.start("Busy one", lifetime_s=24 * 3600), 10)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    assert list(view.rows) == [busy.link, old.link, ended.link]  # live ones first
    row = view.rows[busy.link]
    assert not row.extend.isEnabled() and "24 hours" in row.extend.toolTip()  # at the cap
    clients = run(qloop, fill(busy.link, 2), 10)
    asked: list[str] = []

    def answer(reply: QMessageBox.StandardButton) -> object:
        def exec_(box: QMessageBox) -> QMessageBox.StandardButton:
            assert box.textFormat() == Qt.TextFormat.PlainText  # the title as typed
            assert box.defaultButton() == box.button(QMessageBox.StandardButton.No)  # Enter: no
            asked.append(box.text())
            return reply

        return exec_

    try:
        monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.No))
        row.end.click()
        assert "2 people are in “Busy one”" in asked[0]
        run(qloop, asyncio.sleep(0.2), 5)
        assert host.store.find(busy.link).is_live(clock())  # type: ignore[union-attr]
        monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.Yes))
        row.end.click()
        run(qloop, until(lambda: not host.store.find(busy.link).is_live(clock()), what="ended"), 5)  # type: ignore[union-attr]
        # on an outside rendezvous nobody can say who is in (it may be full): asked all the same
        outside = RendezvousServer("127.0.0.1", 0)
        port = run(qloop, outside.start(), 5)
        try:
            away = run(qloop, host.start("Away one", rendezvous=f"127.0.0.1:{port}"), 10)
            view.refresh()
            monkeypatch.setattr(QMessageBox, "exec", answer(QMessageBox.StandardButton.No))
            view.rows[away.link].end.click()
            assert "People may be in “Away one”" in asked[-1]
            assert host.store.find(away.link).is_live(clock())  # type: ignore[union-attr]
        finally:
            run(qloop, outside.close(), 5)
    finally:
        for client in clients:
            run(qloop, client.close(), 5)
        view.close_view()


def test_my_meetings_shows_a_servers_words_as_written(qtbot: QtBot, host: HostService) -> None:
    """A refusal's text can come from an outside rendezvous: never rendered as markup."""
    view = MeetingsView(host)
    qtbot.addWidget(view)
    view.show_error("Could not extend “x”: The rendezvous server refused: odd. (<h1>hi</h1>)")
    assert view.message.textFormat() == Qt.TextFormat.PlainText
    assert "<h1>hi</h1>" in view.message.text()


def test_my_meetings_says_an_outside_rendezvous_that_is_down_in_the_hosts_words(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Extend and End while the rendezvous server is down: the host is told about the server
    (a guest's "ask the host whether PeerMeet is still running" is no use to the host)."""
    clock.t = time.time()  # (the server's expiry is in real time: Extend is offered)
    outside = RendezvousServer("127.0.0.1", 0)
    port = run(qloop, outside.start(), 5)
    record = run(qloop, host.start("Away one", rendezvous=f"127.0.0.1:{port}"), 10)
    run(qloop, outside.close(), 5)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: QMessageBox.StandardButton.Yes)
    try:
        for button in ("extend", "end"):
            view.message.hide()
            getattr(view.rows[record.link], button).click()
            run(qloop, until(lambda: not view.message.isHidden(), what=button), 10)
            text = view.message.text()
            assert text.startswith(
                f"Could not {button} “away-one”: Cannot reach the rendezvous server at "
                f"127.0.0.1:{port} (connection refused)."
            ), text
            assert "ask the host" not in text and "server runs" in text, text
        assert host.store.find(record.link).is_live(host.now())  # type: ignore[union-attr]
    finally:
        view.close_view()


def test_my_meetings_offers_to_remove_a_meeting_someone_else_opened_again(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, clock: Clock
) -> None:
    """Its server restarted without its rooms and someone else with the link opened it again:
    +1 hour says what happened and what to do (not "Only the host who started the meeting can
    do that"), the row no longer offers End now or +1 hour but Remove, and Remove takes it off
    the list."""
    clock.t = time.time()  # (the server's expiry is in real time: Extend is offered)
    outside = RendezvousServer("127.0.0.1", 0)
    port = run(qloop, outside.start(), 5)
    record = run(qloop, host.start("Taken one", rendezvous=f"127.0.0.1:{port}"), 10)
    run(qloop, outside.close(), 5)
    again = RendezvousServer("127.0.0.1", port)
    run(qloop, again.start(), 5)
    link = parse_link(record.link)
    other = run(qloop, SignalingClient.connect(link.rendezvous_url, 3.0), 5)
    room = RoomKeys.from_secret(link.secret).room_id
    run(qloop, other.create(room, link.room, "small", 600), 5)
    view = MeetingsView(host)
    qtbot.addWidget(view)
    view.setStyleSheet(theme.home_sheet())  # (the app's look: the colours are checked)
    view.show()
    try:
        row = view.rows[record.link]
        assert row.extend.isVisible() and row.end.isVisible() and not row.forget.isVisible()
        assert row.countdown.text().endswith(" left</span>") and not row.countdown.toolTip()
        row.extend.click()
        run(qloop, until(lambda: not view.message.isHidden(), what="said"), 10)
        text = view.message.text()
        assert text.startswith("Could not extend “taken-one”: After its server restarted"), text
        assert "Only the host" not in text and "press Remove" in text, text
        row = view.rows[record.link]  # (made afresh: the meeting changed)
        assert "Opened again by someone else" in row.status.text()
        # no countdown of ours: the time left is the new owner's (they made it 10 minutes)
        assert row.countdown.text() == "Someone else's" and "time left" in row.countdown.toolTip()
        colour = row.countdown.palette().color(row.countdown.foregroundRole()).name()
        assert colour == style.WARNING
        clock.t += 1
        view.refresh()
        assert row.countdown.text() == "Someone else's"  # (and not as it ticks either)
        assert not row.extend.isVisible() and not row.end.isVisible()
        assert row.forget.isVisible() and row.enter.isVisible() and row.copy.isVisible()
        row.forget.click()
        assert record.link not in view.rows and host.store.find(record.link) is None
        assert again.room_count == 1  # (theirs: still running)
    finally:
        view.close_view()
        run(qloop, other.close(), 5)
        run(qloop, again.close(), 5)
