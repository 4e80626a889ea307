"""The guest's side of the committed host nonce, and mixed versions, on a real rendezvous on
127.0.0.1: a nonce that is not the committed one is refused before any code is shown; old guests
and old hosts say to update; the host's decision time is capped."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from app.errors import HostKeyChanged, RoomRefused, refusal
from app.net import knockdesk, protocol, rendezvous
from app.net.knock import GuestKey, HostIdentity
from app.net.knockdesk import KnockDecision, KnockDesk, KnockRequest
from app.net.knocker import MAX_DECIDE_S, OLD_HOST, knock
from app.net.lanroom import FoundRoom, LanRoom
from app.net.rendezvous import RendezvousServer
from app.net.seal import b64e
from app.net.wsio import ws_connect

pytestmark = pytest.mark.timeout(30)
ROOM = "commit-test"


class Host:
    def __init__(self, server: RendezvousServer, port: int) -> None:
        self.server, self.port = server, port
        self.identity = HostIdentity.generate()
        self.asked: list[KnockRequest] = []

    def desk(self, **kwargs: float) -> KnockDesk:
        async def deny(request: KnockRequest) -> KnockDecision:
            self.asked.append(request)
            return KnockDecision(False)

        self.server.knocks = KnockDesk(self.identity.public, deny, **kwargs)
        return self.server.knocks

    def found(self) -> FoundRoom:
        expiry, fp = int(time.time()) + 600, self.identity.fingerprint
        info = LanRoom(ROOM, "Alice", "small", 1, 4, expiry, fp)
        return FoundRoom("x", info, ("127.0.0.1",), self.port)


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    server = RendezvousServer("127.0.0.1", 0)
    port = await server.start()
    yield Host(server, port)
    await server.close()


async def test_a_nonce_other_than_the_committed_one_is_refused(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host (or someone in between) revealing another nonce than it committed to: the guest
    shows no code and says the answer could not be verified."""
    monkeypatch.setattr(knockdesk, "nonce_commitment", lambda nonce: bytes(32))
    host.desk()
    codes: list[tuple[str, int]] = []
    with pytest.raises(HostKeyChanged, match="not the one it committed to"):
        await knock(host.found(), "Bob", lambda c, t: codes.append((c, t)))
    assert not codes


async def test_the_host_decision_time_a_guest_waits_for_is_capped(host: Host) -> None:
    host.desk(timeout=86_400.0)  # a host (or an impostor) asking guests to wait a day
    codes: list[tuple[str, int]] = []
    with pytest.raises(RoomRefused, match="did not let you in"):
        await knock(host.found(), "Bob", lambda c, t: codes.append((c, t)))
    (request,) = host.asked
    assert codes == [(request.code, MAX_DECIDE_S)] and MAX_DECIDE_S == 120


async def test_an_old_guest_is_told_to_update(host: Host) -> None:
    """What a guest from before knock2 sends, and what it makes of the answer (its code is not
    in its refusal texts, so it shows the message)."""
    desk = host.desk()
    conn = await ws_connect(f"ws://127.0.0.1:{host.port}/ws", 2.0)
    try:
        await conn.send_text(
            json.dumps({"v": 1, "type": "knock", "hint": ROOM, "name": "Old", "commit": "eA"})
        )
        answer = protocol.decode("rv", await conn.recv_text(2.0) or "")
        assert await conn.recv_text(2.0) is None  # and the connection is closed
    finally:
        await conn.close()
    assert isinstance(answer, protocol.Error) and answer.code == "knock_outdated"
    shown = str(refusal("some_unknown_code", answer.message[:200]))  # an old guest's words
    assert "Update PeerMeet to knock on this room" in shown
    assert not host.asked and desk.failures == 0


async def test_a_new_guest_on_an_old_host_is_told_to_update(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host from before knock2 does not know the message and answers ``bad_message``."""
    old = tuple(kind for kind in rendezvous._TO_SERVER if kind is not protocol.Knock)
    monkeypatch.setattr(rendezvous, "_TO_SERVER", old)
    host.desk()
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "Bob", lambda c, t: None)
    assert str(info.value) == OLD_HOST and not host.asked


async def test_a_fake_guest_gone_after_the_wait_slows_its_address_down(host: Host) -> None:
    """Someone in the middle knocking with its own key gets only a hash of the nonce; leaving
    before it reveals its key makes this address wait before the next knock."""
    desk = host.desk()
    conn = await ws_connect(f"ws://127.0.0.1:{host.port}/ws", 2.0)
    try:
        fake = GuestKey()
        await conn.send_text(protocol.Knock(ROOM, "Mallory", b64e(fake.commitment)).encode())
        wait = protocol.decode("rv", await conn.recv_text(2.0) or "")
        assert isinstance(wait, protocol.KnockWait)
        assert set(json.loads(wait.encode())) == {"v", "type", "pub", "commit", "timeout_s"}
    finally:
        await conn.close()
    deadline = time.monotonic() + 5
    while not desk.failures:  # until the desk has seen the hang-up
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "Bob", lambda c, t: None)
    assert info.value.code == "knock_limited"
    assert desk.failures == 1 and not host.asked
