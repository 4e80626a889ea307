"""Real zeroconf on loopback (one process) and real knocks on a real rendezvous on 127.0.0.1.

Multicast stays on 127.0.0.1 (``interfaces=["127.0.0.1"]``): nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from app.errors import HostKeyChanged, RendezvousUnreachable, RoomRefused
from app.meeting.lan import HostLan, choose_room, knock_room
from app.meeting.links import Link, new_secret, parse_link
from app.net import discovery
from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockDecision, KnockDesk, KnockRequest
from app.net.knocker import HOST_GONE, knock
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinStore
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient

pytestmark = pytest.mark.timeout(30)
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


@pytest.fixture
async def host() -> AsyncIterator[Host]:
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


# --- discovery -------------------------------------------------------------------------------

#: the rooms these tests announce (a PeerMeet running on this machine meanwhile announces its
#: own on the same loopback, and a test must not count them)
OURS = {"lan-test", "crasher", "Not A Room!", "old-room"}


def keep_ours(seen: list[list[FoundRoom]]) -> Callable[[list[FoundRoom]], None]:
    return lambda rooms: seen.append([r for r in rooms if r.info.room in OURS])


async def test_announce_update_end_and_full_knock(host: Host, tmp_path: Path) -> None:
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    seen: list[list[FoundRoom]] = [[]]
    browser = guest_side.browse(keep_ours(seen))
    lan = HostLan(
        host.server, host.link, "Alice", "small", identity=host.identity, ask=admit,
        discovery=host_side, addresses=LOOPBACK, poll_s=0.2,
    )  # fmt: skip
    try:
        start = time.monotonic()
        await lan.start()
        await wait_for(lambda: len(seen[-1]) == 1)
        appeared = time.monotonic() - start
        (room,) = seen[-1]
        assert room.info == LanRoom(
            "lan-test", "Alice", "small", 1, 4, room.info.expires_at, host.identity.fingerprint
        )
        assert room.addresses == ("127.0.0.1",) and room.port == host.link.port
        assert abs(room.info.expires_at - (time.time() + 600)) < 5

        pins = PinStore(tmp_path / "pins.json")
        choice = choose_room(seen[-1], "lan-test", pins)
        assert choice.warnings == ()
        link = await knock_room(choice.room, "Bob", lambda code, t: None, pins=pins)
        assert link == host.link  # the guest joins as if it had the link
        assert pins.check("lan-test", host.identity.fingerprint).status == "known"

        guest = await SignalingClient.connect(link.rendezvous_url, 2.0)
        await guest.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        updated = await wait_for(lambda: bool(seen[-1]) and seen[-1][0].info.people == 2)
        await guest.close()

        start = time.monotonic()
        await host.owner.end(host.token)
        await wait_for(lambda: seen[-1] == [])
        ended = time.monotonic() - start
        print(f"\nLAN latency: appear {appeared:.2f} s, update {updated:.2f} s, end {ended:.2f} s")
    finally:
        await lan.close()
        await lan.close()  # idempotent
        await browser.close()
        await guest_side.close()
        await host_side.close()


async def test_quit_withdraws_at_once_and_bad_announcements_are_ignored(host: Host) -> None:
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    seen: list[list[FoundRoom]] = [[]]
    browser = guest_side.browse(keep_ours(seen))
    fp = host.identity.fingerprint
    bad = await host_side.announce(
        LanRoom("Not A Room!", "Mallory", "small", 1, 4, int(time.time()) + 600, fp), 9, LOOPBACK
    )
    expired = await host_side.announce(
        LanRoom("old-room", "Mallory", "small", 1, 4, int(time.time()) - 1, fp), 9, LOOPBACK
    )
    lan = HostLan(
        host.server, host.link, "Alice", "small", identity=host.identity, ask=admit,
        interfaces=LOOPBACK, addresses=LOOPBACK,
    )  # fmt: skip
    try:
        await lan.start()
        await wait_for(lambda: len(seen[-1]) == 1)
        await asyncio.sleep(0.3)
        assert [r.info.room for r in seen[-1]] == ["lan-test"]  # bad TXT and expired: ignored
        start = time.monotonic()
        await lan.close()  # the app quits: goodbye packets
        await wait_for(lambda: seen[-1] == [])
        print(f"\nLAN latency: withdraw on quit {time.monotonic() - start:.2f} s")
    finally:
        await lan.close()
        await bad.withdraw()
        await expired.withdraw()
        await browser.close()
        await guest_side.close()
        await host_side.close()


async def test_a_room_whose_host_stops_answering_leaves_the_list_and_comes_back_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No goodbye (its app crashed, its network went): once its records age out, the room is
    asked for again and, with nobody answering, dropped (zeroconf would keep its pointer
    record for over an hour). Its host answering again (its network back) does not announce
    the room again, as nothing changed: nothing else asked for it, and it stayed off the list
    while the pointer record lasted. Now it is asked for again, less and less often (every
    0.5, 1, 2 s here)."""
    monkeypatch.setattr(discovery, "TTL_S", 2)
    monkeypatch.setattr(discovery, "TICK_S", 0.5)
    monkeypatch.setattr(discovery, "RESOLVE_MS", 1000)
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    seen: list[list[FoundRoom]] = [[]]
    browser = guest_side.browse(keep_ours(seen))
    room = LanRoom("crasher", "Alice", "small", 1, 4, int(time.time()) + 600, "c" * 32)
    live = await host_side.announce(room, 9, LOOPBACK)
    registry = host_side._zc.zeroconf.registry
    try:
        await wait_for(lambda: len(seen[-1]) == 1)
        await asyncio.sleep(3)  # past the records' TTL: a live host answers the new asking
        assert [r.info.room for r in seen[-1]] == ["crasher"]
        registry.async_remove(live._info)  # gone without a word
        took = await wait_for(lambda: seen[-1] == [], within=10)
        print(f"\nLAN: a room whose host stopped answering left the list after {took:.1f} s")
        registry.async_add(live._info)  # answers again, without a word
        took = await wait_for(lambda: len(seen[-1]) == 1, within=8)
        print(f"LAN: and was back {took:.1f} s after its host answered again")
    finally:
        await browser.close()
        await guest_side.close()
        await host_side.close()


