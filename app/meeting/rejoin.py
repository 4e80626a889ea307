"""When the rendezvous connection is lost in a call: how to get back into the room. Pure policy.

A Session that loses its rendezvous (this computer was offline or asleep, the host's app
restarted, a standalone rendezvous was restarted) keeps its connected peers and tries to join
the room again in the background: soon at first, then every ``MAX_DELAY_S``. Each try either
gets back in (with a new peer id: the rendezvous forgot the old one, and so did the others),
is worth repeating (nobody answers yet, or the room is not there yet: a restarted host's app
opens it again), or is final (the room ended or expired, the link is wrong). With nobody left
in the call, trying stops after ``ALONE_S``: the call ends as "disconnected".
"""

from __future__ import annotations

from app.errors import PeerMeetError, RoomRefused

DELAYS_S = (0.5, 1.0, 2.0, 4.0)  # before the first tries; MAX_DELAY_S after that
MAX_DELAY_S = 5.0
ALONE_S = 120.0  # with no peer connected, give up after this long

#: refusals that end the call, and the reason the call ends with
FINAL = {
    "room_ended": "ended",
    "room_expired": "expired",
    "wrong_secret": "disconnected",
}  # room_full: tried again (our old seat is freed once the server notices it is dead)


def delay(attempt: int) -> float:
    """Seconds to wait before try number ``attempt`` (0, 1, …)."""
    return DELAYS_S[attempt] if attempt < len(DELAYS_S) else MAX_DELAY_S


def verdict(error: PeerMeetError) -> str | None:
    """The reason the call ends with after ``error``, or None to try again."""
    if isinstance(error, RoomRefused):
        return FINAL.get(error.code)  # no_such_room: a restarted host's app may open it again
    return None  # unreachable, or a damaged answer: try again later


def give_up(alone_since: float | None, now: float) -> bool:
    """True once nobody has been connected for ALONE_S (``alone_since``: None while some are)."""
    return alone_since is not None and now - alone_since >= ALONE_S
