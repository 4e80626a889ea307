"""LAN rooms announced and browsed: real zeroconf on loopback (one process). A room announced,
updated and ended (and one full knock on it), withdrawn at once when its host quits, bad
announcements ignored, a host that stops answering and comes back, counts going down, a second
browser on the same computer, and rooms announced at a loopback address.

Multicast stays on 127.0.0.1 (``interfaces=["127.0.0.1"]``): nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path

import pytest

from app.meeting.lan import HostLan, choose_room, knock_room
from app.net import discovery
from app.net.discovery import Discovery
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinStore
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.lan_host import (
    LOOPBACK,
    OURS,
    Host,
    admit,
    host_fixture,  # noqa: F401  (the "host" fixture)
    keep_ours,
    wait_for,
)

pytestmark = pytest.mark.timeout(30)


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