async def test_a_count_going_back_down_is_seen_and_the_room_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """People 0 -> 1 -> 2 -> 1 -> 0: each change reaches the list (an update equal to an
    earlier one was not, and a few seconds later the live room fell off the list for good).
    The list checks its rooms every 0.5 s, not 5, and gives a look-up 1 s, not 3: a room whose
    records the cache lost then leaves it ~2 s after the update (~6 s with the app's times)."""
    monkeypatch.setattr(discovery, "TICK_S", 0.5)
    monkeypatch.setattr(discovery, "RESOLVE_MS", 1000)
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    seen: list[list[FoundRoom]] = [[]]
    browser = guest_side.browse(keep_ours(seen))
    room = LanRoom("crasher", "Alice", "small", 0, 4, int(time.time()) + 600, "d" * 32)
    live = await host_side.announce(room, 9, LOOPBACK)
    try:
        await wait_for(lambda: len(seen[-1]) == 1)
        for people in (1, 2, 1, 0):
            await asyncio.sleep(1.2)
            await live.update(dataclasses.replace(room, people=people))
            shown = lambda n=people: [r.info.people for r in seen[-1]] == [n]  # noqa: E731
            await wait_for(shown, within=5)
        await asyncio.sleep(4)  # (it fell off about 6 s after the last update; here ~2 s)
        assert [r.info.people for r in seen[-1]] == [0]
    finally:
        await browser.close()
        await guest_side.close()
        await host_side.close()


