"""A real rendezvous server on 127.0.0.1 as a service, and the client's side of reaching one:
malformed server messages skipped, the index and health endpoints, closing that leaves no
tasks, unreachable and silent hosts reported in time, a state file that cannot be written, and
a close cut short.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import time
from typing import Any

import pytest

from app.errors import RendezvousUnreachable, StorageError
from app.meeting.host_remote import RemoteRooms
from app.meeting.store import MeetingRecord
from app.net import protocol
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import WsConnection, WsServer
from tests.integration.rendezvous_fixtures import (
    HINT,
    Connect,
    connect_fixture,  # noqa: F401  (the "connect" fixture)
    expect,
    make_server_fixture,  # noqa: F401  (the "make_server" fixture)
    next_msg,
    server_fixture,  # noqa: F401  (the "server" fixture)
    url,
)

pytestmark = pytest.mark.timeout(10)


async def test_client_skips_malformed_server_messages() -> None:
    async def evil(conn: WsConnection) -> None:
        await conn.recv_text(2.0)  # the client's Join
        await conn.send_text("garbage{")
        await conn.send_text('{"v": 1, "type": "nonsense"}')
        await conn._ws.send_bytes(b"\xff")
        await conn.send_text(protocol.Pong().encode())
        await conn.send_text(protocol.Joined("me", ("you",), 4, 1.0, None).encode())
        await conn.send_text(protocol.PeerJoined("them").encode())
        await conn.recv_text(2.0)

    ws = WsServer(evil, "127.0.0.1", 0)
    port = await ws.start()
    client = await SignalingClient.connect(url(port), 2.0)
    try:
        assert (await client.join("room-1", HINT)).peers == ("you",)
        assert await next_msg(client) == protocol.PeerJoined("them")
    finally:
        await client.close()
        await ws.close()
    assert client.closed


async def test_index_and_healthz(server: RendezvousServer, connect: Connect) -> None:
    await (await connect()).create("room-1", HINT, "small", 600)

    async def get(path: str) -> tuple[str, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        raw = (await reader.read()).decode()
        writer.close()
        await writer.wait_closed()
        head, _, body = raw.partition("\r\n\r\n")
        return head.split("\r\n")[0], body

    status, body = await get("/")
    assert " 200 " in status and "PeerMeet rendezvous" in body
    status, body = await get("/healthz")
    assert " 200 " in status and json.loads(body)["rooms"] == 1


async def test_close_leaves_no_tasks() -> None:
    before = asyncio.all_tasks()
    srv = RendezvousServer("127.0.0.1", 0)
    port = await srv.start()
    alice = await SignalingClient.connect(url(port), 2.0)
    bob = await SignalingClient.connect(url(port), 2.0)
    await alice.create("room-1", HINT, "small", 600)
    await bob.join("room-1", HINT)
    await expect(alice, protocol.PeerJoined)
    started = time.monotonic()
    await srv.close()
    await srv.close()  # idempotent
    assert time.monotonic() - started < 1.0  # live connections closed, not waited out
    assert await next_msg(alice) is None
    assert await next_msg(bob) is None
    await alice.close()
    await bob.close()
    await alice.close()
    await asyncio.sleep(0)
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert leftover == set(), [t.get_name() for t in leftover]
    with pytest.raises(RendezvousUnreachable):
        await SignalingClient.connect(url(port), 1.0)


async def test_unreachable_closed_port_is_reported_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends
    started = time.monotonic()
    with pytest.raises(RendezvousUnreachable) as info:
        await SignalingClient.connect(url(port), 1.0)
    assert time.monotonic() - started < 1.0
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "connection refused" in str(info.value)


async def test_unreachable_silent_host_times_out() -> None:
    hung_up = asyncio.Event()

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answer; returns once the client gives up and hangs up
        writer.close()
        hung_up.set()

    tcp = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(RendezvousUnreachable, match="no answer in time"):
            await SignalingClient.connect(url(port), 0.3)
        assert time.monotonic() - started < 1.0
        async with asyncio.timeout(1.0):
            await hung_up.wait()  # the abandoned attempt did not leak its socket
    finally:
        tcp.close()
        await tcp.wait_closed()


async def _slow_then_mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that takes the websocket a second late, then says nothing."""
    request = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in request.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1(key + WS_GUID).digest())
    await asyncio.sleep(1.0)
    writer.write(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
    )
    await reader.read()  # then silence, until the client hangs up
    writer.close()


async def test_a_host_that_takes_the_connection_but_never_answers_is_reported_in_time() -> None:
    """Its upgrade comes late, then nothing: connecting and the answer to join share one
    budget (they took twice the time, one after the other: 14 s for the CLI's 7 s)."""
    tcp = await asyncio.start_server(_slow_then_mute, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    try:
        started = time.monotonic()
        client = await SignalingClient.connect(url(port), 2.5)
        with pytest.raises(RendezvousUnreachable, match=r"did not answer within 2\.5 s"):
            await client.join("room-1", HINT)
        assert time.monotonic() - started < 3.2  # (one after the other: 3.5 s)
        await client.close()
    finally:
        tcp.close()
        await tcp.wait_closed()


WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


async def test_a_state_file_that_cannot_be_written_stops_the_start(tmp_path: Any) -> None:
    """Said at start, not as a warning every sweep once the first room is made."""
    (tmp_path / "file").write_text("")
    srv = RendezvousServer(port=0, state_path=tmp_path / "file" / "rooms.json")
    with pytest.raises(StorageError, match="Cannot write the room state file"):
        await srv.start()
    await srv.close()


async def test_my_meetings_are_told_a_silent_server_is_the_rendezvous_server() -> None:
    """Extend or End of a meeting on an outside rendezvous that takes the connection and says
    nothing: the host read "The meeting host took the connection …", about their own app."""
    tcp = await asyncio.start_server(_slow_then_mute, "127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    link = f"peermeet://127.0.0.1:{port}/team-sync#k=AAAAAAAAAAAAAAAAAAAAAA"
    record = MeetingRecord(link, "Team sync", "team-sync", "small", 0.0, 0.0, f"127.0.0.1:{port}")
    try:
        rooms = RemoteRooms(SignalingClient.connect, 2.5)
        with pytest.raises(RendezvousUnreachable) as said:
            await rooms.extend(record, 3600)
        assert str(said.value).startswith("The rendezvous server took the connection"), said
        assert "meeting host" not in str(said.value)
    finally:
        tcp.close()
        await tcp.wait_closed()


async def test_a_close_cut_short_still_closes_the_socket_and_passes_the_cancellation_on(
    server: RendezvousServer, connect: Connect
) -> None:
    """A call left as it closes a connection (its rejoin closes the old one first): the
    cancellation is not swallowed (the rejoin went on trying, and the leave waited for it), and
    the socket is closed all the same (a second close() does nothing)."""
    owner, other = await connect(), await connect()
    await owner.create("r" * 43, "team", "small", 600)
    await other.join("r" * 43, "team")
    await expect(owner, protocol.PeerJoined)
    closing = asyncio.ensure_future(other.close())
    await asyncio.sleep(0)  # it waits for its keepalive to stop
    closing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await closing
    left = await expect(owner, protocol.PeerLeft)  # its socket closed: it left the room
    assert left.peer_id != ""
