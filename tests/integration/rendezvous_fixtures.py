"""What the rendezvous tests (test_rendezvous_rooms, test_rendezvous_misuse and
test_rendezvous_service) share: a real rendezvous server on 127.0.0.1 (port 0) and real
SignalingClients to drive it, as the fixtures "make_server", "server" and "connect"; a fake
clock, a room hint, and helpers to read what a client is sent. A test file imports all three
fixtures (``connect`` uses ``server``, which uses ``make_server``) by their functions' names
(``server_fixture``): a test's argument "server" would redefine the name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app.net import protocol
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import WsConnection

HINT = "Blue Fox"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws"


MakeServer = Callable[..., Awaitable[RendezvousServer]]
Connect = Callable[..., Awaitable[SignalingClient]]


@pytest.fixture(name="make_server")
async def make_server_fixture() -> AsyncIterator[MakeServer]:
    servers: list[RendezvousServer] = []

    async def make(**kwargs: Any) -> RendezvousServer:
        srv = RendezvousServer("127.0.0.1", 0, **kwargs)
        await srv.start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        await srv.close()


@pytest.fixture(name="server")
async def server_fixture(make_server: MakeServer) -> RendezvousServer:
    return await make_server()


@pytest.fixture(name="connect")
async def connect_fixture(server: RendezvousServer) -> AsyncIterator[Connect]:
    clients: list[SignalingClient] = []

    async def make(srv: RendezvousServer | None = None, **kwargs: Any) -> SignalingClient:
        client = await SignalingClient.connect(url((srv or server).port), 2.0, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def next_msg(client: SignalingClient) -> protocol.Message | None:
    async with asyncio.timeout(2.0):
        return await client.recv()


async def expect(client: SignalingClient, kind: type[protocol.Message]) -> Any:
    msg = await next_msg(client)
    assert isinstance(msg, kind), f"expected {kind.__name__}, got {msg!r}"
    return msg


async def expect_error_then_close(client: SignalingClient, code: str) -> None:
    err = await expect(client, protocol.Error)
    assert err.code == code
    assert await next_msg(client) is None


async def raw_error_then_close(conn: WsConnection, code: str) -> None:
    text = await conn.recv_text(2.0)
    assert text is not None
    err = protocol.decode("rv", text)
    assert isinstance(err, protocol.Error)
    assert err.code == code
    assert await conn.recv_text(2.0) is None
