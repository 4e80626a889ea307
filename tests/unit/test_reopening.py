"""Opening a lost room again: only its owner, only within its old lifetime, the new owner token
back to My meetings (app.meeting.reopening)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.errors import RoomRefused
from app.meeting import reopening
from app.meeting.hosting import HostService
from app.meeting.links import Link, new_secret
from app.meeting.store import ENDED, LIVE, MeetingRecord, MeetingStore
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from app.net.rooms import MAX_LIFETIME_S, MIN_LIFETIME_S
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient

NOW = 1_000_000.0
LINK = Link("127.0.0.1", 8765, "team-sync", new_secret())


class Client:
    """Stands in for the connection a seat is taken on: only whether it was closed."""

    closed = False

    async def close(self) -> None:
        self.closed = True


def joined(token: str | None = None, expires_at: float = NOW + 600) -> p.Joined:
    return p.Joined(peer_id="me", peers=(), capacity=4, expires_at=expires_at, owner_token=token)


async def take_seat(
    owner: reopening.Owner | None, expires_at: float, answer: p.Joined
) -> tuple[list[tuple[str, int] | None], Client, p.Joined | RoomRefused]:
    """``reopening.seat`` with a ``take`` that records what it was asked and gives ``answer``."""
    asked: list[tuple[str, int] | None] = []
    client = Client()

    async def take(c: object, link: Link, create: tuple[str, int] | None) -> p.Joined:
        assert c is client and link == LINK
        asked.append(create)
        return answer

    try:
        got: p.Joined | RoomRefused = await reopening.seat(
            client,  # type: ignore[arg-type]
            LINK,
            take,  # type: ignore[arg-type]
            owner,
            expires_at,
            NOW,
        )
    except RoomRefused as exc:
        got = exc
    return asked, client, got


def test_a_reopened_room_lives_what_was_left_of_it() -> None:
    assert reopening.lifetime(NOW + 2400.7, NOW) == 2400  # not a fresh lifetime
    assert reopening.lifetime(NOW + MIN_LIFETIME_S, NOW) == MIN_LIFETIME_S
    assert reopening.lifetime(NOW + 3 * MAX_LIFETIME_S, NOW) == MAX_LIFETIME_S
    for ends in (NOW - 1, NOW + MIN_LIFETIME_S - 1):  # ran out, or too little to open
        with pytest.raises(RoomRefused) as info:
            reopening.lifetime(ends, NOW)
        assert info.value.code == "room_expired"


async def test_a_guest_only_joins() -> None:
    asked, client, got = await take_seat(None, NOW + 600, joined())
    assert asked == [None] and got == joined() and not client.closed


async def test_the_owner_opens_it_again_until_its_old_expiry_and_keeps_the_new_token() -> None:
    kept: list[tuple[str, float]] = []
    owner = reopening.Owner("mid", lambda token, ends: kept.append((token, ends)))
    asked, _, got = await take_seat(owner, NOW + 1234.5, joined("new-token", NOW + 1234))
    assert asked == [("mid", 1234)] and isinstance(got, p.Joined)
    assert kept == [("new-token", NOW + 1234)]


async def test_a_room_that_ran_out_or_was_ended_is_not_opened_again() -> None:
    kept: list[tuple[str, float]] = []
    owner = reopening.Owner("small", lambda token, ends: kept.append((token, ends)))
    asked, client, got = await take_seat(owner, NOW - 5, joined("t"))
    assert isinstance(got, RoomRefused) and got.code == "room_expired"
    assert asked == [] and client.closed and kept == []
    ended = reopening.Owner("small", lambda token, ends: kept.append((token, ends)), lambda: True)
    asked, client, got = await take_seat(ended, NOW + 600, joined("t"))
    assert isinstance(got, RoomRefused) and got.code == "room_ended"
    assert asked == [] and client.closed and kept == []


async def test_the_first_seat_of_the_owner_opens_a_lost_room_over_a_new_connection() -> None:
    """Entering a meeting from My meetings after its server restarted without --state."""
    asked: list[tuple[str, int] | None] = []
    first, second = Client(), Client()

    async def take(c: object, link: Link, create: tuple[str, int] | None) -> p.Joined:
        asked.append(create)
        if c is first:
            raise RoomRefused("no_such_room", "")
        return joined("fresh", NOW + 900)

    async def connect() -> Client:
        return second

    kept: list[tuple[str, float]] = []
    owner = reopening.Owner("small", lambda t, e: kept.append((t, e)), expires_at=NOW + 900)
    client, seat = await reopening.first_seat(
        first,  # type: ignore[arg-type]
        LINK,
        take,  # type: ignore[arg-type]
        None,
        owner,
        connect,  # type: ignore[arg-type]
        NOW,
    )
    assert client is second and seat.owner_token == "fresh"
    assert asked == [None, ("small", 900)] and kept == [("fresh", NOW + 900)]
    asked.clear()  # a guest hears "no such room" as it is
    with pytest.raises(RoomRefused):
        await reopening.first_seat(first, LINK, take, None, None, connect, NOW)  # type: ignore[arg-type]
    assert asked == [None]


def record(link: Link, rendezvous: str = "peermeet://127.0.0.1:8765") -> MeetingRecord:
    return MeetingRecord(
        str(link), "Team sync", link.room, "mid", NOW, NOW + 3600, rendezvous, link.port,
        owner_token="old-token",
    )  # fmt: skip


async def test_only_the_calls_of_our_own_live_outside_meetings_may_reopen(tmp_path: Path) -> None:
    store = MeetingStore(tmp_path / "meetings.json")
    host = HostService(store, clock=lambda: NOW + 60)
    here = Link("127.0.0.1", 8765, "here", new_secret())
    ended = Link("127.0.0.1", 8765, "ended", new_secret())
    for r in (record(LINK), record(here, rendezvous=""), record(ended)):
        store.put(r)
    store.find(str(ended)).state = ENDED  # type: ignore[union-attr]
    someone_elses = Link("127.0.0.1", 8765, "team-sync", new_secret())
    for link in (here, ended, someone_elses):  # ours on this computer; ended; a guest's
        assert reopening.for_meeting(host, link) is None, link.room
    pasted = Link("meet.example", 8765, "team-sync", LINK.secret)  # the same meeting
    owner = reopening.for_meeting(host, pasted)
    assert owner is not None and owner.size == "mid" and owner.expires_at == NOW + 3600
    assert not owner.ended()
    owner.reopened("new-token", NOW + 3500)  # (said from the call's thread)
    await asyncio.sleep(0)  # it reaches My meetings on HostService's loop
    saved = MeetingStore(store.path).find(str(LINK))
    assert saved is not None and saved.owner_token == "new-token"
    assert saved.expires_at == NOW + 3500 and saved.state == LIVE
    await host.end(str(LINK), told=True)
    assert owner.ended()  # ended from My meetings meanwhile: not opened again
    owner.reopened("newer-token", NOW + 3400)
    await asyncio.sleep(0)
    assert store.find(str(LINK)).owner_token == "new-token"  # type: ignore[union-attr]


async def test_an_owner_whose_room_was_opened_again_meanwhile_joins_it() -> None:
    """The host enters a meeting its server lost just as the host's app opens it again
    (app.meeting.host_watch): the call's own create hears "room exists" and joins that room,
    rather than failing the join."""
    server = RendezvousServer("127.0.0.1", 0)
    port = await server.start()
    link = Link("127.0.0.1", port, "team-sync", new_secret())
    room = RoomKeys.from_secret(link.secret).room_id
    opener: list[SignalingClient] = []

    async def connect() -> SignalingClient:
        if not opener:  # the app's check gets there first
            opener.append(await SignalingClient.connect(link.rendezvous_url, 3.0))
            await opener[0].create(room, link.room, "small", 600)
        return await SignalingClient.connect(link.rendezvous_url, 3.0)

    async def take(client: SignalingClient, link: Link, create: tuple[str, int] | None) -> p.Joined:
        try:
            if create is None:
                return await client.join(room, link.room)
            return await client.create(room, link.room, *create)
        except BaseException:
            await client.close()
            raise

    client = await SignalingClient.connect(link.rendezvous_url, 3.0)
    owner = reopening.Owner("small", expires_at=time.time() + 600)
    try:
        client, seat = await reopening.first_seat(
            client, link, take, None, owner, connect, time.time()
        )
        assert seat.owner_token is None and len(seat.peers) == 1  # the opener's seat
        await client.close()
    finally:
        for other in opener:
            await other.close()
        await server.close()


async def cancelled_while_opening(answer_after: float) -> tuple[list[tuple[str, float]], Client]:
    """``reopening.seat`` of the owner, cancelled (the call is left) while its create waits for
    an answer that comes ``answer_after`` seconds later; what was handed to My meetings."""
    kept: list[tuple[str, float]] = []
    owner = reopening.Owner("small", lambda token, ends: kept.append((token, ends)))
    client, asked = Client(), asyncio.Event()

    async def take(c: object, link: Link, create: tuple[str, int] | None) -> p.Joined:
        asked.set()
        try:
            await asyncio.sleep(answer_after)
        except BaseException:
            await client.close()  # (as Session._take_seat)
            raise
        return joined("new-token", NOW + 900)

    seating = asyncio.ensure_future(
        reopening.seat(client, LINK, take, owner, NOW + 900, NOW)  # type: ignore[arg-type]
    )
    await asyncio.wait_for(asked.wait(), 1)
    seating.cancel()
    with pytest.raises(asyncio.CancelledError):
        await seating
    return kept, client


async def test_a_room_opened_again_as_the_call_is_left_still_hands_on_its_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The create is answered a moment after the leave: the token still goes on, the seat is
    given up; an answer later than HANDOVER_S is not waited for."""
    monkeypatch.setattr(reopening, "HANDOVER_S", 0.3)
    kept, client = await cancelled_while_opening(0.1)
    assert kept == [("new-token", NOW + 900)] and client.closed
    started = time.monotonic()
    kept, client = await cancelled_while_opening(5.0)
    assert kept == [] and client.closed and time.monotonic() - started < 1.0
