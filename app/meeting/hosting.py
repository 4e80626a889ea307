"""HostService: the meetings this user hosts, behind "Start meeting" and "My meetings".

For "This computer" it runs embedded rendezvous servers (one per port, shared by every room
on it) and creates each room directly in the server's registry, then frees the creator's seat:
the room exists empty and the host's own app joins it by link like everyone else. For an
outside rendezvous it creates the room over the wire and keeps only the owner token.

Records live in a MeetingStore, so after a restart ``resume()`` reopens rooms still within
their lifetime on the SAME port (old links keep working) or records plainly why it cannot.
Owns its servers (app.meeting.host_servers) and one sweeper task; ``close()`` is idempotent.
Rooms on an outside rendezvous are handled over the wire by app.meeting.host_remote; if that
server lost one (restarted without --state), the host's call opens it again and hands back the
new owner token (``reopened``; app.meeting.reopening), and so does +1 hour.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from app.errors import PeerMeetError, RendezvousUnreachable, RoomEnded, RoomRefused
from app.meeting import reopening
from app.meeting.host_remote import Connect, RemoteRooms
from app.meeting.host_resume import rebury, reopen
from app.meeting.host_servers import ServerPool, room_id
from app.meeting.host_watch import CHECK_S, NOT_OURS, RETRY_S, RoomWatch, taken
from app.meeting.links import DEFAULT_PORT, Link, new_secret, parse_link, parse_rendezvous, slugify
from app.meeting.store import ENDED, EXPIRED, LIVE, UNAVAILABLE, MeetingRecord, MeetingStore
from app.net.addresses import advertised_host
from app.net.periodic import Periodic
from app.net.rendezvous import RendezvousServer
from app.net.rooms import CAPACITY, DEFAULT_LIFETIME_S, MIN_LIFETIME_S
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient

GONE = ("room_expired", "room_ended", "no_such_room")  # refusals that mean the room is over
LOST_NOTE = (
    "The rendezvous server no longer has this meeting (restarted without its rooms?): "
    "its link does not work. Start a new meeting."
)

EXTEND_S = 3600
#: +1 hour on a meeting its server lost while this app's call is in it: the call opens it again
REOPENING_IN_CALL = (
    "The meeting's server lost this meeting (was it restarted?), and your call is opening it "
    "again. Try +1 hour again in a few seconds."
)


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
        watch: tuple[float, float] = (CHECK_S, RETRY_S),  # outside meetings checked every …
    ) -> None:
        self.store = store
        self._clock, self._advertise, self._random = clock, advertise, random
        self._servers = ServerPool(clock, bind, preferred_port)
        self._remote = RemoteRooms(connect, timeout)
        self._listeners: list[Callable[[], None]] = []
        self._sweeper = Periodic(self._sweep_step, sweep_interval, "host-sweeper")
        self._watch = RoomWatch(self._remote, clock, *watch)
        #: True while this app's own call is in the meeting of ``link`` (its join included):
        #: that call opens the room again if its server lost it, so RoomWatch leaves it alone
        self.in_call: Callable[[str], bool] = lambda link: False

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
        return (entry[0], self._servers.bind_for(entry[1])) if entry is not None else None

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
            rendezvous = base.server  # a pasted meeting link: its server, not its room or key
            link = Link(base.host, base.port, room, secret, secure=base.secure)
            token, expires_at = await self._remote.create(link, size, lifetime_s)
        else:
            server = await self._servers.for_new_room(ipv6)
            seat = server.rooms.create(keys.room_id, room, size, lifetime_s)
            server.rooms.leave(keys.room_id, seat.peer_id)
            link = Link(self._address(ipv6), server.port, room, secret)
            token, expires_at = seat.room.owner_token, seat.room.expires_at
        record = MeetingRecord(
            str(link), title.strip(), room, size, now, expires_at, rendezvous.strip(),
            link.port, ipv6, token, lan=lan,
        )  # fmt: skip
        self.store.put(record)
        self._changed()
        self._ensure_sweeper()
        return record

    async def end(self, link: str, *, told: bool = False) -> MeetingRecord:
        """End the meeting for everyone (those in it are told) and mark it ended; ``told``: the
        rendezvous was already told (from inside the call): only mark it."""
        record = self._find(link)
        if record.state in (ENDED, EXPIRED):
            return record
        if record.is_live(self._clock()) and not told:
            try:
                if not record.embedded:
                    async with self._watch.lock(link):  # (with the token a check brings)
                        await self._remote.end(record)
                elif (entry := self._servers.get(record.port)) is not None:
                    server = entry[0]
                    server.end_room(room_id(record), record.owner_token)
            except RoomRefused as exc:
                self._unless_taken(record, exc)
                if exc.code not in GONE:
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
            try:
                async with self._watch.lock(link):  # (with the token a check brings)
                    record.expires_at = await self._extend_remote(record, seconds)
            except RoomRefused as exc:  # the rendezvous no longer has it: so be it here too
                self._unless_taken(record, exc)
                if exc.code not in GONE:
                    raise
                self._over(record, exc.code)
        self._save()
        return record

    async def reopen(self, link: str) -> MeetingRecord:
        """Try again to reopen a meeting that could not be at start (its port was taken)."""
        record = self._find(link)
        if record.state == UNAVAILABLE and record.embedded:
            if record.expires_at - self._clock() < MIN_LIFETIME_S:
                record.state, record.note = EXPIRED, ""
            elif await reopen(record, self._servers, self._clock, self._address):
                self._ensure_sweeper()
            self._save()
        return record

    def reopened(self, link: str, owner_token: str, expires_at: float) -> None:
        """The call of a meeting on an outside rendezvous opened its room again (the server
        had lost it: app.meeting.reopening): keep the new owner token, so My meetings can still
        extend and end it (and it is live again, if an extension from My meetings just found
        it gone). A meeting ended or forgotten meanwhile is left as it is."""
        record = self.store.find(link)
        if record is None or record.embedded or record.state == ENDED or not owner_token:
            return
        record.owner_token, record.expires_at = owner_token, expires_at
        record.state, record.note, record.taken = LIVE, "", False
        self._save()

    def taken_over(self, link: str) -> None:
        """The call of an outside meeting heard that someone else opened its room again (its
        create refused as "room exists": app.meeting.rejoin): mark it taken now, as a refused
        End or +1 hour would later (RoomWatch leaves a meeting to its call, so that was not
        this app's own check)."""
        record = self.store.find(link)
        if record is None or record.embedded or record.state != LIVE or record.taken:
            return
        taken(record)  # (the error it returns is for End and +1 hour: not raised here)
        self._save()

    def over(self, link: str, code: str) -> None:
        """The rendezvous answered ``code`` (one of GONE) for an outside meeting: mark it so."""
        record = self.store.find(link)
        if record is not None and record.state == LIVE:
            self._over(record, code)
            self._save()

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
            elif await reopen(record, self._servers, self._clock, self._address):
                reopened.append(record)
        for record in self.store.records:
            if record.state == ENDED and record.embedded and record.port in self._servers:
                rebury(record, self._servers, now)
        self._save()
        if self._servers or reopened:  # (an outside meeting's end is marked by the sweeper too)
            self._ensure_sweeper()
        return reopened

    async def close(self) -> None:
        """Stop the sweeper and every embedded server. Records stay for ``resume()``."""
        if self._servers.closed:
            return
        self._servers.closed = True  # no new server from here on
        await self._sweeper.stop()
        await self._watch.close()
        await self._servers.close()

    # --- internals -----------------------------------------------------------------------------
    async def _extend_remote(self, record: MeetingRecord, seconds: int) -> float:
        """Extend a meeting on an outside rendezvous; one the server lost (restarted without
        --state) is opened again first, until its old expiry (app.meeting.reopening)."""
        try:
            return await self._remote.extend(record, seconds) or record.expires_at
        except RoomRefused as exc:
            if exc.code != "no_such_room":
                raise
        if self.in_call(record.link):  # one owner per re-create: the call's own (a second
            raise PeerMeetError(REOPENING_IN_CALL)  # would have it told "someone else took it")
        left = reopening.lifetime(record.expires_at, self._clock())  # (or "room_expired")
        token, expires_at = await self._remote.create(parse_link(record.link), record.size, left)
        self.reopened(record.link, token, expires_at)  # (ours again, if it was someone else's)
        return await self._remote.extend(record, seconds) or record.expires_at

    def _unless_taken(self, record: MeetingRecord, refused: RoomRefused) -> None:
        """End or +1 hour on an outside meeting refused as not ours (someone else opened it
        again after its server lost it): mark it taken (My meetings offers to remove it) and
        raise the error that says so."""
        if refused.code in NOT_OURS and not record.embedded:
            error = taken(record)
            self._save()
            raise error from None

    @staticmethod
    def _over(record: MeetingRecord, code: str) -> None:
        record.state = ENDED if code == "room_ended" else EXPIRED
        record.note = "" if code != "no_such_room" else LOST_NOTE

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

    def _address(self, ipv6: bool) -> str:
        """The host to put in links to the embedded server."""
        return self._advertise or advertised_host(self._servers.bind_for(ipv6))

    def _ensure_sweeper(self) -> None:
        if not self._servers.closed:
            self._sweeper.start()

    async def _sweep_step(self) -> None:
        self.sweep()
        self._watch.look(self)  # (outside meetings: checked in tasks of their own)
        now = self._clock()
        live = {r.port for r in self.store.records if r.embedded and r.is_live(now)}
        await self._servers.close_idle(live)
