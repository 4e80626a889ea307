"""An outside meeting that someone else opened again after its server lost it: their owner
token, not ours. The host's call, getting back in, hears so ("room exists") and says it, and
My meetings marks the meeting taken at once (no countdown of ours, Remove instead of End now
and +1 hour). End meeting for everyone, from the call, is refused by the rendezvous: the call
window says so and stays, rather than marking it ended while it runs on (app.ui.host_controls,
app.meeting.host_watch)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.rejoin import TAKEN_TEXT
from app.meeting.store import LIVE, MeetingRecord
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui.bridge import Bridge
from app.ui.call_notes import BACK_IN_TOUCH
from app.ui.call_window import CallWindow
from app.ui.host_controls import ending
from app.ui.main_window import MainWindow
from app.ui.meetings_view import TAKEN_WORD
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home


@dataclass
class Scene:
    bridge: Bridge  # Ada's
    window: MainWindow  # her main window, with My meetings
    call: CallWindow  # her call window
    record: MeetingRecord  # the meeting, in My meetings
    restarted: RendezvousServer  # its server, after the restart
    notices: list[str]  # what her call said (its banner: what is still to read of it)


Then = Callable[[Scene], Awaitable[None]]


def taken_in_the_call(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    then: Then,
    log: pytest.LogCaptureFixture | None = None,
) -> None:
    """Ada hosts a meeting on an outside rendezvous and is in its call; the server restarts
    without its rooms and someone else with the link opens the room again before Ada's call
    does; once her call is back in that room, ``then`` runs. With the server's ``log``: they
    open it just after her call's plain join was refused ("no such room"), so that its try
    to open it (a second later) is refused as "room exists"; else before she tries at all."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    restarted = RendezvousServer(host="127.0.0.1", port=port)
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    notices: list[str] = []
    bridge.notice.connect(notices.append)
    opener: list[SignalingClient] = []

    async def scenario() -> None:
        record = await host.start("Outside", rendezvous=f"peermeet://127.0.0.1:{port}")
        link = parse_link(record.link)
        window.open_join(record.link, auto=True)
        await until(lambda: bridge.in_call and bridge.expires_at > 0, 15, "in the call")
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        await server.close()  # the server restarts without its rooms ...
        await restarted.start()
        if log is not None:
            missing = lambda: any("no_such_room" in r.getMessage() for r in log.records)  # noqa: E731
            await until(missing, 10, "Ada's call told its room is not there")
        # ... and someone else with the link opens the room again before Ada's call does
        client = await SignalingClient.connect(link.rendezvous_url, 5.0)
        opener.append(client)
        room = RoomKeys.from_secret(link.secret).room_id
        await client.create(room, link.room, "small", 1200)
        await until(lambda: len(bridge.peers()) == 1, 20, "Ada back in their room")
        await then(Scene(bridge, window, call, record, restarted, notices))
        await call.leave()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        for client in opener:
            run(qloop, client.close(), 10)
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)
        run(qloop, restarted.close(), 10)


def test_my_meetings_marks_the_meeting_taken_when_the_call_hears_it(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The call says the meeting is someone else's now; My meetings showed it as ours (End
    now, +1 hour, our countdown) until one of those was refused."""

    async def then(scene: Scene) -> None:
        record = scene.record
        await until(lambda: TAKEN_TEXT in scene.notices, 10, "the call says so")
        await until(lambda: record.taken, 5, "My meetings marks it taken")
        assert record.state == LIVE  # (it runs on: theirs)
        row = scene.window.meetings.rows[record.link]  # (made afresh: the meeting changed)
        assert row.countdown.text() == TAKEN_WORD
        assert "Opened again by someone else" in row.status.text()
        assert row.forget.isVisible() and not row.end.isVisible() and not row.extend.isVisible()

    caplog.set_level(logging.INFO, logger="app.net.rendezvous")
    taken_in_the_call(qloop, qtbot, host, tmp_path, then, caplog)


def test_ending_a_meeting_someone_else_opened_again_says_so_and_keeps_it_live(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    async def then(scene: Scene) -> None:
        call, record = scene.call, scene.record
        call.end_for_everyone()
        said = lambda: "Could not end the meeting" in call.banner.text.text()  # noqa: E731
        await until(lambda: closed(call) or said(), 10, "the window closed, or said why not")
        assert not closed(call), "closed as if ended"
        assert "someone else with its link opened it again" in call.banner.text.text()
        assert call.isVisible() and call.toolbar.leave_button.isEnabled()
        assert record.state == LIVE and record.taken  # (My meetings: theirs now)
        assert scene.restarted.room_count == 1  # it runs on: nothing was ended

    taken_in_the_call(qloop, qtbot, host, tmp_path, then)


def test_the_taken_notice_stays_readable_once_back_in_touch(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Once back in touch, the news that someone else opened the meeting again was replaced by
    "Back in touch with the meeting" about a second after it was shown: nobody could read it.
    That goes under it now (and the lost touch it ends is no longer said)."""

    async def then(scene: Scene) -> None:
        banner = scene.call.banner
        await until(lambda: TAKEN_TEXT in scene.notices, 10, "the call says so")
        await until(lambda: BACK_IN_TOUCH in banner.text.text(), 10, "back in touch")
        assert banner.isVisible()
        assert banner.text.text().split("\n") == [TAKEN_TEXT, BACK_IN_TOUCH]

    caplog.set_level(logging.INFO, logger="app.net.rendezvous")
    taken_in_the_call(qloop, qtbot, host, tmp_path, then, caplog)


def test_leave_no_longer_offers_to_end_a_meeting_someone_else_opened_again(
    loopback: None,
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The host's Leave was decided as the call window opened: once someone else had opened
    the meeting again, it still offered End meeting for everyone (refused). It follows My
    meetings now: Leave just leaves, and a Leave menu open when it is taken closes."""

    async def then(scene: Scene) -> None:
        call, record, host = scene.call, scene.record, scene.window.host
        await until(lambda: record.taken, 10, "My meetings marks it taken")
        assert not call.hosting.may_end() and not call.hosting.host
        late = ending(host, scene.bridge)  # (as for a call window opened now)
        assert late is not None and not late.ours()
        host.reopened(record.link, "our-token", record.expires_at)  # (ours again, as when the
        assert call.hosting.may_end() and late.ours()  # call opens it again itself): Leave
        call.toolbar.leave_button.click()  # offers the menu
        menu = call.leave_menu
        assert menu is not None
        await until(menu.isVisible, 5, "the Leave menu")
        host.taken_over(record.link)  # someone else opened it again, the menu open
        await until(lambda: not menu.isVisible(), 5, "the Leave menu closed")
        assert call.leave_menu is None
        call.toolbar.leave_button.click()  # Leave now just leaves
        assert call.leave_menu is None
        await until(lambda: closed(call), 10, "the call window closed")

    caplog.set_level(logging.INFO, logger="app.net.rendezvous")
    taken_in_the_call(qloop, qtbot, host, tmp_path, then, caplog)
