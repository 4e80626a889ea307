"""What the LAN tests (test_lan_browse, test_lan_knock and test_lan_hosting) share: a host
(an embedded rendezvous with one open room, and its identity for knocks) as the "host" fixture,
the loopback to announce on, a knock hook that admits, ``wait_for``, and ``keep_ours`` (the
rooms these tests announce, not another PeerMeet's). A test file imports the fixture as
``host_fixture``: a test's argument "host" would redefine the name.

Multicast stays on 127.0.0.1 (``interfaces=["127.0.0.1"]``): nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from app.meeting.links import Link, new_secret
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockDecision, KnockDesk, KnockRequest
from app.net.lanroom import FoundRoom, LanRoom
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient

LOOPBACK = ["127.0.0.1"]


class Host:
    """An embedded rendezvous with one open room, as HostedRoom + Session leave it."""

    def __init__(self, server: RendezvousServer, link: Link, owner: SignalingClient, token: str):
        self.server, self.link, self.owner, self.token = server, link, owner, token
        self.identity = HostIdentity.generate()

    def found(self, fingerprint: str | None = None) -> FoundRoom:
        info = LanRoom(
            self.link.room, "Alice", "small", 1, 4, int(time.time()) + 600,
            fingerprint or self.identity.fingerprint,
        )  # fmt: skip
        return FoundRoom("x", info, ("127.0.0.1",), self.link.port)

    def desk(self, ask: Callable[[KnockRequest], Awaitable[bool]], **kwargs: Any) -> KnockDesk:
        async def decide(request: KnockRequest) -> KnockDecision:
            if not await ask(request):
                return KnockDecision(False)
            box = self.identity.seal_secret(
                request.guest_pub, request.nonce, self.link.room, self.link.secret
            )
            return KnockDecision(True, box)

        self.server.knocks = KnockDesk(self.identity.public, decide, **kwargs)
        return self.server.knocks


@pytest.fixture(name="host")
async def host_fixture() -> AsyncIterator[Host]:
    server = RendezvousServer("127.0.0.1", 0)
    port = await server.start()
    link = Link("127.0.0.1", port, "lan-test", new_secret())
    owner = await SignalingClient.connect(link.rendezvous_url, 2.0)
    joined = await owner.create(RoomKeys.from_secret(link.secret).room_id, link.room, "small", 600)
    assert joined.owner_token is not None
    yield Host(server, link, owner, joined.owner_token)
    await owner.close()
    await server.close()


async def admit(request: KnockRequest) -> bool:
    return True


async def wait_for(check: Callable[[], bool], within: float = 2.0) -> float:
    """Seconds until ``check()`` holds; fails after ``within`` seconds."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < within, f"not within {within} s"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


#: the rooms these tests announce (a PeerMeet running on this machine meanwhile announces its
#: own on the same loopback, and a test must not count them)
OURS = {"lan-test", "crasher", "Not A Room!", "old-room"}


def keep_ours(seen: list[list[FoundRoom]]) -> Callable[[list[FoundRoom]], None]:
    return lambda rooms: seen.append([r for r in rooms if r.info.room in OURS])
