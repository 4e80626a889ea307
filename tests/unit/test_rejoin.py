"""When to try again to get into the room after losing the rendezvous, and when to stop."""

from __future__ import annotations

import asyncio

from app.errors import ProtocolError, RendezvousUnreachable, RoomRefused
from app.meeting import rejoin
from app.net import protocol as p


def test_tries_come_soon_then_every_few_seconds() -> None:
    delays = [rejoin.delay(n) for n in range(8)]
    assert delays[0] <= 0.5 and delays == sorted(delays)
    assert delays[-1] == delays[-2] == rejoin.MAX_DELAY_S


def test_only_an_ended_or_expired_room_stops_the_tries() -> None:
    assert rejoin.verdict(RoomRefused("room_ended", "")) == "ended"
    assert rejoin.verdict(RoomRefused("room_expired", "")) == "expired"
    assert rejoin.verdict(RoomRefused("wrong_secret", "")) is None  # a namesake room
    assert rejoin.verdict(RoomRefused("no_such_room", "")) is None  # the host may reopen it
    assert rejoin.verdict(RoomRefused("room_full", "")) is None  # our old seat, not freed yet
    assert rejoin.verdict(RendezvousUnreachable("")) is None
    assert rejoin.verdict(ProtocolError("")) is None


def test_alone_for_two_minutes_gives_up() -> None:
    assert not rejoin.give_up(None, 1000.0)  # someone is still connected
    assert not rejoin.give_up(100.0, 100.0 + rejoin.ALONE_S - 1)
    assert rejoin.give_up(100.0, 100.0 + rejoin.ALONE_S)


class FakeClient:
    closed = False


def run_tries(answers: list[object], owner: bool) -> tuple[object, list[bool], list[str]]:
    """get_back_in against scripted answers (an exception to raise, or a Joined)."""
    created: list[bool] = []
    said: list[str] = []

    async def connect() -> FakeClient:
        return FakeClient()

    async def seat(client: object, create: bool) -> p.Joined:
        created.append(create)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, p.Joined)
        return answer

    async def no_wait(seconds: float) -> None:
        return None

    outcome = asyncio.run(
        rejoin.get_back_in(connect, seat, said.append, owner=owner, sleep=no_wait)  # type: ignore[arg-type]
    )
    return outcome, created, said


JOINED = p.Joined(peer_id="new", peers=("a",), capacity=4, expires_at=1.0, owner_token=None)


def test_the_rooms_creator_opens_it_again_when_the_rendezvous_lost_it() -> None:
    missing = RoomRefused("no_such_room", "")
    outcome, created, said = run_tries([missing, JOINED], owner=True)
    assert outcome[1] is JOINED and created == [False, True] and said == []  # type: ignore[index]


def test_a_guest_keeps_trying_and_says_once_that_the_room_is_gone() -> None:
    answers: list[object] = [RoomRefused("wrong_secret", "")] * 8
    answers += [RendezvousUnreachable(""), RoomRefused("room_ended", "")]
    outcome, created, said = run_tries(answers, owner=False)
    assert outcome == "ended" and not any(created)
    assert said == [rejoin.MISSING_TEXT]


def test_the_owner_told_the_room_exists_joins_it_and_is_told_it_is_not_theirs() -> None:
    """Someone else with the link's secret opened the lost room first: the owner's create is
    refused ("room exists"); the next try joins that room, and the owner hears why it can no
    longer end or extend it."""
    answers: list[object] = [RoomRefused("no_such_room", ""), RoomRefused("room_exists", "")]
    outcome, created, said = run_tries([*answers, JOINED], owner=True)
    assert outcome[1] is JOINED and created == [False, True, False]  # type: ignore[index]
    assert said == [rejoin.TAKEN_TEXT]
