"""Show the meetings this user hosts on the LAN: one HostLan per live "This computer" meeting
whose record says ``lan``, for as long as HostService keeps it live (withdrawn on End, expiry,
Forget and ``close()`` at app quit). Qt-free: the desktop passes ``ask`` (the Admit/Deny prompt).

A knock not answered in time is passed to ``on_missed`` (the main window keeps a notice).

Rooms on one embedded server share its port, so knocks go to one desk per server that hands each
to the HostLan of the room the guest asked for. Announcing only happens on a LAN address: a server
bound to loopback is skipped unless ``interfaces`` forces it (tests keep mDNS on 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import PeerMeetError
from app.meeting.hosting import HostService
from app.meeting.lan import Ask, HostLan, lan_scope
from app.meeting.links import parse_link
from app.meeting.store import ENDED, MeetingRecord
from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.knockdesk import KNOCK_TIMEOUT_S, KnockDecision, KnockDesk, KnockRequest, OnMissed
from app.net.lanroom import FoundRoom
from app.net.rendezvous import RendezvousServer

log = logging.getLogger(__name__)


@dataclass
class _Hosted:
    lan: HostLan
    server: RendezvousServer
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    why: str = "room_ended"  # what a knock waiting when it goes is told


class LanHosting:
    """Owns the HostLans, their Discovery (one per interface scope), the knock desks and one
    worker task that follows HostService's changes. ``close()`` is idempotent."""

    def __init__(
        self,
        host: HostService,
        ask: Ask,
        host_name: Callable[[], str],
        *,
        identity: HostIdentity | None = None,
        identity_path: Path | None = None,  # None: the user data dir (app.net.knock)
        interfaces: Sequence[str] | None = None,  # announce here even on loopback (tests)
        on_error: Callable[[str], None] = lambda text: None,
        knock_timeout: float = KNOCK_TIMEOUT_S,
        poll_s: float = 1.0,
        on_missed: OnMissed = lambda request: None,  # a knock nobody answered in time
    ) -> None:
        self._on_missed = on_missed
        self._host, self._ask, self._host_name = host, ask, host_name
        self._identity, self._identity_path = identity, identity_path
        self._interfaces = list(interfaces) if interfaces else None
        self._on_error, self._knock_timeout, self._poll_s = on_error, knock_timeout, poll_s
        self._hosted: dict[str, _Hosted] = {}  # link -> its announcement
        self._skipped: set[str] = set()  # links not to retry (loopback, or it failed once)
        self._waiting: set[str] = set()  # links whose room name another shown meeting has
        self._discoveries: dict[tuple[str, ...] | None, Discovery] = {}
        self._desks: dict[int, tuple[RendezvousServer, KnockDesk]] = {}  # port -> router
        self._dirty = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Follow HostService from now on (call with the loop running)."""
        if self._worker is None and not self._closed:
            self._host.subscribe(self._dirty.set)
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="lan-hosting")
            self._dirty.set()

    @property
    def announced(self) -> list[str]:
        """Links of the meetings shown on the LAN now."""
        return list(self._hosted)

    def is_own(self, room: FoundRoom) -> bool:
        """Whether a room seen on the LAN is one this app announces (not worth knocking on)."""
        fp = self._identity.fingerprint if self._identity is not None else None
        rooms = {h.lan.link.room for h in self._hosted.values()}
        return room.info.fingerprint == fp and room.info.room in rooms

    async def close(self) -> None:
        """Withdraw every announcement, stop taking knocks, close zeroconf. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._host.unsubscribe(self._dirty.set)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for link in list(self._hosted):
            await self._withdraw(link, "host_leaving")  # the meeting reopens with the app
        discoveries, self._discoveries = self._discoveries, {}
        for discovery in discoveries.values():
            await discovery.close()

    async def _run(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._reconcile()
            except Exception:
                log.exception("updating the meetings shown on the LAN failed")

    async def _reconcile(self) -> None:
        now = self._host.now()
        wanted = {
            r.link: r for r in self._host.records() if r.lan and r.embedded and r.is_live(now)
        }
        for link in [link for link in self._hosted if link not in wanted]:
            record = next((r for r in self._host.records() if r.link == link), None)
            expired = record is not None and record.state != ENDED and record.expires_at <= now
            await self._withdraw(link, "room_expired" if expired else "room_ended")
        for link, record in wanted.items():
            if link in self._hosted or link in self._skipped:
                continue
            if not record.is_live(self._host.now()):
                continue  # ended while those before it were withdrawn or announced
            if self._host.embedded_server(record) is None:
                continue  # not reopened yet (app start): HostService tells us when it is
            self._skipped.add(link)  # until it is announced: one try per meeting...
            if await self._announce(record) or link in self._waiting:
                self._skipped.discard(link)  # ...except while its name is taken

    async def _announce(self, record: MeetingRecord) -> bool:
        found = self._host.embedded_server(record)
        assert found is not None  # (checked by the caller)
        server, bind = found
        interfaces: list[str] | None
        if self._interfaces is not None:
            interfaces, addresses = list(self._interfaces), list(self._interfaces)
        elif _is_loopback(bind):
            log.info("not announcing %s: its rendezvous listens on %s only", record.room, bind)
            return False
        else:
            interfaces, addresses = lan_scope("::" if record.ipv6 and not bind else bind)
        link = parse_link(record.link)
        if not addresses:
            return self._fail(record, "this computer has no network address right now")
        if self._find(server, link.room) is not None:  # shown once that one ends
            if record.link in self._waiting:
                return False  # (said already)
            self._waiting.add(record.link)
            why = f"another meeting named “{link.room}” is shown; this one will be when it ends"
            return self._fail(record, why)
        self._waiting.discard(record.link)
        try:
            if self._identity is None:
                self._identity = HostIdentity.load_or_create(self._identity_path)
            discovery = self._discovery(interfaces)
        except PeerMeetError as exc:
            return self._fail(record, str(exc).rstrip("."))
        lan = HostLan(
            server, link, self._host_name(), record.size, identity=self._identity,
            ask=self._ask, discovery=discovery, addresses=addresses,
            knock_timeout=self._knock_timeout, poll_s=self._poll_s,
        )  # fmt: skip
        try:
            await lan.start()
        except (PeerMeetError, OSError) as exc:
            await lan.close()
            return self._fail(record, str(exc).rstrip("."))
        self._hosted[record.link] = _Hosted(lan, server)
        self._route(server)
        return True

    def _fail(self, record: MeetingRecord, why: str) -> bool:
        self._on_error(
            f"“{record.title}” is not shown on this network ({why}). "
            "People can still join with its link: send it to them."
        )
        return False

    def _discovery(self, interfaces: list[str] | None) -> Discovery:
        key = tuple(interfaces) if interfaces else None
        if key not in self._discoveries:
            self._discoveries[key] = Discovery(interfaces)
        return self._discoveries[key]

    def _route(self, server: RendezvousServer) -> None:
        """One desk per server (HostLan.start put its own there): knocks go by room name."""
        entry = self._desks.get(server.port)
        if entry is None or entry[0] is not server:
            assert self._identity is not None

            async def decide(request: KnockRequest) -> KnockDecision:
                return await self._decide(server, request)

            desk = KnockDesk(
                self._identity.public, decide, timeout=self._knock_timeout,
                on_missed=self._on_missed,
            )  # fmt: skip
            entry = self._desks[server.port] = (server, desk)
        server.knocks = entry[1]

    async def _decide(self, server: RendezvousServer, request: KnockRequest) -> KnockDecision:
        hosted = self._find(server, request.room)
        if hosted is None:
            return KnockDecision(False, refusal="no_such_room")
        # HostLan's own decision (room full? ask the host, seal the secret), ended by withdrawal
        decide = asyncio.ensure_future(hosted.lan._decide(request))
        gone = asyncio.ensure_future(hosted.gone.wait())
        try:
            await asyncio.wait((decide, gone), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (decide, gone):
                if not task.done():
                    task.cancel()
            await asyncio.gather(decide, gone, return_exceptions=True)
        if decide.cancelled():
            return KnockDecision(False, refusal=hosted.why)
        return decide.result()

    def _find(self, server: RendezvousServer, room: str) -> _Hosted | None:
        hosted = self._hosted.values()
        return next((h for h in hosted if h.server is server and h.lan.link.room == room), None)

    async def _withdraw(self, link: str, why: str) -> None:
        hosted = self._hosted.pop(link)
        hosted.why = why
        hosted.gone.set()  # an open Admit/Deny prompt for it goes away
        await hosted.lan.close()
        server = hosted.server
        if not any(h.server is server for h in self._hosted.values()):
            entry = self._desks.pop(server.port, None)
            if entry is not None and server.knocks is entry[1]:
                server.knocks = None


def _is_loopback(bind: str) -> bool:
    try:
        return bind == "localhost" or ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False
