"""Knocks on a LAN room: real knocks on a real rendezvous on 127.0.0.1 (and real zeroconf on
loopback where a room must be found). Admitted (the secret, equal codes), full, denied, timed
out, the host gone while waiting, busy and rate-limited, one address's share of the places, no
hook, and the host's key checked.

Multicast stays on 127.0.0.1 (``interfaces=["127.0.0.1"]``): nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from app.errors import HostKeyChanged, RendezvousUnreachable, RoomRefused
from app.meeting.lan import HostLan, knock_room
from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockDecision, KnockDesk, KnockRequest
from app.net.knocker import HOST_GONE, knock
from app.net.lanroom import FoundRoom
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.lan_host import (
    LOOPBACK,
    Host,
    admit,
    host_fixture,  # noqa: F401  (the "host" fixture)
    keep_ours,
    wait_for,
)

pytestmark = pytest.mark.timeout(30)


async def test_knock_admit_gives_the_secret_and_equal_codes(host: Host) -> None:
    asked: list[KnockRequest] = []

    async def ask(request: KnockRequest) -> bool:
        asked.append(request)
        return True

    host.desk(ask)
    codes: list[tuple[str, int]] = []
    admission = await knock(host.found(), "Bob\x07", lambda c, t: codes.append((c, t)))
    assert admission.secret == host.link.secret
    assert (admission.address, admission.port) == ("127.0.0.1", host.link.port)
    (request,) = asked
    assert codes == [(request.code, 60)]
    assert request.name == "Bob" and request.room == "lan-test" and request.remote == "127.0.0.1"


async def test_a_room_that_fills_while_the_host_decides_is_said_full(host: Host) -> None:
    """Admitted into a room that filled up meanwhile: "full" at the knock, not a Join dialog
    that says so after the host let you in."""
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    seen: list[list[FoundRoom]] = [[]]
    browser = guest_side.browse(keep_ours(seen))
    members: list[SignalingClient] = []

    async def fill_then_admit(request: KnockRequest) -> bool:
        for _ in range(3):  # with the host's own seat, the small room's 4 are taken
            member = await SignalingClient.connect(host.link.rendezvous_url, 2.0)
            await member.join(RoomKeys.from_secret(host.link.secret).room_id, host.link.room)
            members.append(member)
        return True

    lan = HostLan(
        host.server, host.link, "Alice", "small", identity=host.identity, ask=fill_then_admit,
        discovery=host_side, addresses=LOOPBACK, poll_s=0.2,
    )  # fmt: skip
    try:
        await lan.start()
        await wait_for(lambda: len(seen[-1]) == 1)
        with pytest.raises(RoomRefused) as info:
            await knock_room(seen[-1][0], "Bob", lambda code, t: None)
        assert info.value.code == "room_full"
    finally:
        for member in members:
            await member.close()
        await lan.close()
        await browser.close()
        await guest_side.close()
        await host_side.close()


async def test_deny(host: Host) -> None:
    async def deny(request: KnockRequest) -> bool:
        return False

    host.desk(deny)
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "Bob", lambda c, t: None)
    assert info.value.code == "denied" and "did not let you in" in str(info.value)


async def test_timeout_withdraws_the_prompt(host: Host) -> None:
    cancelled = asyncio.Event()

    async def never(request: KnockRequest) -> bool:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return False

    host.desk(never, timeout=0.5)
    start = time.monotonic()
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "Bob", lambda c, t: None)
    assert info.value.code == "knock_timeout" and "in time" in str(info.value)
    assert time.monotonic() - start < 3 and cancelled.is_set()


async def test_host_gone_while_waiting(host: Host) -> None:
    asked = asyncio.Event()

    async def hang(request: KnockRequest) -> bool:
        asked.set()
        await asyncio.Event().wait()
        return False

    host.desk(hang)
    attempt = asyncio.create_task(knock(host.found(), "Bob", lambda c, t: None))
    await asyncio.wait_for(asked.wait(), 5)
    await host.server.close()  # the host app quits
    with pytest.raises(RendezvousUnreachable, match="went away") as info:
        await attempt
    assert str(info.value) == HOST_GONE
    with pytest.raises(RendezvousUnreachable, match="Cannot reach"):  # and knocking again
        await knock(host.found(), "Bob", lambda c, t: None)


async def test_busy_and_rate_limited(host: Host) -> None:
    waiting = 0

    async def hang(request: KnockRequest) -> bool:
        nonlocal waiting
        waiting += 1
        await asyncio.Event().wait()
        return False

    desk = host.desk(hang, max_pending=2, per_ip=(0.0, 4.0), pending_per_ip=3)
    pending = [asyncio.create_task(knock(host.found(), f"g{i}", lambda c, t: None)) for i in (1, 2)]
    await wait_for(lambda: waiting == 2, 5)
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "g3", lambda c, t: None)
    assert info.value.code == "knock_busy" and "busy" in str(info.value)
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "g4", lambda c, t: None)
    assert info.value.code == "knock_busy"
    with pytest.raises(RoomRefused) as info:  # a 5th knock from one address within the burst
        await knock(host.found(), "g5", lambda c, t: None)
    assert info.value.code == "knock_limited" and "Too many knocks" in str(info.value)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await wait_for(lambda: desk.pending == 0)  # guests hanging up free their places


async def test_one_address_cannot_keep_every_place(host: Host) -> None:
    """Knocks waiting at once from one address are limited (2), below the desk's places:
    one device re-knocking cannot keep everyone else out."""
    waiting = 0

    async def hang(request: KnockRequest) -> bool:
        nonlocal waiting
        waiting += 1
        await asyncio.Event().wait()
        return False

    desk = host.desk(hang, max_pending=6)
    pending = [asyncio.create_task(knock(host.found(), f"g{i}", lambda c, t: None)) for i in (1, 2)]
    await wait_for(lambda: waiting == 2, 5)
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "g3", lambda c, t: None)
    assert info.value.code == "knock_limited"
    assert desk.pending == 2  # places left for other addresses
    pending.pop().cancel()  # one of them gives up: this address may knock again
    await wait_for(lambda: desk.pending == 1)
    again = asyncio.create_task(knock(host.found(), "g4", lambda c, t: None))
    await wait_for(lambda: waiting == 3, 5)
    for task in (*pending, again):
        task.cancel()
    await asyncio.gather(*pending, again, return_exceptions=True)
    await wait_for(lambda: desk.pending == 0)


async def test_no_hook_means_no_knock(host: Host) -> None:
    with pytest.raises(RoomRefused) as info:
        await knock(host.found(), "Bob", lambda c, t: None)
    assert info.value.code == "no_knock"


async def test_announced_key_must_answer(host: Host) -> None:
    host.desk(admit)
    impostor = HostIdentity.generate().fingerprint  # announced, but the desk holds another key
    with pytest.raises(HostKeyChanged, match="another key than it announces"):
        await knock(host.found(impostor), "Bob", lambda c, t: None)


async def test_box_from_another_key_is_refused(host: Host) -> None:
    mallory = HostIdentity.generate()

    async def decide(request: KnockRequest) -> KnockDecision:  # knows the secret, not the key
        box = mallory.seal_secret(request.guest_pub, request.nonce, "lan-test", host.link.secret)
        return KnockDecision(True, box)

    host.server.knocks = KnockDesk(host.identity.public, decide)
    with pytest.raises(HostKeyChanged, match="could not be verified"):
        await knock(host.found(), "Bob", lambda c, t: None)