async def test_a_second_browser_on_this_computer_finds_the_room_at_once() -> None:
    """`lan list` and `lan knock` side by side: the second program's first question was the
    first one's byte for byte (ID 0, one PTR question, nothing known yet), and zeroconf drops a
    packet equal to one it took less than 800 ms before, whoever sent it; the answer to the
    first had gone out before the second was listening. It heard nothing until its browser
    asked again a second later (4 s more if that was lost too). Each browser now also asks
    once from a port of its own, with an ID of its own: the answer comes to it alone, at once."""
    host_side = Discovery(LOOPBACK)
    room = LanRoom("lan-test", "Alice", "small", 1, 4, int(time.time()) + 600, "9" * 32)
    live = await host_side.announce(room, 9, LOOPBACK)
    sides: list[Discovery] = []
    browsers: list[discovery.RoomBrowser] = []
    try:
        await asyncio.sleep(2.5)  # past the announcement's own multicasts (0, 1, 2 s)
        for _ in range(2):  # the first program, then the second as soon as the first sees it
            seen: list[list[FoundRoom]] = [[]]
            sides.append(Discovery(LOOPBACK))
            browsers.append(sides[-1].browse(keep_ours(seen)))
            took = await wait_for(lambda: len(seen[-1]) == 1, within=5)  # noqa: B023
            assert took < 0.6, f"found after {took:.2f} s"
        print(f"\nLAN: the second browser found the room after {took:.2f} s")
    finally:
        for browser in browsers:
            await browser.close()
        for side in sides:
            await side.close()
        await live.withdraw()
        await host_side.close()


async def test_a_room_announced_at_a_loopback_address_is_not_dialed_from_a_network() -> None:
    """Anyone on a LAN can announce a room at 127.0.0.1:631: a guest browsing the network
    would knock on a service of its own computer. Loopback counts only on loopback (tests)."""
    mapped = ["::ffff:127.0.0.1", "::ffff:10.0.0.3", "0.1.2.3", "::1", "fe80::1", "10.0.0.2"]
    assert discovery.usable(mapped) == ("10.0.0.3", "10.0.0.2")  # (mapped: said as IPv4)
    assert discovery.usable(mapped, loopback=True)[0] == "127.0.0.1"
    host_side, guest_side = Discovery(LOOPBACK), Discovery(LOOPBACK)
    assert guest_side.loopback_ok
    seen: list[list[FoundRoom]] = [[]]
    on_network = discovery.RoomBrowser(guest_side._zc, keep_ours(seen), time.time)
    on_loopback = guest_side.browse(lambda rooms: None)
    fake = LanRoom("crasher", "Mallory", "small", 0, 4, int(time.time()) + 600, "e" * 32)
    real = LanRoom("lan-test", "Alice", "small", 0, 4, int(time.time()) + 600, "f" * 32)
    ads = [
        await host_side.announce(fake, 631, ["127.0.0.1"]),
        await host_side.announce(real, 8765, ["127.0.0.1", "192.0.2.7"]),
    ]
    try:
        await wait_for(lambda: [r.info.room for r in seen[-1]] == ["lan-test"], within=5)
        assert seen[-1][0].addresses == ("192.0.2.7",)
        ours = lambda: [r for r in on_loopback.rooms if r.info.room in OURS]  # noqa: E731
        await wait_for(lambda: len(ours()) == 2, within=5)  # on loopback: both, as announced
        addresses = sorted(sorted(r.addresses) for r in ours())
        assert addresses == [["127.0.0.1"], ["127.0.0.1", "192.0.2.7"]]
    finally:
        for ad in ads:
            await ad.withdraw()
        await on_network.close()
        await on_loopback.close()
        await guest_side.close()
        await host_side.close()


# --- knocking --------------------------------------------------------------------------------


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


async def test_meetings_reopened_at_app_start_are_shown_on_the_lan_again(
    tmp_path: Path,
) -> None:
    """As the desktop app starts: LAN hosting is running before the meetings of the last run
    are reopened; each one is announced once its server is back."""
    from app.meeting.hosting import HostService
    from app.meeting.lan_hosting import LanHosting
    from app.meeting.store import MeetingStore

    def service() -> HostService:
        store = MeetingStore(tmp_path / "meetings.json")
        return HostService(store, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0)

    first = service()
    record = await first.start(f"resume-{os.getpid()}")
    await first.close()  # the app quits; the meeting lives on in meetings.json
    again = service()
    errors: list[str] = []
    hosting = LanHosting(
        again, admit, lambda: "Alice", identity_path=tmp_path / "host.key",
        interfaces=LOOPBACK, on_error=errors.append, poll_s=0.2,
    )  # fmt: skip
    try:
        hosting.start()
        await asyncio.sleep(0.2)  # its first look finds the meeting, not yet reopened
        assert [r.link for r in await again.resume()] == [record.link]
        await wait_for(lambda: hosting.announced == [record.link], within=5)
        assert errors == []
    finally:
        await hosting.close()
        await again.close()


