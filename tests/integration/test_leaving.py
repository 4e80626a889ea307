"""A deliberate leave is said as a plain leave to everyone, whatever state each link is in:
real sessions, a real rendezvous, real aiortc over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from app.meeting import events as ev
from app.net import protocol as p
from app.net.peers import PeerLink
from app.net.rendezvous import RendezvousServer
from app.net.rooms import Rooms
from app.net.seal import RoomKeys, Sealer
from app.net.signaling import SignalingClient
from tests.integration.test_session import Peer, room_link, until

pytestmark = [pytest.mark.usefixtures("loopback"), pytest.mark.timeout(60)]


def ids(*order: str) -> Iterator[str]:
    """Peer ids the rendezvous hands out, in this order (the lower id offers)."""
    yield from order


async def test_a_guest_that_leaves_while_still_connecting_is_said_to_have_left(
    server: RendezvousServer,
) -> None:
    """Gus (the lower id: he offers) leaves as soon as Hana's answer names her, his data
    channel not open yet: his goodbye there never leaves, while Hana's link to him may be up
    by then. She says he left (not "connection lost"), at once, not after a timeout."""
    given = ids("hana", "gus")
    server.rooms = Rooms(new_id=lambda: next(given))
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    leaving: list[asyncio.Future[None]] = []

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.PeerJoined) and not leaving:
            channel = gus.session._links[event.peer_id]._channel
            assert channel is not None and channel.readyState == "connecting"
            leaving.append(asyncio.ensure_future(gus.session.leave()))

    gus.session.subscribe(on_event)
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await until(lambda: bool(leaving))
        started = asyncio.get_running_loop().time()
        await until(lambda: bool(host.of(ev.PeerLeft)), 15)
        took = asyncio.get_running_loop().time() - started
        await asyncio.sleep(0.5)  # (no second word on it comes later)
        (left,) = host.of(ev.PeerLeft)
        assert (left.peer_id, left.name, left.reason) == ("gus", "Gus", "left")  # type: ignore[attr-defined]
        assert took < 1.5, took
        assert host.session.peers == {} and not host.session._links
    finally:
        await gus.close()
        await host.close()


async def test_someone_who_leaves_before_answering_our_offer_is_not_said_to_have_left(
    server: RendezvousServer,
) -> None:
    """Hana (the lower id) offers to a newcomer, who leaves before answering: she never
    learnt its name nor saw its connection begin (nothing showed it), so she forgets it and
    says nothing; it read " left" (a nameless "Someone left" in the call window)."""
    given = ids("hana", "newcomer")
    server.rooms = Rooms(new_id=lambda: next(given))
    relayed: list[str] = []
    server.on_relay = lambda room_id, blob: relayed.append(blob)
    link = room_link(server)
    hana = Peer("Hana")
    room_id = RoomKeys.from_secret(link.secret).room_id
    try:
        await hana.session.create(link, "small", 3600)
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        try:
            await client.join(room_id, link.room)
            await until(lambda: len(relayed) >= 2)  # Hana's commitment and offer came
        finally:
            await client.close()  # gone without answering
        await until(lambda: "newcomer" not in hana.session.peers)
        await asyncio.sleep(0.3)
        assert not hana.session._links and not hana.of(ev.PeerLeft)
    finally:
        await hana.close()


async def test_nothing_is_relayed_after_the_goodbye(
    server: RendezvousServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hana starts to leave while her offer to a newcomer is being made: her goodbye is the
    last thing it gets from her. (Her offer went out after it, and was answered by one that had
    dropped her already: she was back for it, on a link that never connected.)"""
    given = ids("hana", "newcomer")
    server.rooms = Rooms(new_id=lambda: next(given))
    link = room_link(server)
    hana = Peer("Hana")
    make_offer = PeerLink.make_offer

    async def slow_offer(self: PeerLink) -> str:
        await asyncio.sleep(0.02)  # (within the goodbye's 50 ms before tasks are cancelled)
        return await make_offer(self)

    monkeypatch.setattr(PeerLink, "make_offer", slow_offer)
    leaving: list[asyncio.Future[None]] = []

    def on_event(event: ev.Event) -> None:
        if isinstance(event, ev.Progress) and event.step == 3 and not leaving:  # (its offer next)
            leaving.append(asyncio.ensure_future(hana.session.leave()))

    hana.session.subscribe(on_event)
    room_id = RoomKeys.from_secret(link.secret).room_id
    opener = Sealer(RoomKeys.from_secret(link.secret), "newcomer")
    try:
        await hana.session.create(link, "small", 3600)
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        got: list[str] = []
        try:
            await client.join(room_id, link.room)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    while (msg := await client.recv()) is not None:
                        if isinstance(msg, p.Relayed):
                            got.append(opener.open(msg.sender, msg.blob).TYPE)
        finally:
            await client.close()
        assert leaving and got and got[-1] == "bye", got
    finally:
        await hana.close()
