"""What the host of meetings on this computer can do from the call and on quitting: end the
meeting for everyone from inside the call, and be asked before quitting cuts people off. Also
what the calls of our own meetings get from My meetings (``link_calls``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.errors import PeerMeetError, RoomRefused
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.reopening import for_meeting, same_room
from app.meeting.store import MeetingRecord
from app.ui.bridge import Bridge


def link_calls(host: HostService, bridge: Bridge) -> None:
    """Our own meetings' calls are named as we typed them (the link has the room name); on an
    outside rendezvous, they open the room again if its server lost it (app.meeting.reopening)
    and the new owner token goes to My meetings; while in such a call, it is the one that does
    (``host.in_call``: My meetings' own check leaves that meeting to it)."""
    bridge.title_of = lambda link: record.title if (record := host.store.find(link)) else ""
    bridge.owner_of = partial(for_meeting, host)
    host.in_call = lambda link: (
        bridge.in_call and bridge.link is not None and same_room(link, bridge.link)
    )


class Ending:
    """What ends a meeting this user hosts for everyone (awaited: PeerMeetError if it could
    not), and whether it is still theirs to end (``ours``): someone else may open it again
    after its server lost it (their owner token then), or it ends or expires, while its call
    window is open; ``follow(changed)`` calls ``changed()`` on any change to My meetings (its
    result stops that)."""

    def __init__(self, host: HostService, bridge: Bridge, record: MeetingRecord) -> None:
        self._host, self._bridge, self._record = host, bridge, record

    @property
    def record(self) -> MeetingRecord | None:
        """The meeting as My meetings has it now (None: removed from it)."""
        return self._host.store.find(self._record.link)

    def __call__(self) -> Awaitable[None]:
        return _end(self._host, self._bridge, self.record or self._record)

    @property
    def taken(self) -> bool:
        """Someone else opened it again: theirs to end and extend now."""
        return (self.record or self._record).taken

    def ours(self) -> bool:
        record = self.record
        return record is not None and record.is_live(self._host.now()) and not record.taken

    def follow(self, changed: Callable[[], None]) -> Callable[[], None]:
        self._host.subscribe(changed)
        return lambda: self._host.unsubscribe(changed)


def ending(host: HostService, bridge: Bridge) -> Ending | None:
    """For the call of a meeting this user hosts (live in My meetings): what ends it for
    everyone (Ending), None for anyone else's meeting. One someone else opened again after its
    server lost it (its owner token theirs) is not ours to end, unless our call opens it again
    itself later: Ending.ours() says which, now."""
    link = bridge.link
    if link is None:
        return None
    now = host.now()
    for record in host.records():
        try:
            hosted = record.is_live(now) and parse_link(record.link).secret == link.secret
        except PeerMeetError:
            continue
        if hosted:
            return Ending(host, bridge, record)
    return None


async def _end(host: HostService, bridge: Bridge, record: MeetingRecord) -> None:
    if record.embedded:  # this computer's rendezvous: ended right here
        await host.end(record.link)
        return
    # an outside rendezvous: asked as My meetings does ("manage" takes no seat, so a full room
    # is reached too), which waits for the answer: a refusal is said, and the meeting is not
    # marked ended while it runs on (someone else opened it again with their owner token:
    # My meetings marks it taken). Sent over the call's own connection nobody answered it.
    try:
        await host.end(record.link)
    except RoomRefused as exc:
        if exc.code != "room_full":  # (a rendezvous from before "manage" joins to end it)
            raise
        await bridge.end_room(record.owner_token)  # (over the call's seat, unconfirmed)
        await host.end(record.link, told=True)


def busy_meetings(host: HostService) -> list[tuple[str, int]]:
    """(title, people in it) of each live meeting hosted here that has people in it."""
    now = host.now()
    return [
        (r.title or r.room, n)
        for r in host.records()
        if r.is_live(now) and (n := host.participants(r.link) or 0) > 0
    ]


def quit_question(parent: QWidget, busy: list[tuple[str, int]]) -> QMessageBox:
    """ "Quit PeerMeet?", naming the meetings that have people in them (Cancel by default)."""
    who = "; ".join(f"“{title}”: {n} {'person' if n == 1 else 'people'}" for title, n in busy)
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Quit PeerMeet?",
        f"People are in meetings this computer hosts ({who}). Quitting cuts them off. The "
        "same links work again when you start PeerMeet, while the meetings have time left.",
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setTextFormat(Qt.TextFormat.PlainText)  # titles as typed, never markup
    box.addButton("Quit", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box


def ask(box: QMessageBox) -> bool:
    """Show ``quit_question``'s box (modal); True if Quit was pressed."""
    box.exec()
    clicked = box.clickedButton()
    return clicked is not None and box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole
