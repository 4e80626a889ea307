"""A real rendezvous server on 127.0.0.1 (port 0) and clients that misuse it: oversize messages
and giant frames, floods, idle connections (and keep-alives), joins that never come, junk
beside a live room, relays before a join, and slow readers dropped without holding up others.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from app.net import protocol
from app.net.rendezvous import RendezvousServer
from app.net.wsio import FRAME_LIMIT, ws_connect
from tests.integration.rendezvous_fixtures import (
    HINT,
    Connect,
    MakeServer,
    connect_fixture,  # noqa: F401  (the "connect" fixture)
    expect,
    expect_error_then_close,
    make_server_fixture,  # noqa: F401  (the "make_server" fixture)
    next_msg,
    raw_error_then_close,
    server_fixture,  # noqa: F401  (the "server" fixture)
    url,
)

pytestmark = pytest.mark.timeout(10)


async def test_oversize_message_gets_too_large(make_server: MakeServer, connect: Connect) -> None:
    srv = await make_server(max_message_bytes=2000)
    client = await connect(srv)
    await client.create("room-1", HINT, "small", 600)
    await client.relay(None, "x" * 3000)
    await expect_error_then_close(client, "too_large")
    assert srv.room_count == 1  # the room survives its member leaving


async def test_giant_frame_is_cut_off(server: RendezvousServer, connect: Connect) -> None:
    conn = await ws_connect(url(server.port), 2.0)
    try:
        await conn.send_text("x" * (FRAME_LIMIT + 10))
        # aiohttp closes with 1009 before we can answer; no Error message is possible here
        assert await conn.recv_text(2.0) is None
    finally:
        await conn.close()
    client = await connect()
    assert (await client.create("room-1", HINT, "small", 600)).peers == ()


async def test_rate_limit(make_server: MakeServer, connect: Connect) -> None:
    srv = await make_server(rate=(1.0, 5.0))
    client = await connect(srv)
    await client.create("room-1", HINT, "small", 600)
    for _ in range(10):
        await client.relay(None, "spam")
    await expect_error_then_close(client, "rate_limited")


async def test_idle_timeout(make_server: MakeServer, connect: Connect) -> None:
    srv = await make_server(idle_timeout=0.2)
    client = await connect(srv, keepalive_s=60.0)
    await client.create("room-1", HINT, "small", 600)
    started = time.monotonic()
    await expect_error_then_close(client, "idle")
    assert 0.15 < time.monotonic() - started < 1.5


async def test_keepalive_prevents_idle_timeout(make_server: MakeServer, connect: Connect) -> None:
    srv = await make_server(idle_timeout=0.3)
    quiet, chatty = await connect(srv, keepalive_s=0.05), await connect(srv, keepalive_s=0.05)
    await quiet.create("room-1", HINT, "small", 600)
    await chatty.join("room-1", HINT)
    await expect(quiet, protocol.PeerJoined)
    await asyncio.sleep(0.8)
    await chatty.relay(None, "still here")
    assert (await expect(quiet, protocol.Relayed)).blob == "still here"  # pongs were swallowed


async def test_join_timeout(make_server: MakeServer) -> None:
    srv = await make_server(join_timeout=0.2)
    conn = await ws_connect(url(srv.port), 2.0)
    try:
        await conn.send_text(protocol.Ping().encode())
        assert protocol.decode("rv", await conn.recv_text(1.0) or "") == protocol.Pong()
        await raw_error_then_close(conn, "idle")
    finally:
        await conn.close()


async def test_junk_never_breaks_a_live_room(server: RendezvousServer, connect: Connect) -> None:
    alice, bob = await connect(), await connect()
    await alice.create("room-1", HINT, "small", 600)
    b = await bob.join("room-1", HINT)
    await expect(alice, protocol.PeerJoined)
    junk: list[str | bytes] = [
        "not json at all",
        "[1, 2, 3]",
        '{"v": 1, "type": "teleport"}',
        '{"v": 99, "type": "ping"}',
        '{"v": 1, "type": "join", "room": 5, "hint": "x"}',
        '{"v": 1, "type": "join", "room": "r", "extra": true}',  # (no hint)
        protocol.Joined("p", (), 4, 0.0, None).encode(),  # server-to-client type
        b"\x00\x01binary",
    ]
    for item in junk:
        conn = await ws_connect(url(server.port), 2.0)
        try:
            if isinstance(item, bytes):
                await conn._ws.send_bytes(item)  # the adapter offers no binary send, on purpose
            else:
                await conn.send_text(item)
            await raw_error_then_close(conn, "bad_message")
        finally:
            await conn.close()
    await bob.relay(None, "still works")
    assert await expect(alice, protocol.Relayed) == protocol.Relayed(b.peer_id, "still works")
    assert server.room_count == 1


async def test_relay_before_join_is_refused(connect: Connect) -> None:
    client = await connect()
    await client.relay(None, "blob")
    assert (await expect(client, protocol.Error)).code == "not_joined"


async def test_slow_reader_is_dropped_without_blocking_others(
    make_server: MakeServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    """A client that never reads is dropped once a send to it stalls for ``send_timeout``
    (blobs past its queue's share are dropped meanwhile, not it: a member's burst of blobs
    must not throw another out, tests/integration/test_hostile_peer.py); the others get
    every blob without waiting for it, and are told it left."""
    srv = await make_server(queue_size=4, send_timeout=1.5, rate=(1e6, 1e6))  # (not waited for)
    sender, fast = await connect(srv), await connect(srv)
    await sender.create("room-1", HINT, "large", 600)
    await fast.join("room-1", HINT)
    before = open_files()
    slow = await connect(srv)  # joins, then never reads
    assert open_files() == before + 2  # its end and the server's
    s = await slow.join("room-1", HINT)
    await expect(sender, protocol.PeerJoined)
    await expect(sender, protocol.PeerJoined)
    await expect(fast, protocol.PeerJoined)
    blob = "b" * 60_000
    started = time.monotonic()
    fast_saw: list[protocol.Message | None] = []
    for _ in range(120):  # ~7 MB: more than loopback buffers plus a 4-message queue
        await sender.relay(None, blob)
        fast_saw.append(await next_msg(fast))
    assert time.monotonic() - started < 1.5  # (never waited for the slow one)
    assert all(isinstance(msg, protocol.Relayed) and msg.blob == blob for msg in fast_saw)
    assert "blob(s) for 127.0.0.1: too many at once" in caplog.text
    assert (await expect(fast, protocol.PeerLeft)).peer_id == s.peer_id  # (within 2 s)
    assert (await expect(sender, protocol.PeerLeft)).peer_id == s.peer_id
    for _ in range(40):  # the server's end is closed, unsent data and all (ours stays open)
        if open_files() == before + 1:
            break
        await asyncio.sleep(0.05)
    assert open_files() == before + 1, "the dropped client's socket is still open"


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))