async def test_a_knock_waiting_when_the_host_app_quits_is_told_so(tmp_path: Path) -> None:
    """Not "the meeting ended": it reopens when the app starts again."""
    from app.meeting.hosting import HostService
    from app.meeting.lan_hosting import LanHosting
    from app.meeting.store import MeetingStore

    store = MeetingStore(tmp_path / "meetings.json")
    service = HostService(store, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0)
    asked = asyncio.Event()

    async def ponder(request: KnockRequest) -> bool:
        asked.set()
        await asyncio.sleep(60)  # the host never decides
        return False

    identity = HostIdentity.generate()
    hosting = LanHosting(service, ponder, lambda: "Alice", identity=identity, interfaces=LOOPBACK)
    try:
        hosting.start()
        record = await service.start(f"quits-{os.getpid()}")
        await wait_for(lambda: hosting.announced == [record.link], within=5)
        link = parse_link(record.link)
        info = LanRoom(
            link.room, "Alice", "small", 0, 4, int(time.time()) + 600, identity.fingerprint
        )
        room = FoundRoom("x", info, ("127.0.0.1",), link.port)
        knock = asyncio.ensure_future(knock_room(room, "Bob", lambda code, t: None))
        await asyncio.wait_for(asked.wait(), 5)
        await hosting.close()  # the app quits
        with pytest.raises(RoomRefused) as refused:
            await asyncio.wait_for(knock, 5)
        assert refused.value.code == "host_leaving"
        assert "comes back when they open it again" in str(refused.value)
    finally:
        await hosting.close()
        await service.close()


async def test_a_meeting_named_like_a_shown_one_is_shown_once_that_one_ends(
    tmp_path: Path,
) -> None:
    """Two meetings of one name: the second waits (said once), and is shown when the first
    ends (it stayed hidden until the app restarted)."""
    from app.meeting.hosting import HostService
    from app.meeting.lan_hosting import LanHosting
    from app.meeting.store import MeetingStore

    store = MeetingStore(tmp_path / "meetings.json")
    service = HostService(store, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0)
    errors: list[str] = []
    hosting = LanHosting(
        service, admit, lambda: "Alice", identity_path=tmp_path / "host.key",
        interfaces=LOOPBACK, on_error=errors.append, poll_s=0.2,
    )  # fmt: skip
    try:
        hosting.start()
        name = f"dup-{os.getpid()}"
        first = await service.start(name)
        await wait_for(lambda: hosting.announced == [first.link], within=5)
        second = await service.start(name)
        await wait_for(lambda: len(errors) == 1, within=5)
        assert "will be when it ends" in errors[0]
        await service.extend(first.link)  # another change: not said again, still waiting
        await asyncio.sleep(0.3)
        assert hosting.announced == [first.link] and len(errors) == 1
        await service.end(first.link)
        await wait_for(lambda: hosting.announced == [second.link], within=5)
        assert len(errors) == 1
    finally:
        await hosting.close()
        await service.close()


