"""Opening a room again when the rendezvous lost it, by the one participant that may.

A standalone rendezvous restarted without ``--state`` knows no room any more: everyone getting
back in by themselves (app.meeting.rejoin) hears "no such room". The participant that holds
the room's owner token opens it again: the headless host that created it (``peermeet host
--rendezvous``), or in the desktop app the host whose My meetings lists it (``for_meeting``).
The room comes back with the same id, name and size until its ORIGINAL expiry (extensions
included), not for a fresh lifetime; a room that ran out (or has less than the rendezvous'
shortest lifetime left) stays gone, and the call ends as "expired". The rendezvous hands out a
new owner token: ``Owner.reopened`` passes it on (to the meeting's record, so My meetings can
still extend and end it). Guests never create a room; they keep trying until it is back.

Should the rendezvous answer "room exists" (someone else with the link's secret opened it
first), the next try simply joins that room: the call goes on, but the owner token is theirs
(app.meeting.rejoin says so to the host).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.errors import PeerMeetError, RoomRefused, refusal
from app.meeting.engine import call_soon_on
from app.meeting.links import Link, parse_link
from app.meeting.rejoin import MISSING
from app.meeting.store import ENDED
from app.net import protocol as p
from app.net.rooms import MAX_LIFETIME_S, MIN_LIFETIME_S
from app.net.signaling import SignalingClient

if TYPE_CHECKING:
    from app.meeting.hosting import HostService

log = logging.getLogger(__name__)
#: how long a call left while its room is being opened again waits for the rendezvous' answer
HANDOVER_S = 3.0


def _keep_nothing(owner_token: str, expires_at: float) -> None:
    return None


def _never() -> bool:
    return False


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Owner:
    """What the room's owner needs to open it again (called on the session's own loop)."""

    size: str  # small | mid | large, as it was created
    #: told the new owner token and expiry once the room is open again
    reopened: Callable[[str, float], None] = _keep_nothing
    #: True once the meeting was ended meanwhile (from My meetings): then it stays ended
    ended: Callable[[], bool] = _never
    #: its expiry as last known before entering the room (a call learns it from the room)
    expires_at: float = 0.0
    #: told when someone else opened the room again first (the owner token is theirs now)
    taken: Callable[[], None] = _nothing


def lifetime(expires_at: float, now: float) -> int:
    """Seconds a reopened room lives: what was left of it. RoomRefused("room_expired") if too
    little is left for the rendezvous to open it (it ran out while the rendezvous was away)."""
    left = int(expires_at - now)
    if left < MIN_LIFETIME_S:
        raise refusal("room_expired")
    return min(left, MAX_LIFETIME_S)


#: (client, link, (size, lifetime) to create the room or None to join it) -> the seat
Take = Callable[[SignalingClient, Link, tuple[str, int] | None], Awaitable[p.Joined]]


async def seat(
    client: SignalingClient,
    link: Link,
    take: Take,
    owner: Owner | None,
    expires_at: float,
    now: float,
) -> p.Joined:
    """Join the room over ``client`` or, given its ``owner``, open it again until ``expires_at``
    (``client`` is closed if that is refused here)."""
    if owner is None:
        return await take(client, link, None)
    try:
        again = (owner.size, lifetime(expires_at, now))
        if owner.ended():
            raise refusal("room_ended")
    except RoomRefused:
        await client.close()
        raise
    return await _created(take(client, link, again), client, owner)


async def _created(
    creating: Awaitable[p.Joined], client: SignalingClient, owner: Owner
) -> p.Joined:
    """The answer to a create, its owner token handed on. Cancelled meanwhile (the call is
    being left), it still waits for that answer a moment (HANDOVER_S) and hands the token on,
    then closes ``client``: the rendezvous may have opened the room already, and its new token
    must not be lost (My meetings could no longer end or extend the room, and would take it
    for someone else's)."""
    task = asyncio.ensure_future(creating)
    try:
        joined = await asyncio.shield(task)
    except asyncio.CancelledError:
        try:
            await asyncio.wait({task}, timeout=HANDOVER_S)
        finally:
            task.cancel()  # (no answer in time, or cancelled again: ``take`` closes ``client``)
            await asyncio.wait({task})
        if not task.cancelled() and task.exception() is None:
            owner.reopened(task.result().owner_token or "", task.result().expires_at)
            await client.close()  # (the call is left: the seat is not kept)
        raise
    owner.reopened(joined.owner_token or "", joined.expires_at)
    return joined


async def first_seat(
    client: SignalingClient,
    link: Link,
    take: Take,
    create: tuple[str, int] | None,
    owner: Owner | None,
    connect: Callable[[], Awaitable[SignalingClient]],
    now: float,
) -> tuple[SignalingClient, p.Joined]:
    """A call's first seat: join the room over ``client`` (or create it, given ``create``).
    If its ``owner`` hears that the rendezvous does not know it (restarted meanwhile), open it
    again over a new connection (``connect``), until ``owner.expires_at``; if it was opened
    again just before ("room exists"), join it."""
    try:
        return client, await take(client, link, create)
    except RoomRefused as exc:
        if create is not None or owner is None or exc.code not in MISSING:
            raise
    log.info("the rendezvous lost the room: opening it again")
    client = await connect()
    try:
        return client, await seat(client, link, take, owner, owner.expires_at, now)
    except RoomRefused as exc:
        if exc.code != "room_exists":
            raise
    # opened again meanwhile (by the host's app: app.meeting.host_watch, or by someone with
    # the link): its token is not ours to have, but the room is the one we came for
    client = await connect()
    return client, await take(client, link, None)


def for_meeting(host: HostService, link: Link) -> Owner | None:
    """How the call of ``link`` reopens its room: as the owner if it is one of ``host``'s live
    meetings on an outside rendezvous (the new owner token goes to its record, back on the
    loop this runs on, HostService's); None for anyone else's meeting, and for this computer's
    own rendezvous (the host's app opens those rooms itself when it starts: host_resume)."""
    loop = asyncio.get_running_loop()
    record = next((r for r in host.records() if same_room(r.link, link)), None)
    if record is None or record.embedded or not record.is_live(host.now()):
        return None
    key = record.link

    def reopened(owner_token: str, expires_at: float) -> None:
        call_soon_on(loop, host.reopened, key, owner_token, expires_at)

    def ended() -> bool:  # (read from the call's thread: one record's plain attributes)
        found = host.store.find(key)
        return found is None or found.state == ENDED

    def taken() -> None:
        call_soon_on(loop, host.taken_over, key)

    return Owner(record.size, reopened, ended, record.expires_at, taken)


def same_room(text: str, link: Link) -> bool:
    """Whether the link ``text`` (a record's) is to the room of ``link``."""
    try:
        return parse_link(text).secret == link.secret
    except PeerMeetError:
        return False
