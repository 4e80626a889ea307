"""A bounded random abuser against a real rendezvous on loopback, while a real room talks.

Abusers connect from 127.0.0.2 … 127.0.0.31 (all loopback on Linux) with a hand-made websocket
client, so they can send what no library would: unmasked or reserved frames, invalid UTF-8,
lies about frame length, half an HTTP request, floods, server-only messages. The legitimate
room (two SignalingClients from 127.0.0.1) must keep relaying every message, the server must
stay up, and afterwards its state must shrink back to the legitimate room alone.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import os
import random
import struct
from collections.abc import Awaitable, Callable

import aiohttp
import pytest

from app.net import protocol
from app.net.limits import AddressLimits
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient

pytestmark = pytest.mark.timeout(90)
SEED, ACTIONS, CONCURRENCY = 20240607, 360, 24
Action = Callable[[int, int, random.Random], Awaitable[None]]


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", size)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    keystream = (key * (size // 4 + 1))[:size]  # XOR as one big integer: a 60 kB frame would
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(keystream, "big")  # otherwise stall
    return head + key + masked.to_bytes(size, "big")  # the loop the legitimate room runs on


async def raw_ws(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .encode()
    )  # fmt: skip
    await writer.drain()
    async with asyncio.timeout(3):
        await reader.readuntil(b"\r\n\r\n")
    return reader, writer


def text(obj: object) -> bytes:
    return frame(0x1, json.dumps(obj).encode())


JUNK: list[bytes] = [
    frame(0x1, b"\xff\xfe\xfd not utf-8"),
    frame(0x2, b"\x00binary"),
    frame(0x3, b"reserved opcode"),
    frame(0x1, b"{}", mask=False),
    frame(0x0, b"continuation without start"),
    frame(0x1, b'{"v":1,"type":"jo', fin=False),
    frame(0x9, b"p" * 200),  # control frame too long
    frame(0x1, b"[1,2,3]"),
    text({"v": 2, "type": "ping"}),
    text({"v": 1, "type": "teleport"}),
    text({"v": 1, "type": "join", "room": 5, "hint": None}),
    text(
        {
            "v": 1,
            "type": "joined",
            "peer_id": "x",
            "peers": [],
            "capacity": 4,
            "expires_at": 0,
            "owner_token": None,
        }
    ),
    text({"v": 1, "type": "relay", "to": "anyone", "blob": "eA"}),
    text({"v": 1, "type": "end", "owner_token": "guess"}),
    text({"v": 1, "type": "join", "room": "x" * 5000, "hint": "h"}),
    bytes([0x81, 0xFF]) + struct.pack(">Q", 1 << 40) + b"\x00\x00\x00\x00tiny",  # lies
]


async def _junk(port: int, src: int, rng: random.Random) -> None:
    reader, writer = await raw_ws(port, f"127.0.0.{src}")
    for _ in range(rng.randint(1, 3)):
        writer.write(rng.choice(JUNK))
    await writer.drain()
    with contextlib.suppress(TimeoutError, ConnectionError, asyncio.IncompleteReadError):
        async with asyncio.timeout(2):
            await reader.read(65536)  # the server answers an error and closes
    writer.close()


async def _flood(port: int, src: int, rng: random.Random) -> None:
    _reader, writer = await raw_ws(port, f"127.0.0.{src}")
    ping = text({"v": 1, "type": "ping"})
    with contextlib.suppress(ConnectionError):
        for _ in range(rng.randint(300, 600)):
            writer.write(ping)
        await writer.drain()
    writer.close()


async def _squat(port: int, src: int, rng: random.Random) -> None:
    """Create rooms (up to the per-address limit) with self-chosen ids, relay, leave abruptly."""
    _reader, writer = await raw_ws(port, f"127.0.0.{src}")
    room = f"squat{rng.randrange(10**9)}"
    writer.write(text({"v": 1, "type": "create", "room": room, "hint": "squat", "size": "large",
                       "lifetime_s": 120}))  # fmt: skip
    for _ in range(rng.randint(0, 30)):
        writer.write(text({"v": 1, "type": "relay", "to": None, "blob": "x" * 4000}))
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.transport.abort()  # RST, no close handshake


async def _half_open(port: int, src: int, rng: random.Random) -> None:
    """TCP with nothing, half an HTTP request, or a websocket that never says anything."""
    kind = rng.randrange(3)
    if kind == 2:
        reader, writer = await raw_ws(port, f"127.0.0.{src}")
    else:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(f"127.0.0.{src}", 0)
        )
        if kind == 1:
            writer.write(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: webs")
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(3.5):  # longer than the server's handshake and join limits
            closed = await reader.read(65536) == b"" or await reader.read(65536) == b""
            assert closed or kind == 2
    writer.transport.abort()


async def _slow_reader(port: int, src: int, rng: random.Random) -> None:
    """Two members of an own room: one floods the other, who never reads."""
    room = f"slow{rng.randrange(10**9)}"
    _a_reader, a = await raw_ws(port, f"127.0.0.{src}")
    a.write(text({"v": 1, "type": "create", "room": room, "hint": "slow", "size": "small",
                  "lifetime_s": 120}))  # fmt: skip
    await a.drain()
    await asyncio.sleep(0.1)
    _b_reader, b = await raw_ws(port, f"127.0.0.{src}")
    b.write(text({"v": 1, "type": "join", "room": room, "hint": "slow"}))
    relay = text({"v": 1, "type": "relay", "to": None, "blob": "y" * 60_000})
    with contextlib.suppress(ConnectionError):
        for _ in range(150):
            b.write(relay)
            await b.drain()
    await asyncio.sleep(0.5)
    a.transport.abort()
    b.transport.abort()


ABUSE: list[Action] = [_junk, _junk, _junk, _flood, _squat, _half_open, _slow_reader]


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def test_fuzz_abuse_never_breaks_a_live_room() -> None:
    limits = AddressLimits(per_ip_connections=8, per_ip_rooms=3, connect_rate=(20.0, 40.0))
    server = RendezvousServer(
        "127.0.0.1", 0, join_timeout=1.0, idle_timeout=2.5, handshake_timeout=1.5,
        rate=(50.0, 100.0), queue_size=64, queue_bytes=200_000, send_timeout=1.0, limits=limits,
    )  # fmt: skip
    port = await server.start()
    url = f"ws://127.0.0.1:{port}/ws"
    alice = await SignalingClient.connect(url, 3.0, keepalive_s=0.5)
    bob = await SignalingClient.connect(url, 3.0, keepalive_s=0.5)
    tasks_before = len(asyncio.all_tasks())
    abuse: asyncio.Future[list[None]] | None = None
    try:
        joined = await alice.create("legit-room-id", "legit", "small", 600)
        assert (await bob.join("legit-room-id", "legit")).peers == (joined.peer_id,)
        assert isinstance(await asyncio.wait_for(alice.recv(), 2), protocol.PeerJoined)
        rss_start = rss_mb()
        rng = random.Random(SEED)
        gate = asyncio.Semaphore(CONCURRENCY)
        failures: list[BaseException] = []
        outcomes: dict[str, int] = {}

        async def one(i: int) -> None:
            async with gate:
                action = rng.choice(ABUSE)
                outcome = "done"
                try:
                    await action(port, 2 + i % 30, random.Random(rng.random()))
                except (ConnectionError, TimeoutError, asyncio.IncompleteReadError, OSError):
                    outcome = "cut off"  # refused or dropped by the server: that is its job
                except BaseException as exc:
                    failures.append(exc)
                key = f"{action.__name__} {outcome}"
                outcomes[key] = outcomes.get(key, 0) + 1

        async def talk() -> int:
            """The legitimate room: alice -> bob every 40 ms; count what arrives."""
            got = 0
            for n in range(150):
                await alice.relay(None, f"blob{n}")
                msg = await asyncio.wait_for(bob.recv(), 3)
                assert isinstance(msg, protocol.Relayed) and msg.blob == f"blob{n}", msg
                got += 1
                await asyncio.sleep(0.04)
            return got

        abuse = asyncio.gather(*(one(i) for i in range(ACTIONS)))
        delivered = await talk()
        await asyncio.wait_for(abuse, 60)
        assert not failures, failures[:3]
        for action in {a.__name__ for a in ABUSE}:  # each kind of abuse really ran
            assert outcomes.get(f"{action} done", 0) >= 5, outcomes
        assert delivered == 150

        # the server is up and answers; new legitimate members still get in
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as r,
        ):
            assert r.status == 200
        carol = await SignalingClient.connect(url, 3.0)
        assert len((await carol.join("legit-room-id", "legit")).peers) == 2
        await carol.close()

        # and every trace of the abuse is gone again (timeouts ran out, sockets closed)
        for _ in range(50):
            if limits.connections == 2 and len(server._sessions) == 2:
                break
            await asyncio.sleep(0.1)
        assert limits.connections == 2, limits.tracked()
        assert len(server._sessions) == 2
        assert limits.tracked()[0] == 1  # only 127.0.0.1 still has connections
        assert len(server._ws._conns) == 2
        assert len(server.rooms) <= 1 + 30 * 3  # per-address room limit held
        gc.collect()
        assert rss_mb() - rss_start < 80, f"RSS grew {rss_mb() - rss_start:.0f} MB"
        assert len(asyncio.all_tasks()) <= tasks_before + 2
    finally:
        if abuse is not None and not abuse.done():  # the room broke: stop the abusers too
            abuse.cancel()
            await asyncio.gather(abuse, return_exceptions=True)
        await alice.close()
        await bob.close()
        await server.close()
