"""Screens and states seldom seen, as a person looks at them: what a row, a dialog or a panel
says in them, and that it is all in view (nothing cut, nothing over something else)."""

from __future__ import annotations

import qasync
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui.meetings_view import MeetingsView
from tests.ui.conftest import run


def test_a_full_meeting_says_so_in_my_meetings(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    """A small meeting with its 4 seats taken read "4 people in it now", as one with room
    left: the host could not tell that nobody else can join."""
    record = run(qloop, host.start("Standup", "small", 3600), 10)
    link = parse_link(record.link)
    guests: list[SignalingClient] = []
    view = MeetingsView(host)
    qtbot.addWidget(view)
    try:
        for n in range(1, 5):
            guest = run(qloop, SignalingClient.connect(link.rendezvous_url, 3.0), 5)
            guests.append(guest)
            run(qloop, guest.join(RoomKeys.from_secret(link.secret).room_id, link.room), 5)
            view.refresh()
            text = view.rows[record.link].status.text()
            if n < 4:
                assert "full" not in text and f"{n} " in text, text
        assert "full: 4 people in it now" in text, text
    finally:
        view.close_view()
        for guest in guests:
            run(qloop, guest.close(), 5)
