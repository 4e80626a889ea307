"""A real rendezvous server on 127.0.0.1 (port 0) driven by real SignalingClients."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app.errors import RendezvousUnreachable, RoomRefused, StorageError
from app.meeting.host_remote import RemoteRooms
from app.meeting.store import MeetingRecord
from app.net import protocol
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import FRAME_LIMIT, WsConnection, WsServer, ws_connect

pytestmark = pytest.mark.timeout(10)

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


@pytest.fixture
async def make_server() -> AsyncIterator[MakeServer]:
    servers: list[RendezvousServer] = []

    async def make(**kwargs: Any) -> RendezvousServer:
        srv = RendezvousServer("127.0.0.1", 0, **kwargs)
        await srv.start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        await srv.close()


@pytest.fixture
async def server(make_server: MakeServer) -> RendezvousServer:
    return await make_server()


@pytest.fixture
async def connect(server: RendezvousServer) -> AsyncIterator[Connect]:
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


# --- joining and relaying --------------------------------------------------------------------


async def test_create_join_relay_and_presence(server: RendezvousServer, connect: Connect) -> None:
    alice, bob, carol = await connect(), await connect(), await connect()
    a = await alice.create("room-1", HINT, "small", 600)
    assert a.owner_token and a.peers == () and a.capacity == 4
    b = await bob.join("room-1", HINT)
    assert b.owner_token is None and b.peers == (a.peer_id,) and b.expires_at == a.expires_at
    assert (await expect(alice, protocol.PeerJoined)).peer_id == b.peer_id
    c = await carol.join("room-1", HINT)
    assert set(c.peers) == {a.peer_id, b.peer_id}
    await expect(alice, protocol.PeerJoined)
    await expect(bob, protocol.PeerJoined)
    assert server.room_count == 1

    await alice.relay(b.peer_id, "only-for-bob")
    assert await expect(bob, protocol.Relayed) == protocol.Relayed(a.peer_id, "only-for-bob")
    await alice.relay(None, "for-everyone")
    for client in (bob, carol):
        assert await expect(client, protocol.Relayed) == protocol.Relayed(a.peer_id, "for-everyone")
    # carol got nothing addressed to bob: her next message is the broadcast, checked above

    await bob.close()
    for client in (alice, carol):
        assert (await expect(client, protocol.PeerLeft)).peer_id == b.peer_id
    await alice.relay(b.peer_id, "too-late")
    assert (await expect(alice, protocol.Error)).code == "not_joined"


async def test_on_relay_sees_exact_blob(server: RendezvousServer, connect: Connect) -> None:
    seen: list[tuple[str, str]] = []
    server.on_relay = lambda room, blob: seen.append((room, blob))
    alice, bob = await connect(), await connect()
    await alice.create("room-1", HINT, "small", 600)
    await bob.join("room-1", HINT)
    await expect(alice, protocol.PeerJoined)
    blob = "AAEC_-x" * 500
    await bob.relay(None, blob)
    assert (await expect(alice, protocol.Relayed)).blob == blob
    assert seen == [("room-1", blob)]


async def test_room_full(connect: Connect) -> None:
    owner = await connect()
    await owner.create("room-1", HINT, "small", 600)
    for _ in range(3):
        await (await connect()).join("room-1", HINT)
    late = await connect()
    with pytest.raises(RoomRefused) as info:
        await late.join("room-1", HINT)
    assert info.value.code == "room_full"


async def test_no_such_room_versus_wrong_secret(connect: Connect) -> None:
    owner, guest = await connect(), await connect()
    await owner.create("room-1", HINT, "small", 600)
    with pytest.raises(RoomRefused) as info:
        await guest.join("room-2", HINT)
    assert info.value.code == "wrong_secret"
    with pytest.raises(RoomRefused) as info:
        await guest.join("room-2", "Red Owl")
    assert info.value.code == "no_such_room"
    joined = await guest.join("room-1", HINT)  # refusals leave the connection usable
    assert joined.peers != ()


async def test_room_expires_on_injected_clock(make_server: MakeServer, connect: Connect) -> None:
    clock = FakeClock()
    srv = await make_server(clock=clock, sweep_interval=0.02)
    owner, guest = await connect(srv), await connect(srv)
    joined = await owner.create("room-1", HINT, "small", 600)
    assert joined.expires_at == clock.now + 600
    await guest.join("room-1", HINT)
    await expect(owner, protocol.PeerJoined)
    clock.now += 601
    for client in (owner, guest):
        assert await expect(client, protocol.RoomEnded) == protocol.RoomEnded("expired")
        assert await next_msg(client) is None
    assert srv.room_count == 0
    with pytest.raises(RoomRefused) as info:
        await (await connect(srv)).join("room-1", HINT)
    assert info.value.code == "room_expired"


async def test_end_by_owner_kicks_everyone(server: RendezvousServer, connect: Connect) -> None:
    owner, guest = await connect(), await connect()
    token = (await owner.create("room-1", HINT, "small", 600)).owner_token
    assert token is not None
    await guest.join("room-1", HINT)
    await expect(owner, protocol.PeerJoined)
    await guest.end("guessed-token")
    assert (await expect(guest, protocol.Error)).code == "not_owner"
    await guest.end(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert (await expect(guest, protocol.Error)).code == "not_owner"
    assert server.room_count == 1
    await owner.end(token)
    for client in (owner, guest):
        assert await expect(client, protocol.RoomEnded) == protocol.RoomEnded("ended")
        assert await next_msg(client) is None
    assert server.room_count == 0
    with pytest.raises(RoomRefused) as info:
        await (await connect()).join("room-1", HINT)
    assert info.value.code == "room_ended"


async def test_extend_is_broadcast(connect: Connect) -> None:
    owner, guest = await connect(), await connect()
    joined = await owner.create("room-1", HINT, "small", 600)
    assert joined.owner_token is not None
    await guest.join("room-1", HINT)
    await expect(owner, protocol.PeerJoined)
    await owner.extend(joined.owner_token, 300)
    for client in (owner, guest):
        ext = await expect(client, protocol.Extended)
        assert ext.expires_at == pytest.approx(joined.expires_at + 300)
    await guest.extend("nope", 300)
    assert (await expect(guest, protocol.Error)).code == "not_owner"


async def test_the_owner_ends_and_extends_a_full_room_from_outside(
    server: RendezvousServer, connect: Connect
) -> None:
    owner = await connect()
    joined = await owner.create("room-1", HINT, "small", 600)
    token = joined.owner_token
    assert token is not None
    members = [owner] + [await connect() for _ in range(3)]
    for member in members[1:]:
        await member.join("room-1", HINT)  # the room is full: 4 of 4
    with pytest.raises(RoomRefused) as info:
        await (await connect()).manage("room-1", "not-the-token")
    assert info.value.code == "not_owner"
    outside = await connect()
    extended = await outside.manage("room-1", token, 300)
    assert extended == protocol.Extended(pytest.approx(joined.expires_at + 300))
    assert await next_msg(outside) is None  # the server hangs up after answering
    for member in members:
        while isinstance(msg := await next_msg(member), protocol.PeerJoined):
            pass  # the others arriving
        assert msg == extended
    ended = await (await connect()).manage("room-1", token)
    assert ended == protocol.RoomEnded("ended")
    for member in members:
        assert await expect(member, protocol.RoomEnded) == protocol.RoomEnded("ended")
    assert server.room_count == 0
    with pytest.raises(RoomRefused) as info:
        await (await connect()).manage("room-1", token, 300)
    assert info.value.code == "room_ended"


async def test_a_refused_manage_hangs_up(server: RendezvousServer, connect: Connect) -> None:
    """One try per connection: owner tokens (and room ids) cannot be guessed at speed."""
    owner = await connect()
    token = (await owner.create("room-1", HINT, "small", 600)).owner_token
    assert token is not None
    guesser = await connect()
    with pytest.raises(RoomRefused) as info:
        await guesser.manage("room-1", "guess-1")
    assert info.value.code == "not_owner"
    assert await next_msg(guesser) is None  # closed: no second guess on this connection
    for bad in (
        protocol.Manage("room-1", token, "extend", 0),
        protocol.Manage("room-1", token, "x", 1),
    ):
        client = await connect()
        with pytest.raises(RoomRefused) as info:
            await client._answer(bad, (protocol.Extended,))
        assert info.value.code == "bad_request"
    assert server.room_count == 1


async def test_manage_is_refused_from_inside_a_room(connect: Connect) -> None:
    owner = await connect()
    token = (await owner.create("room-1", HINT, "small", 600)).owner_token
    assert token is not None
    with pytest.raises(RoomRefused) as info:
        await owner.manage("room-1", token, 300)  # members use end/extend
    assert info.value.code == "bad_request"


async def test_create_refusal_is_room_refused(connect: Connect) -> None:
    owner, other = await connect(), await connect()
    await owner.create("room-1", HINT, "small", 600)
    with pytest.raises(RoomRefused) as info:
        await other.create("room-1", HINT, "small", 600)
    assert info.value.code == "room_exists"
    with pytest.raises(RoomRefused) as info:
        await other.create("room-2", HINT, "gigantic", 600)
    assert info.value.code == "bad_request"
    assert "version" not in str(info.value) and "size must be one of" in str(info.value)


async def test_too_many_rooms(make_server: MakeServer, connect: Connect) -> None:
    srv = await make_server(max_rooms=1)
    await (await connect(srv)).create("room-1", HINT, "small", 600)
    with pytest.raises(RoomRefused) as info:
        await (await connect(srv)).create("room-2", "Other", "small", 600)
    assert info.value.code == "too_many_rooms"


# --- limits ------------------------------------------------------------------------------------


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


# --- client robustness, ops endpoints, shutdown ----------------------------------------------


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
