"""A meeting hosted from the desktop app's HostService on a standalone `peermeet-rendezvous`
(a real process) that restarts WITHOUT --state: the host's call opens the room again, as it
was (also a headless host's, and as the host leaves); guests never do (app.meeting.reopening,
app.meeting.host_watch). The helpers and fixtures here are shared by test_host_reopen_app
(and ``Peer`` by test_left_while_joining)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.errors import RoomRefused
from app.meeting import events as ev
from app.meeting import rejoin
from app.meeting.hosting import HostService
from app.meeting.links import Link, new_secret, parse_link
from app.meeting.reopening import for_meeting
from app.meeting.store import ENDED, LIVE, MeetingStore
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.e2e.helpers import first_line, rendezvous
from tests.integration.relays import FarAway
from tests.integration.test_session import Peer as SessionPeer
from tests.integration.test_session import until

pytestmark = pytest.mark.usefixtures("loopback")


class Peer(SessionPeer):
    """A test_session Peer that counts its connections to the rendezvous (the first, then
    each try back in)."""

    def __init__(self, name: str) -> None:
        self.connects = 0
        super().__init__(name, connect=self._connect)

    async def _connect(self, url: str, timeout: float) -> SignalingClient:  # noqa: ASYNC109
        self.connects += 1
        return await SignalingClient.connect(url, timeout)

    def sees(self, other: SessionPeer) -> bool:
        """``other``'s current seat is known here, and video from it came in (under the key
        ``other`` was first known by: it stays when its rendezvous id changes)."""
        key = self.session._whois.key(other.session.my_id)
        return key is not None and self.media.video_frames(key) > 3


class Standalone:
    """`peermeet-rendezvous --host 127.0.0.1` as its own process, restartable on its port."""

    def __init__(self) -> None:
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    async def start(self) -> None:
        self.proc = rendezvous("--host", "127.0.0.1", "--port", str(self.port))  # no --state
        line = await asyncio.to_thread(first_line, self.proc)
        assert line.startswith("peermeet-rendezvous listening on 127.0.0.1:"), line
        self.port = int(line.rsplit(":", 1)[1].split()[0])

    async def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: it closes every connection and forgets every room
            await asyncio.to_thread(self.proc.communicate, timeout=10)
        self.proc = None

    @property
    def url(self) -> str:
        return f"peermeet://127.0.0.1:{self.port}"


@pytest.fixture(name="server")
async def server_fixture() -> AsyncIterator[Standalone]:
    srv = Standalone()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def quick_rejoin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls try to get back in four times as often as in the app (0.125, 0.25, 0.5, 1 s,
    then every 1.25 s): the tries, not the wait between them, are what these tests are
    about."""
    monkeypatch.setattr(rejoin, "DELAYS_S", tuple(d / 4 for d in rejoin.DELAYS_S))
    monkeypatch.setattr(rejoin, "MAX_DELAY_S", rejoin.MAX_DELAY_S / 4)


@pytest.fixture(name="host")
async def host_fixture(tmp_path: Path) -> AsyncIterator[HostService]:
    """The host's app, its own check of its meetings out of the way (these tests are about the
    calls): it looks once, right after the start, then not for an hour."""
    svc = HostService(MeetingStore(tmp_path / "meetings.json"), watch=(3600.0, 3600.0))
    yield svc
    await svc.close()


class Counted:
    """The host's app with a quick check of its outside meetings (every 2 s; every 0.5 s while
    the server does not answer), counting its connections to the rendezvous."""

    def __init__(self, path: Path) -> None:
        self.connects = 0
        self.broken = False  # connecting fails with an unforeseen error (a bug)
        self.svc = HostService(
            MeetingStore(path), connect=self._connect, sweep_interval=0.1, watch=(2.0, 0.5)
        )

    async def _connect(self, url: str, timeout: float) -> SignalingClient:  # noqa: ASYNC109
        self.connects += 1
        if self.broken:
            raise RuntimeError("a bug")
        return await SignalingClient.connect(url, timeout)

    async def looks_in(self, seconds: float) -> tuple[int, float]:
        """Its connections over about ``seconds`` (idle), and the seconds that really were."""
        before, start = self.connects, time.monotonic()
        await asyncio.sleep(seconds)
        return self.connects - before, time.monotonic() - start


