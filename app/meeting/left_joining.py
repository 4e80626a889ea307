"""A call left while its first join is still under way (``Session.leave`` during ``join`` or
``create``, the join not cancelled): a connection that comes only after the leave, for the
join or to open the room again (app.meeting.reopening), is closed at once, and the join raises
LeftWhileJoining rather than seating a call that was left (its connection kept, its seat
taken on the rendezvous, nothing ever closing them)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from app.errors import PeerMeetError
from app.net import protocol as p
from app.net.signaling import SignalingClient

LEFT_TEXT = "The call was left while joining."


class LeftWhileJoining(PeerMeetError):
    code = "left"


class Call(Protocol):
    @property
    def ended(self) -> str | None: ...  # set as soon as the call is left (Session.leave)


async def kept(client: SignalingClient, call: Call) -> SignalingClient:
    """``client``, just connected, unless the ``call`` was left meanwhile: then it is closed
    (leaving the room, if it had a seat) and LeftWhileJoining raised."""
    if call.ended is not None:
        await client.close()
        raise LeftWhileJoining(LEFT_TEXT)
    return client


async def first_seat(
    seat: Awaitable[tuple[SignalingClient, p.Joined]], call: Call
) -> tuple[SignalingClient, p.Joined]:
    """The ``call``'s first seat (``reopening.first_seat``), unless the call was left before
    it came: then its connection is closed, and a join that failed because the leave closed
    its connection under it says so too (LeftWhileJoining)."""
    try:
        client, joined = await seat
    except PeerMeetError as exc:
        if call.ended is None or isinstance(exc, LeftWhileJoining):
            raise
        raise LeftWhileJoining(LEFT_TEXT) from exc
    return await kept(client, call), joined
