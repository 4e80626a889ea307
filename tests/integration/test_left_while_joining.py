"""A call left while its first join is still under way, the join not cancelled: what the join
opens after the leave is closed, and it raises LeftWhileJoining instead of seating the call.
A real rendezvous behind a real TCP relay whose answers come late (FarAway)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from app.errors import RoomRefused
from app.meeting import events as ev
from app.meeting.left_joining import LEFT_TEXT, LeftWhileJoining
from app.meeting.links import Link, new_secret
from app.meeting.reopening import Owner
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.relays import FarAway
from tests.integration.test_host_reopen import Peer
from tests.integration.test_session import until

pytestmark = [pytest.mark.usefixtures("loopback"), pytest.mark.timeout(30)]
DELAY = 0.6  # each answer of the rendezvous, the websocket handshake's too


@pytest.fixture
async def far() -> AsyncIterator[tuple[RendezvousServer, FarAway]]:
    server = RendezvousServer(host="127.0.0.1", port=0)
    await server.start()
    relay = FarAway(server.port, DELAY)
    await relay.start()
    yield server, relay
    await relay.close()
    await server.close()


async def an_open_room(server: RendezvousServer) -> tuple[Link, SignalingClient]:
    """A room someone (its owner, straight to the server) is in."""
    link = Link("127.0.0.1", server.port, "team-sync", new_secret())
    owner = await SignalingClient.connect(link.rendezvous_url, 2.0)
    await owner.create(RoomKeys.from_secret(link.secret).room_id, link.room, "small", 600)
    return link, owner


def members(server: RendezvousServer, link: Link) -> int:
    room = server.rooms.get(RoomKeys.from_secret(link.secret).room_id)
    return -1 if room is None else len(room.members)


async def left_meanwhile(peer: Peer, join: asyncio.Task[None], *, pending: bool = True) -> None:
    """Leave, then see the join end in LeftWhileJoining, the session never seated.
    ``pending``: the join is known to go on after the leave (its connection still on the way)."""
    await asyncio.wait_for(peer.session.leave(), 5)
    assert not (pending and join.done())
    with pytest.raises(LeftWhileJoining, match=LEFT_TEXT):
        await asyncio.wait_for(join, 10)
    assert peer.session.my_id == "" and not peer.of(ev.RoomInfo)
    client = peer.session._client
    assert client is None or client.closed


async def test_a_connection_that_comes_after_the_leave_is_closed(
    far: tuple[RendezvousServer, FarAway],
) -> None:
    server, relay = far
    link, owner = await an_open_room(server)
    peer = Peer("Gus")
    try:
        join = asyncio.create_task(peer.session.join(dataclasses.replace(link, port=relay.port)))
        await until(lambda: peer.connects == 1)
        await asyncio.sleep(DELAY / 3)  # the connection is being made
        await left_meanwhile(peer, join)
        await asyncio.sleep(2 * DELAY)  # (whatever was on its way has come)
        assert members(server, link) == 1  # the owner alone: no seat taken for a call left
    finally:
        await peer.close()
        await owner.close()


async def test_a_join_whose_answer_comes_after_the_leave_says_so(
    far: tuple[RendezvousServer, FarAway],
) -> None:
    """Connected, the join sent, its answer on the way: the leave closes the connection under
    it, and the join says the call was left (not "cannot reach the rendezvous")."""
    server, relay = far
    link, owner = await an_open_room(server)
    peer = Peer("Gus")
    try:
        join = asyncio.create_task(peer.session.join(dataclasses.replace(link, port=relay.port)))
        await until(lambda: peer.session._client is not None)  # connected; the join is sent
        await left_meanwhile(peer, join, pending=False)  # (the leave closed its connection)
        await until(lambda: members(server, link) == 1, 3)
    finally:
        await peer.close()
        await owner.close()


async def test_a_room_opened_again_after_the_leave_is_not(
    far: tuple[RendezvousServer, FarAway],
) -> None:
    """The owner's first join finds the room gone (the rendezvous restarted) and connects
    again to open it; the call is left before that connection is made: the room is not
    opened again for a call nobody is in."""
    server, relay = far
    link = Link("127.0.0.1", relay.port, "team-sync", new_secret())
    peer = Peer("Hana")
    peer.session.owner = Owner("small", expires_at=time.time() + 600)
    try:
        join = asyncio.create_task(peer.session.join(link))
        await until(lambda: peer.connects == 2)  # refused (no such room): connecting again
        await left_meanwhile(peer, join)
        await asyncio.sleep(3 * DELAY)
        assert members(server, link) == -1  # not opened again
    finally:
        await peer.close()


async def test_a_join_refused_before_any_leave_still_says_why(
    far: tuple[RendezvousServer, FarAway],
) -> None:
    _, relay = far
    peer = Peer("Gus")
    try:
        with pytest.raises(RoomRefused):
            await peer.session.join(Link("127.0.0.1", relay.port, "nowhere", new_secret()))
    finally:
        await peer.close()
