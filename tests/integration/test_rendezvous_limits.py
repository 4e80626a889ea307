"""Hardened rendezvous: per-address limits, room isolation, TURN credentials for members."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.errors import RoomRefused
from app.net import protocol
from app.net.addresses import same_computer
from app.net.iceservers import TurnIssuer, rest_credentials
from app.net.limits import AddressLimits
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import WsConnection

pytestmark = pytest.mark.timeout(20)
TURN_URL = "turn:turn.example:3478?transport=udp"


@pytest.fixture
async def server() -> AsyncIterator[RendezvousServer]:
    srv = RendezvousServer(
        "127.0.0.1",
        0,
        limits=AddressLimits(per_ip_connections=3, per_ip_rooms=2),
        turn=TurnIssuer("s3cret", [TURN_URL], ttl_s=3600),
    )
    await srv.start()
    yield srv
    await srv.close()


async def connect(srv: RendezvousServer) -> SignalingClient:
    return await SignalingClient.connect(f"ws://127.0.0.1:{srv.port}/ws", 3.0)


async def test_members_get_turn_credentials_before_joined(server: RendezvousServer) -> None:
    client = await connect(server)
    try:
        joined = await client.create("room-a", "a", "small", 600)
        assert client.turn is not None
        username = client.turn.username
        expiry = int(username.split(":")[0])
        assert username == f"{expiry}:{joined.peer_id}"
        assert client.turn.credential == rest_credentials("s3cret", joined.peer_id, expiry)[1]
        (server_entry,) = client.ice_servers
        assert server_entry.urls == TURN_URL and server_entry.username == username
    finally:
        await client.close()


async def test_no_turn_without_a_secret() -> None:
    srv = RendezvousServer("127.0.0.1", 0)
    await srv.start()
    client = await connect(srv)
    try:
        await client.create("room-a", "a", "small", 600)
        assert client.turn is None and client.ice_servers == ()
    finally:
        await client.close()
        await srv.close()


async def test_connections_per_address_are_limited(server: RendezvousServer) -> None:
    clients = [await connect(server) for _ in range(4)]
    try:
        await clients[0].create("room-0", "r0", "small", 600)
        with pytest.raises(RoomRefused) as refused:  # the 4th connection from 127.0.0.1
            await clients[3].join("room-0", "r0")
        assert refused.value.code == "address_limit"
        await clients[0].close()  # a slot frees up
        await asyncio.sleep(0.1)
        clients.append(await connect(server))
        assert (await clients[-1].join("room-0", "r0")).capacity == 4
    finally:
        for client in clients:
            await client.close()


async def test_a_full_server_says_so_not_that_your_address_did_too_much() -> None:
    srv = RendezvousServer("127.0.0.1", 0, limits=AddressLimits(max_connections=1))
    await srv.start()
    first = await connect(srv)
    try:
        await first.create("room-0", "r0", "small", 600)
        second = await connect(srv)
        with pytest.raises(RoomRefused) as refused:
            await second.join("room-0", "r0")
        assert refused.value.code == "server_full"
        assert "as many connections as it takes" in str(refused.value)
        assert "your" not in str(refused.value)
        await second.close()
    finally:
        await first.close()
        await srv.close()


async def test_rooms_per_address_are_limited(server: RendezvousServer) -> None:
    a, b, c = [await connect(server) for _ in range(3)]
    try:
        await a.create("room-1", "one", "small", 600)
        await b.create("room-2", "two", "small", 600)
        with pytest.raises(RoomRefused) as refused:
            await c.create("room-3", "three", "small", 600)
        assert refused.value.code == "address_limit"
    finally:
        for client in (a, b, c):
            await client.close()


async def test_nothing_is_forwarded_into_another_room(server: RendezvousServer) -> None:
    a1, b1 = await connect(server), await connect(server)
    try:
        await a1.create("room-a", "a", "small", 600)
        in_b = await b1.create("room-b", "b", "small", 600)
        await a1.relay(in_b.peer_id, "sneaky")  # a peer id from the other room
        reply = await asyncio.wait_for(a1.recv(), 2)
        assert isinstance(reply, protocol.Error) and reply.code == "not_joined"
        await a1.relay(None, "to my own room only")  # nobody else in room-a
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(b1.recv(), 0.5)
    finally:
        await a1.close()
        await b1.close()


async def test_a_host_apps_rendezvous_takes_new_rooms_only_from_its_own_computer() -> None:
    """The rendezvous inside a host's app took ``create`` from anyone who could reach it, so
    anyone on the network could fill it with rooms of their own (docs/security.md). Its app
    makes its rooms itself: from elsewhere only joins are taken. (Another computer is stood
    in for by a trusted proxy's X-Forwarded-For.)"""
    proxy = frozenset({"127.0.0.1"})
    srv = RendezvousServer("127.0.0.1", 0, trusted_proxies=proxy, own_rooms_only=True)
    await srv.start()
    session = aiohttp.ClientSession()
    url = f"ws://127.0.0.1:{srv.port}/ws"
    here = await connect(srv)

    async def from_elsewhere() -> SignalingClient:
        ws = await session.ws_connect(url, headers={"X-Forwarded-For": "192.0.2.7"})
        return SignalingClient(WsConnection(ws, url), reply_timeout=3.0)

    try:
        await here.create("room-a", "a", "small", 600)  # from this computer: as before
        guest = await from_elsewhere()
        joined = await guest.join("room-a", "a")  # others join
        assert joined.owner_token is None
        stranger = await from_elsewhere()
        with pytest.raises(RoomRefused) as refused:
            await stranger.create("room-b", "b", "small", 600)
        assert refused.value.code == "not_here"
        assert "holds only their own meetings" in str(refused.value)
        assert srv.rooms.get("room-b") is None
        for client in (guest, stranger):
            await client.close()
    finally:
        await here.close()
        await session.close()
        await srv.close()


def test_what_counts_as_this_computer() -> None:
    assert same_computer("127.0.0.1", "127.0.0.1") and same_computer("::1", "::1")
    assert same_computer("127.0.0.1", "192.168.1.20")  # (loopback reaches every address)
    assert same_computer("192.168.1.20", "192.168.1.20")
    assert same_computer("::ffff:192.168.1.20", "192.168.1.20")
    assert same_computer("fe80::1%eth0", "fe80::1%eth0")
    assert not same_computer("192.168.1.21", "192.168.1.20")
    assert not same_computer("", "192.168.1.20") and not same_computer("bad", "bad")
