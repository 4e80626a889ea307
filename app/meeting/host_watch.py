"""RoomWatch: the host's app keeps its meetings on an outside rendezvous open, in the call or not.

A standalone rendezvous restarted without --state has forgotten every room, and guests waiting
to get back in never create one (app.meeting.rejoin). The host's call opens its room again
(app.meeting.reopening), but the host is often not in the call: then the host's app does it.
HostService's sweeper hands its meetings to ``look`` every second, and each live outside one is
checked when due: ``check_s`` (15 s) after it was first seen and after each check, sooner
(``retry_s``, 5 s) while its server does not answer, as it may be restarting. The check is a
"create" of the room as it was (same id, name and size, until its original expiry): a server
that still has it answers "room exists" and nothing changes; one that lost it opens it again
and hands out a new owner token, which goes into the meeting's record (``HostService.reopened``),
so My meetings can still end and extend it.

One owner per re-create: a meeting whose call this app is in (``HostService.in_call``) is left
to that call, which opens the room again itself (two creates would leave one of them told that
someone else took the room). End and +1 hour in My meetings wait for a check under way
(``lock``), and so use the token it brought. A meeting ended, expired or forgotten is not
checked, nor one with less than the rendezvous' shortest lifetime left; a server answering
that the room ended or expired there marks it so here.

Should someone else with the link have opened the room again first (a headless host, another
app), the server refuses our End and +1 hour as "not owner": the meeting is marked ``taken``,
and My meetings says so and offers to remove it (``taken``, TAKEN_NOTE). It is marked so at
once when the host's call, getting back in, is told "room exists" (HostService.taken_over).
The check goes on: if the server loses the room again, it is opened again as ours.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.errors import PeerMeetError, RoomRefused
from app.meeting import reopening
from app.meeting.host_remote import RemoteRooms
from app.meeting.links import parse_link
from app.meeting.store import MeetingRecord
from app.meeting.tasks import TaskOwner

if TYPE_CHECKING:
    from app.meeting.hosting import HostService

log = logging.getLogger(__name__)

CHECK_S = 15.0  # a meeting its server still has is looked at again after this long
RETRY_S = 5.0  # ... and sooner while its server does not answer (restarting?)
OVER = ("room_ended", "room_expired")  # what the server may answer for a room that is over
#: refusals of end and extend from My meetings that mean the owner token is not ours any more
#: ("room exists": the +1 hour on a lost room found it opened again as it was opening it)
NOT_OURS = ("not_owner", "room_exists")
#: what My meetings says then: in the meeting's row, and when End or +1 hour is refused
TAKEN_NOTE = (
    "Opened again by someone else with its link after its server lost it: only they can end "
    "or extend it now. The link still works."
)
TAKEN_TEXT = (
    "After its server restarted and lost it, someone else with its link opened it again, so "
    "only they can end or extend it now. The link still works while it runs; press Remove to "
    "take it off My meetings."
)


def taken(record: MeetingRecord) -> RoomRefused:
    """Mark ``record`` as opened again by someone else; the error to say why End or +1 hour
    did not work (the caller saves the record)."""
    record.taken, record.note = True, TAKEN_NOTE
    return RoomRefused("not_owner", TAKEN_TEXT)


class RoomWatch:
    def __init__(
        self,
        remote: RemoteRooms,
        clock: Callable[[], float],
        check_s: float = CHECK_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self._remote, self._clock = remote, clock
        self._check_s, self._retry_s = check_s, retry_s
        self._tasks = TaskOwner()
        self._due: dict[str, float] = {}  # link -> when it is checked next
        self._busy: set[str] = set()  # links whose check runs now
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, link: str) -> asyncio.Lock:
        """Held while ``link``'s room is checked (or opened again); end and extend take it too."""
        return self._locks.setdefault(link, asyncio.Lock())

    def look(self, host: HostService) -> None:
        """Start the check of each live outside meeting of ``host`` that is due."""
        now = self._clock()
        watched = {r.link for r in host.records() if not r.embedded and r.is_live(now)}
        for link in [k for k in self._due if k not in watched]:
            del self._due[link]
        for link, lock in list(self._locks.items()):
            if link not in watched and not lock.locked():
                del self._locks[link]
        for link in watched - self._busy:
            due = self._due.setdefault(link, now + self._check_s)  # (new: just created, resumed)
            if due <= now and not host.in_call(link):
                self._busy.add(link)
                self._tasks.spawn(self._check(host, link))

    async def close(self) -> None:
        await self._tasks.close()

    async def _check(self, host: HostService, link: str) -> None:
        wait = self._check_s  # (a check that broke is not tried again at once, every sweep)
        try:
            async with self.lock(link):
                wait = await self._open_again(host, link)
        except Exception:  # e.g. the record could not be saved: said in the log, tried later
            log.exception("checking meeting %s", link.partition("#")[0])
        finally:
            self._due[link] = self._clock() + wait
            self._busy.discard(link)

    async def _open_again(self, host: HostService, link: str) -> float:
        """Open ``link``'s room again if its server lost it; seconds to the next check."""
        record, now = host.store.find(link), self._clock()
        if record is None or record.embedded or not record.is_live(now) or host.in_call(link):
            return self._check_s  # (ended, forgotten or entered meanwhile)
        try:
            left = reopening.lifetime(record.expires_at, now)
        except RoomRefused:
            return self._check_s  # too little left to open it again: the sweep expires it
        try:
            token, expires_at = await self._remote.create(parse_link(link), record.size, left)
        except RoomRefused as exc:
            if exc.code in OVER:
                host.over(link, exc.code)
            elif exc.code != "room_exists":  # (busy, or limits on this address: later)
                log.info("checking meeting %s: %s", record.room, exc.code)
            return self._check_s
        except PeerMeetError as exc:  # no answer (restarting?), or a damaged one
            log.info("checking meeting %s: %s", record.room, exc)
            return self._retry_s
        log.info("the rendezvous had lost meeting %s: opened it again", record.room)
        host.reopened(link, token, expires_at)
        return self._check_s
