"""HostService: the meetings this user hosts, behind "Start meeting" and "My meetings".

For "This computer" it runs embedded rendezvous servers (one per port, shared by every room
on it) and creates each room directly in the server's registry, then frees the creator's seat:
the room exists empty and the host's own app joins it by link like everyone else. For an
outside rendezvous it creates the room over the wire and keeps only the owner token.

Records live in a MeetingStore, so after a restart ``resume()`` reopens rooms still within
their lifetime on the SAME port (old links keep working) or records plainly why it cannot.
Owns its servers and one sweeper task; ``close()`` is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from app.errors import PeerMeetError, RendezvousUnreachable, RoomEnded, RoomRefused, refusal
from app.meeting.links import DEFAULT_PORT, Link, new_secret, parse_link, parse_rendezvous, slugify
from app.meeting.store import ENDED, EXPIRED, LIVE, UNAVAILABLE, MeetingRecord, MeetingStore
from app.net import protocol
from app.net.addresses import advertised_host
from app.net.rendezvous import RendezvousServer
from app.net.rooms import CAPACITY, DEFAULT_LIFETIME_S, MIN_LIFETIME_S, TOMBSTONE_S
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient

log = logging.getLogger(__name__)

Connect = Callable[[str, float], Awaitable[SignalingClient]]
EXTEND_S = 3600
#: an embedded server with no live meeting for this long is closed
IDLE_CLOSE_S = 600.0


def room_id(record: MeetingRecord) -> str:
    return RoomKeys.from_secret(parse_link(record.link).secret).room_id


class HostService:
    def __init__(
        self,
        store: MeetingStore,
        *,
        clock: Callable[[], float] = time.time,
        bind: str | None = None,  # None: every interface ("0.0.0.0", or IPv4+IPv6)
        advertise: str | None = None,  # the host put in links (None: this machine's LAN address)
        preferred_port: int = DEFAULT_PORT,
        connect: Connect = SignalingClient.connect,
        random: Callable[[int], bytes] = os.urandom,
        timeout: float = 10.0,
        sweep_interval: float = 1.0,
    ) -> None:
        self.store = store
        self._clock, self._bind, self._advertise = clock, bind, advertise
        self._preferred_port, self._connect, self._random = preferred_port, connect, random
        self._timeout, self._sweep_interval = timeout, sweep_interval
        self._servers: dict[int, tuple[RendezvousServer, bool]] = {}  # port -> (server, ipv6)
        self._busy_at: dict[int, float] = {}  # port -> last time it had a live meeting
        self._listeners: list[Callable[[], None]] = []
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    # --- what the UI reads ---------------------------------------------------------------------
    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` whenever a meeting starts, ends, expires or changes."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def forget(self, link: str) -> None:
        """Remove a meeting from My meetings (it is not ended: use ``end`` for that)."""
        self.store.remove(link)
        self._changed()

    def records(self) -> list[MeetingRecord]:
        return self.store.records

    def now(self) -> float:
        return self._clock()

    def participants(self, link: str) -> int | None:
        """People in the room now; None when an outside rendezvous keeps that to itself."""
        record = self.store.find(link)
        if record is None or not record.embedded:
            return None
        entry = self._servers.get(record.port)
        room = entry[0].rooms.get(room_id(record)) if entry else None
        return len(room.members) if room is not None and record.is_live(self._clock()) else 0

    def embedded_server(self, record: MeetingRecord) -> tuple[RendezvousServer, str] | None:
        """The embedded server ``record`` runs on and the address it is bound to, if running."""
        entry = self._servers.get(record.port) if record.embedded else None
        return (entry[0], self._bind_for(entry[1])) if entry is not None else None

    # --- actions -----------------------------------------------------------------------------
    async def start(
        self,
        title: str,
        size: str = "small",
        lifetime_s: int = DEFAULT_LIFETIME_S,
        rendezvous: str = "",
        ipv6: bool = False,
        lan: bool = True,
    ) -> MeetingRecord:
        """Open a new room; raise PeerMeetError (LinkError for a bad name or address).
        ``lan``: also show it on this network (app.meeting.lan_hosting does the announcing)."""
        room = slugify(title)
        if size not in CAPACITY:
            raise ValueError(f"size must be one of {', '.join(CAPACITY)}")
        secret = new_secret(self._random)
        keys, now = RoomKeys.from_secret(secret), self._clock()
        if rendezvous.strip():
            base = parse_rendezvous(rendezvous)
            link = Link(base.host, base.port, room, secret, secure=base.secure)
            client = await self._connect(link.rendezvous_url, self._timeout)
            try:
                joined = await client.create(keys.room_id, room, size, lifetime_s)
            finally:
                await client.close()
            token, expires_at = joined.owner_token or "", joined.expires_at
        else:
            server = await self._server_for(ipv6)
            seat = server.rooms.create(keys.room_id, room, size, lifetime_s)
            server.rooms.leave(keys.room_id, seat.peer_id)
            host = self._advertise or advertised_host(self._bind_for(ipv6))
            link = Link(host, server.port, room, secret)
            token, expires_at = seat.room.owner_token, seat.room.expires_at
        record = MeetingRecord(
            str(link), title.strip(), room, size, now, expires_at, rendezvous.strip(),
            link.port, ipv6, token, lan=lan,
        )  # fmt: skip
        self.store.put(record)
        self._changed()
        self._ensure_sweeper()
        return record

    async def end(self, link: str) -> MeetingRecord:
        """End the meeting for everyone (those in it are told) and mark it ended."""
        record = self._find(link)
        if record.state in (ENDED, EXPIRED):
            return record
        if record.is_live(self._clock()):
            try:
                if not record.embedded:
                    await self._control(record, None)
                elif (entry := self._servers.get(record.port)) is not None:
                    server = entry[0]
                    server.end_room(room_id(record), record.owner_token)
            except RoomRefused as exc:
                if exc.code not in ("room_expired", "room_ended", "no_such_room"):
                    raise
        record.state, record.note = ENDED, ""
        self._save()
        return record

    async def extend(self, link: str, seconds: int = EXTEND_S) -> MeetingRecord:
        """Give the meeting more time (capped at 24 h from now by the rendezvous)."""
        record = self._find(link)
        if not record.is_live(self._clock()):
            raise RoomEnded("This meeting has already ended: start a new one instead.")
        if record.embedded:
            entry = self._servers.get(record.port)
            if entry is None:
                raise RendezvousUnreachable("This meeting's rendezvous is not running.")
            server = entry[0]
            room = server.extend_room(room_id(record), record.owner_token, seconds)
            record.expires_at = room.expires_at
        else:
            record.expires_at = await self._control(record, seconds) or record.expires_at
        self._save()
        return record

    def sweep(self) -> list[MeetingRecord]:
        """Mark meetings past their time as expired; return them."""
        now = self._clock()
        expired = [r for r in self.store.records if r.state == LIVE and r.expires_at <= now]
        for record in expired:
            record.state = EXPIRED
        if expired:
            self._save()
        return expired

    async def resume(self) -> list[MeetingRecord]:
        """On app start: reopen every meeting still within its lifetime; return the reopened."""
        now = self._clock()
        self.store.prune(now)
        reopened: list[MeetingRecord] = []
        for record in self.store.records:
            if record.state not in (LIVE, UNAVAILABLE):
                continue
            if record.expires_at - now < MIN_LIFETIME_S:
                record.state, record.note = EXPIRED, ""
            elif not record.embedded:
                record.state, record.note = LIVE, ""
                reopened.append(record)
            elif await self._reopen(record):
                reopened.append(record)
        for record in self.store.records:
            if record.state == ENDED and record.embedded and record.port in self._servers:
                self._rebury(record, now)
        self._save()
        if self._servers:
            self._ensure_sweeper()
        return reopened

    async def close(self) -> None:
        """Stop the sweeper and every embedded server. Records stay for ``resume()``."""
        if self._closed:
            return
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        servers, self._servers = self._servers, {}
        for server, _ in servers.values():
            await server.close()

    # --- internals -----------------------------------------------------------------------------
    def _find(self, link: str) -> MeetingRecord:
        record = self.store.find(link)
        if record is None:
            raise PeerMeetError("This meeting is not in My meetings any more.")
        return record

    def _save(self) -> None:
        self.store.save()
        self._changed()

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    def _bind_for(self, ipv6: bool) -> str:
        if self._bind is not None:
            return self._bind
        return "" if ipv6 else "0.0.0.0"

    async def _server_for(self, ipv6: bool) -> RendezvousServer:
        for server, v6 in self._servers.values():
            if v6 == ipv6:
                return server
        ports = dict.fromkeys((self._preferred_port, 0))  # the usual port, else any free one
        for port in ports:
            try:
                return await self._open(port, ipv6)
            except OSError as exc:
                why = exc.strerror or str(exc)
        raise PeerMeetError(
            f"Could not open a network port for the meeting ({why}). "
            + ("Try again with IPv6 off." if ipv6 else "Check the firewall, then try again.")
        )

    async def _open(self, port: int, ipv6: bool) -> RendezvousServer:
        if port in self._servers:
            return self._servers[port][0]
        if self._closed:
            raise PeerMeetError("PeerMeet is shutting down.")
        bind = self._bind_for(ipv6)
        if port == 0 and bind == "":
            port = _free_dual_stack_port()  # IPv4 and IPv6 sockets must share one port
        server = RendezvousServer(host=bind, port=port, clock=self._clock)
        try:
            await server.start()
        except BaseException:
            await server.close()
            raise
        self._servers[server.port] = (server, ipv6)
        self._busy_at[server.port] = self._clock()
        return server

    async def _reopen(self, record: MeetingRecord) -> bool:
        try:
            server = await self._open(record.port, record.ipv6)
            rid, lifetime = room_id(record), int(record.expires_at - self._clock())
            seat = server.rooms.create(rid, record.room, record.size, lifetime)
            server.rooms.leave(rid, seat.peer_id)
        except OSError as exc:
            record.state, record.note = UNAVAILABLE, (
                f"Could not reopen: port {record.port} on this computer is taken "
                f"({exc.strerror or exc}), probably by another program. Close it and restart "
                "PeerMeet, or start a new meeting and send its link."
            )  # fmt: skip
            return False
        except PeerMeetError as exc:
            record.state, record.note = UNAVAILABLE, f"Could not reopen: {exc}"
            return False
        record.state, record.note = LIVE, ""
        record.owner_token, record.expires_at = seat.room.owner_token, seat.room.expires_at
        self._readdress(record)
        return True

    def _readdress(self, record: MeetingRecord) -> None:
        """If this computer's network address changed, the old link cannot work: make a new one
        (same room, secret and port) and say so."""
        old = parse_link(record.link)
        host = self._advertise or advertised_host(self._bind_for(record.ipv6))
        if host != old.host and not Link(host, 1, "", "").is_loopback:
            record.link = str(Link(host, old.port, old.room, old.secret))
            record.note = (
                f"This computer's network address changed (it was {old.host}), so the link "
                "changed too: send the new one."
            )

    def _rebury(self, record: MeetingRecord, now: float) -> None:
        """After a restart, make a late joiner of an ended meeting hear "ended" again."""
        if record.expires_at + TOMBSTONE_S < now:
            return
        rooms = self._servers[record.port][0].rooms
        with contextlib.suppress(PeerMeetError):
            seat = rooms.create(room_id(record), record.room, record.size, MIN_LIFETIME_S)
            rooms.end(seat.room.room_id, seat.room.owner_token)

    async def _control(self, record: MeetingRecord, extend_s: int | None) -> float | None:
        """End (``extend_s`` None) or extend a room on an outside rendezvous; the new expiry."""
        link = parse_link(record.link)
        client = await self._connect(link.rendezvous_url, self._timeout)
        try:
            await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
            if extend_s is None:
                await client.end(record.owner_token)
            else:
                await client.extend(record.owner_token, extend_s)
            async with asyncio.timeout(self._timeout):
                while (msg := await client.recv()) is not None:
                    if isinstance(msg, protocol.Error):
                        raise refusal(msg.code)
                    if isinstance(msg, protocol.Extended) and extend_s is not None:
                        return msg.expires_at
                    if isinstance(msg, protocol.RoomEnded) and extend_s is None:
                        return None
        except TimeoutError:
            raise RendezvousUnreachable("The rendezvous did not confirm in time.") from None
        finally:
            await client.close()
        if extend_s is None:
            return None
        raise RendezvousUnreachable("The rendezvous closed the connection before confirming.")

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.get_running_loop().create_task(
                self._sweep_loop(), name="host-sweeper"
            )

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                self.sweep()
                await self._close_idle_servers()
            except Exception:
                log.exception("sweeping My meetings failed")

    async def _close_idle_servers(self) -> None:
        now = self._clock()
        live_ports = {r.port for r in self.store.records if r.embedded and r.is_live(now)}
        for port in list(self._servers):
            if port in live_ports:
                self._busy_at[port] = now
            elif now - self._busy_at.get(port, now) >= IDLE_CLOSE_S:
                server, _ = self._servers.pop(port)
                log.info("closing the idle rendezvous on port %d", port)
                await server.close()


def _free_dual_stack_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
        return int(sock.getsockname()[1])