@pytest.fixture(name="counted")
async def counted_fixture(tmp_path: Path) -> AsyncIterator[Counted]:
    app = Counted(tmp_path / "meetings.json")
    yield app
    await app.svc.close()


async def refusal(link: Link) -> str:
    """What the rendezvous answers a plain join to ``link``'s room ("" if it lets us in)."""
    client = await SignalingClient.connect(link.rendezvous_url, 5.0)
    try:
        await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        return ""
    except RoomRefused as exc:
        return exc.code
    finally:
        await client.close()


@pytest.mark.usefixtures("quick_rejoin")
async def test_the_hosts_call_opens_the_room_again_after_a_restart_without_state(
    server: Standalone, host: HostService
) -> None:
    """Host and guest are in a call; the server restarts and knows no room. The host's call
    opens the room again (same id, name, size; its old expiry, an extension included), its
    new owner token goes into My meetings, both are in the call again, and My meetings can
    still extend and end it."""
    record = await host.start("Team sync", "mid", 1800, rendezvous=server.url)
    await host.extend(record.link, 600)  # expiry now: its start + 40 minutes
    ends, old_token = record.expires_at, record.owner_token
    link = parse_link(record.link)
    hana, gus = Peer("Hana"), Peer("Gus")
    try:
        hana.session.owner = for_meeting(host, link)  # (the Bridge's)
        await hana.session.join(link)
        await gus.session.join(link)
        await until(lambda: hana.sees(gus) and gus.sees(hana))
        old = {hana.session.my_id, gus.session.my_id}
        await server.stop()
        await until(lambda: not hana.session._signaling_ok and not gus.session._signaling_ok)
        await server.start()  # the same port, no rooms
        await until(lambda: not {hana.session.my_id, gus.session.my_id} & old, limit=30)
        await until(lambda: hana.sees(gus) and gus.sees(hana), limit=20)
        assert hana.session.ended is None and gus.session.ended is None
        assert [e for e in gus.events if isinstance(e, ev.Rejoined)]
        # the room is the same one, living to its old expiry (a fresh one would end ~3 h on)
        assert abs(gus.session.expires_at - ends) <= 1.5, (gus.session.expires_at, ends)
        # My meetings has the new owner token (on disk too) ...
        await until(lambda: record.owner_token != old_token)
        saved = MeetingStore(host.store.path).find(record.link)
        assert saved is not None and saved.owner_token == record.owner_token != ""
        assert record.state == LIVE and abs(record.expires_at - ends) <= 1.5
        # ... and it works: +10 minutes reaches everyone in the call, End ends it for them
        await host.extend(record.link, 600)
        assert record.state == LIVE and abs(record.expires_at - (ends + 600)) <= 1.5
        await until(lambda: gus.session.expires_at == record.expires_at)
        await host.end(record.link)
        await until(lambda: gus.session.ended == "ended" and hana.session.ended == "ended")
        assert record.state == ENDED and await refusal(link) == "room_ended"
    finally:
        await gus.close()
        await hana.close()


