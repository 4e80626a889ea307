"""A real rendezvous server on 127.0.0.1 (port 0) driven by real SignalingClients: rooms made,
joined and relayed in (presence, exact blobs), full, wrong secrets, expiry, ended and extended
by the owner (also from outside), manage refused, and create refused.
"""

from __future__ import annotations

import pytest

from app.errors import RoomRefused
from app.net import protocol
from app.net.rendezvous import RendezvousServer
from tests.integration.rendezvous_fixtures import (
    HINT,
    Connect,
    FakeClock,
    MakeServer,
    connect_fixture,  # noqa: F401  (the "connect" fixture)
    expect,
    make_server_fixture,  # noqa: F401  (the "make_server" fixture)
    next_msg,
    server_fixture,  # noqa: F401  (the "server" fixture)
)

pytestmark = pytest.mark.timeout(10)


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
