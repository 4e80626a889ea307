"""The host app's side of the LAN, with real zeroconf on loopback and real knocks on 127.0.0.1:
meetings reopened at app start shown again, a knock waiting when the app quits, meetings of one
name shown in turn, a meeting ended while the LAN catches up, and what the host is told of each
knock.

Multicast stays on 127.0.0.1 (``interfaces=["127.0.0.1"]``): nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from pathlib import Path

import pytest

from app.errors import RoomRefused
from app.meeting.lan import HostLan, knock_room
from app.meeting.links import parse_link
from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockRequest
from app.net.knocker import knock
from app.net.lanroom import FoundRoom, LanRoom
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.lan_host import (
    LOOPBACK,
    Host,
    admit,
    host_fixture,  # noqa: F401  (the "host" fixture)
    wait_for,
)

pytestmark = pytest.mark.timeout(30)


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