@pytest.mark.usefixtures("quick_rejoin")
async def test_a_guest_alone_does_not_open_the_room_again(
    server: Standalone, host: HostService
) -> None:
    """Only a guest in the call when the server restarts: it keeps trying, but never creates
    the room (it holds no owner token); the host's app entering from My meetings does, and the
    guest is back in the call with it."""
    record = await host.start("Team sync", "small", 1800, rendezvous=server.url)
    link, ends, old_token = parse_link(record.link), record.expires_at, record.owner_token
    gus, hana = Peer("Gus"), Peer("Hana")
    try:
        await gus.session.join(link)
        await server.stop()
        await until(lambda: not gus.session._signaling_ok)
        await server.start()
        tries = gus.connects
        # an owner creates the room at its second try ("no such room" at the first): a third
        # one has begun, so two were answered, and neither created it
        await until(lambda: gus.connects >= tries + 3 or gus.session._signaling_ok, limit=25)
        assert not gus.session._signaling_ok and await refusal(link) == "no_such_room"
        assert gus.session.ended is None  # still waiting for it
        # the host enters its meeting (the server does not know it): its app opens it again
        hana.session.owner = for_meeting(host, link)
        await hana.session.join(link)
        await until(lambda: hana.sees(gus) and gus.sees(hana), limit=20)
        assert abs(hana.session.expires_at - ends) <= 1.5
        assert abs(gus.session.expires_at - ends) <= 1.5
        await until(lambda: record.owner_token != old_token)  # My meetings has the new one
        assert abs(record.expires_at - ends) <= 1.5 and await refusal(link) == ""
    finally:
        await hana.close()
        await gus.close()


@pytest.mark.usefixtures("quick_rejoin")
async def test_a_headless_host_that_created_the_room_opens_it_again_too(
    server: Standalone,
) -> None:
    """`peermeet host --headless --rendezvous …` creates the room from its own call
    (Session.create): after the restart it opens it again until its old expiry, and its new
    owner token ends it."""
    link = Link("127.0.0.1", server.port, "team-sync", new_secret())
    hana, gus = Peer("Hana"), Peer("Gus")
    try:
        token = await hana.session.create(link, "small", 2400)
        ends = hana.session.expires_at
        await gus.session.join(link)
        await until(lambda: hana.sees(gus) and gus.sees(hana))
        await server.stop()
        await until(lambda: not hana.session._signaling_ok and not gus.session._signaling_ok)
        await server.start()
        await until(lambda: hana.session.owner_token != token, limit=30)
        await until(lambda: gus.session._signaling_ok, limit=20)
        await until(lambda: hana.sees(gus) and gus.sees(hana), limit=20)
        assert abs(gus.session.expires_at - ends) <= 1.5, (gus.session.expires_at, ends)
        await hana.session.end_room()
        await until(lambda: gus.session.ended == "ended")
    finally:
        await gus.close()
        await hana.close()


@pytest.mark.usefixtures("quick_rejoin")
async def test_a_room_opened_again_as_the_host_leaves_keeps_its_new_owner_token(
    host: HostService,
) -> None:
    """The host's call opens the lost room again, and the host leaves the call while the
    server's answer (the new owner token) is still on its way: the server made the room, so
    the token goes to My meetings all the same, and End there works (it used to be refused
    as "not owner", and the meeting marked as taken by someone else, though it was ours)."""
    first = RendezvousServer(host="127.0.0.1", port=0)
    await first.start()
    far = FarAway(first.port, delay=0.5)
    await far.start()
    second: RendezvousServer | None = None
    hana = Peer("Hana")
    try:
        record = await host.start("Team sync", "small", 1800, rendezvous=far.url)
        link, old_token = parse_link(record.link), record.owner_token
        hana.session.owner = for_meeting(host, link)
        await hana.session.join(link)
        await first.close()  # it forgets every room
        await until(lambda: not hana.session._signaling_ok)
        second = RendezvousServer(host="127.0.0.1", port=first.port)
        await second.start()
        room_id = RoomKeys.from_secret(link.secret).room_id
        await until(lambda: second.rooms.get(room_id) is not None, limit=20)  # type: ignore[union-attr]
        await hana.close()  # its answer is still on the way
        await until(lambda: record.owner_token != old_token, limit=2)
        assert record.state == LIVE and not record.taken
        await host.end(record.link)  # with the new token
        assert record.state == ENDED and not record.taken
        assert second.rooms.get(room_id) is None
    finally:
        await hana.close()
        await far.close()
        await first.close()
        if second is not None:
            await second.close()
