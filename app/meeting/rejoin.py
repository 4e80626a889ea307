"""When the rendezvous connection is lost in a call: how to get back into the room.

A Session that loses its rendezvous (this computer was offline or asleep, the host's app
restarted, a standalone rendezvous was restarted) keeps its connected peers and tries to join
the room again in the background (``get_back_in``): soon at first, then every ``MAX_DELAY_S``.
Each try either gets back in (with a new peer id: the rendezvous forgot the old one), is worth
repeating (nobody answers yet; the room is not there yet, as a restarted host's app opens it
again; a room of that name but another secret is there), or is final (the room ended or
expired). The participant that owns the room opens it again itself if the rendezvous lost
it (app.meeting.reopening). With nobody connected for ``ALONE_S`` the Session ends the call as
"disconnected".
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable

from app.errors import PeerMeetError, RoomRefused
from app.meeting import events as ev
from app.net import protocol as p
from app.net.signaling import SignalingClient

log = logging.getLogger(__name__)

DELAYS_S = (0.5, 1.0, 2.0, 4.0)  # before the first tries; MAX_DELAY_S after that
MAX_DELAY_S = 5.0
ALONE_S = 120.0  # with no peer connected, give up after this long
MISSING_TRIES = 6  # "no such room" this many times in a row: say so (once)
MISSING_TEXT = (
    "The meeting is not on its server any more (was the server restarted?). Still trying to "
    "get back in; the people you are connected to stay connected."
)
#: what the room's owner is told when the lost room was opened again, but not by us
TAKEN_TEXT = (
    "The meeting's server has it open again, but not from this app (someone else with its "
    "link?). You are back in the call, but can no longer end or extend the meeting."
)

#: what a participant is told when the rendezvous is lost, with and without others connected
LOST_WITH_OTHERS = (
    "Lost touch with the meeting's server; getting back in… You still see and hear the people "
    "you are connected to."
)
LOST_ALONE = (
    "Lost touch with the meeting; getting back in… (Has the host closed PeerMeet? Or is this "
    "computer offline?)"
)


def lost(*, with_others: bool) -> ev.RendezvousLost:
    """What to say when the rendezvous is lost (``with_others``: some peers still connected)."""
    return ev.RendezvousLost(LOST_WITH_OTHERS if with_others else LOST_ALONE, with_others)


#: refusals that mean the rendezvous does not know our room (any more)
MISSING = ("no_such_room", "wrong_secret")
#: refusals that end the call, and the reason the call ends with
FINAL = {"room_ended": "ended", "room_expired": "expired"}

Connect = Callable[[], Awaitable[SignalingClient]]
Seat = Callable[[SignalingClient, bool], Awaitable[p.Joined]]  # (client, create it) -> joined


def delay(attempt: int) -> float:
    """Seconds to wait before try number ``attempt`` (0, 1, …)."""
    return DELAYS_S[attempt] if attempt < len(DELAYS_S) else MAX_DELAY_S


def verdict(error: PeerMeetError) -> str | None:
    """The reason the call ends with after ``error``, or None to try again."""
    if isinstance(error, RoomRefused):
        return FINAL.get(error.code)  # no_such_room, room_full, wrong_secret: try again
    return None  # unreachable, or a damaged answer: try again later


def give_up(alone_since: float | None, now: float) -> bool:
    """True once nobody has been connected for ALONE_S (``alone_since``: None while some are)."""
    return alone_since is not None and now - alone_since >= ALONE_S


async def get_back_in(
    connect: Connect,
    seat: Seat,
    say: Callable[[str], None],
    *,
    owner: bool = False,
    taken: Callable[[], None] = lambda: None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[SignalingClient, p.Joined] | str:
    """Try until back in: the new connection and seat, or the reason the call ends.
    ``owner``: we own the room, so we open it again if the rendezvous lost it (``seat`` is
    asked to create it); if someone else did first ("room exists"), we join theirs, and
    ``taken()`` is called (the owner token is theirs now)."""
    missing = 0
    for attempt in itertools.count():
        await sleep(delay(attempt))
        create = owner and missing > 0  # (try a plain join first: it may be there)
        try:
            client = await connect()
            return client, await seat(client, create)
        except PeerMeetError as exc:
            log.info("rejoin attempt %d: %s", attempt + 1, exc)
            if (reason := verdict(exc)) is not None:
                return reason
            gone = isinstance(exc, RoomRefused) and exc.code in MISSING  # (not our room)
            missing = missing + 1 if gone else 0
            if missing == MISSING_TRIES and not owner:
                say(MISSING_TEXT)
            if owner and isinstance(exc, RoomRefused) and exc.code == "room_exists":
                say(TAKEN_TEXT)  # (the next try joins it: a plain join)
                taken()
    raise AssertionError("unreachable")  # (itertools.count never ends)
