"""When to try again to get into the room after losing the rendezvous, and when to stop."""

from __future__ import annotations

from app.errors import ProtocolError, RendezvousUnreachable, RoomRefused
from app.meeting import rejoin


def test_tries_come_soon_then_every_few_seconds() -> None:
    delays = [rejoin.delay(n) for n in range(8)]
    assert delays[0] <= 0.5 and delays == sorted(delays)
    assert delays[-1] == delays[-2] == rejoin.MAX_DELAY_S


def test_only_an_ended_expired_or_wrong_room_stops_the_tries() -> None:
    assert rejoin.verdict(RoomRefused("room_ended", "")) == "ended"
    assert rejoin.verdict(RoomRefused("room_expired", "")) == "expired"
    assert rejoin.verdict(RoomRefused("wrong_secret", "")) == "disconnected"
    assert rejoin.verdict(RoomRefused("no_such_room", "")) is None  # the host may reopen it
    assert rejoin.verdict(RoomRefused("room_full", "")) is None  # our old seat, not freed yet
    assert rejoin.verdict(RendezvousUnreachable("")) is None
    assert rejoin.verdict(ProtocolError("")) is None


def test_alone_for_two_minutes_gives_up() -> None:
    assert not rejoin.give_up(None, 1000.0)  # someone is still connected
    assert not rejoin.give_up(100.0, 100.0 + rejoin.ALONE_S - 1)
    assert rejoin.give_up(100.0, 100.0 + rejoin.ALONE_S)