async def test_a_meeting_ended_while_the_lan_catches_up_is_not_said_to_be_unshown(
    tmp_path: Path,
) -> None:
    """One meeting ended, the next started and ended at once (a busy host): the LAN hosting
    took the ended one for a meeting to show once it had withdrawn the one before, could not
    announce it, and told My meetings it was "not shown on this network"."""
    from app.meeting.hosting import HostService
    from app.meeting.lan_hosting import LanHosting
    from app.meeting.store import MeetingStore

    store = MeetingStore(tmp_path / "meetings.json")
    service = HostService(store, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0)
    errors: list[str] = []
    hosting = LanHosting(
        service, admit, lambda: "Alice", identity_path=tmp_path / "host.key",
        interfaces=LOOPBACK, on_error=errors.append, poll_s=0.2,
    )  # fmt: skip
    try:
        hosting.start()
        first = await service.start(f"first-{os.getpid()}")
        await wait_for(lambda: hosting.announced == [first.link], within=5)
        await service.end(first.link)
        second = await service.start(f"second-{os.getpid()}")
        # ended while the hosting withdraws the first one (its first step after waking up)
        ending = asyncio.ensure_future(service.end(second.link))
        third = await service.start(f"third-{os.getpid()}")  # shown after it saw the second
        await wait_for(lambda: ending.done() and hosting.announced == [third.link], within=5)
        assert errors == []
    finally:
        await hosting.close()
        await service.close()


async def test_the_host_is_told_of_each_knock_and_how_it_ended(host: Host) -> None:
    """The headless host prints these on stderr (``say``): who knocked, on which room, with
    which code, and the outcome, also for knocks nobody was asked about (full, no such room),
    nobody answered, or the guest gave up on."""
    said: list[str] = []
    answer: list[bool] = []  # until set, nobody answers
    asked, answered = asyncio.Event(), asyncio.Event()

    async def ask(request: KnockRequest) -> bool:
        asked.set()
        await answered.wait()
        return answer[0]

    host_side = Discovery(LOOPBACK)
    lan = HostLan(
        host.server, host.link, "Alice", "small", identity=host.identity, ask=ask,
        discovery=host_side, addresses=LOOPBACK, knock_timeout=1.0, say=said.append,
    )  # fmt: skip
    members: list[SignalingClient] = []

    async def outcome(room: FoundRoom) -> tuple[str, str]:
        """(the guest's refusal code or "admitted", the host's lines for this knock)"""
        del said[:]
        codes: list[str] = []
        try:
            await knock(room, "Bob", lambda code, t: codes.append(code))
        except RoomRefused as exc:
            result = exc.code
        else:
            result = "admitted"
        await wait_for(lambda: len(said) == 2)
        assert said[0] == f"Bob (127.0.0.1) wants to join “{room.info.room}” — code {codes[0]}"
        return result, said[1]

    try:
        await lan.start()
        elsewhere = host.found()
        elsewhere = dataclasses.replace(
            elsewhere, info=dataclasses.replace(elsewhere.info, room="elsewhere")
        )
        assert await outcome(elsewhere) == (
            "no_such_room",
            "turned Bob (127.0.0.1) away from “elsewhere”: no meeting of that name here "
            "(this is “lan-test”)",
        )
        assert await outcome(host.found()) == (
            "knock_timeout",
            "nobody answered Bob (127.0.0.1) on “lan-test” within 1 s: they were told, and can "
            "knock again",
        )
        del said[:]
        asked.clear()
        leaving = asyncio.create_task(knock(host.found(), "Bob", lambda code, t: None))
        await asyncio.wait_for(asked.wait(), 5)
        leaving.cancel()  # the guest gives up (Ctrl-C, Cancel)
        await wait_for(lambda: len(said) == 2)
        assert said[1] == "Bob (127.0.0.1) stopped knocking on “lan-test”"
        answer.append(False)
        answered.set()
        assert await outcome(host.found()) == (
            "denied", "turned Bob (127.0.0.1) away from “lan-test”"
        )  # fmt: skip
        answer[0] = True
        assert await outcome(host.found()) == ("admitted", "let Bob (127.0.0.1) in to “lan-test”")
        for _ in range(3):  # with the host's own seat, the small room's 4 are taken
            member = await SignalingClient.connect(host.link.rendezvous_url, 2.0)
            await member.join(RoomKeys.from_secret(host.link.secret).room_id, host.link.room)
            members.append(member)
        assert await outcome(host.found()) == (
            "room_full", "turned Bob (127.0.0.1) away from “lan-test”: the room is full (4 of 4)"
        )  # fmt: skip
    finally:
        for member in members:
            await member.close()
        await lan.close()
        await host_side.close()
