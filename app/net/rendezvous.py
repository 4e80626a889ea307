"""The rendezvous server: meets peers by room id and relays sealed blobs it cannot read.

It is deliberately dumb. Peers derive the room id from the link secret and seal every
signaling message (see ``app.net.seal``), so the server only routes: who is in which
room, and "forward this opaque blob to that member". It keeps everything in memory and
forgets a room when it ends or expires (bar a tombstone so late joiners get a clear
answer).

Robustness rules, since anyone on the internet can connect:

* one task per connection (the web server's) that never raises out, plus one writer task per
  connection draining a bounded queue - a slow reader gets dropped, it never stalls others;
* hard limits: message size, token-bucket rate, join deadline, idle timeout, max rooms;
* per address (app.net.limits): connections, new connections per second, live rooms; per
  client: queued bytes. Silent or half-finished HTTP handshakes are dropped (wsio);
* any malformed input gets an ``Error`` and the connection is closed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import ProtocolError, RoomRefused, StorageError, refusal
from app.net import protocol, roomstate
from app.net.addresses import same_computer
from app.net.iceservers import TurnIssuer
from app.net.knockdesk import KnockDesk, serve_knock
from app.net.limits import SERVER_FULL, AddressLimits
from app.net.periodic import Periodic
from app.net.rooms import Room, Rooms, TokenBucket
from app.net.rvsession import Session
from app.net.wsio import (
    FRAME_LIMIT,
    HANDSHAKE_TIMEOUT,
    SERVER_HEARTBEAT_S,
    WsConnection,
    WsServer,
)

log = logging.getLogger(__name__)

_TO_SERVER = (
    protocol.Create,
    protocol.Join,
    protocol.Relay,
    protocol.Leave,
    protocol.End,
    protocol.Extend,
    protocol.Manage,
    protocol.Ping,
    protocol.Knock,
    protocol.KnockV1,
    protocol.KnockReveal,
)


class RendezvousServer:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_rooms: int = 1000,
        max_message_bytes: int = protocol.MAX_MESSAGE_BYTES,
        rate: tuple[float, float] = (50.0, 200.0),
        idle_timeout: float = 60.0,
        join_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sweep_interval: float = 1.0,
        queue_size: int = 256,
        send_timeout: float = 5.0,
        queue_bytes: int = 1 << 18,
        limits: AddressLimits | None = None,
        turn: TurnIssuer | None = None,
        trusted_proxies: frozenset[str] = frozenset(),
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        heartbeat: float = SERVER_HEARTBEAT_S,
        state_path: Path | None = None,
        ssl_context: ssl.SSLContext | None = None,
        own_rooms_only: bool = False,
    ) -> None:
        self.rooms = Rooms(clock=clock, max_rooms=max_rooms)
        #: where rooms are kept across restarts (app.net.roomstate); None: in memory only
        self.state_path = state_path
        self._saved_revision = -1
        self._save_failing = False  # (said once per run of failures)
        self._max_bytes = max_message_bytes
        self._rate = rate
        self._idle_timeout, self._join_timeout = idle_timeout, join_timeout
        self._queue_size, self._send_timeout = queue_size, send_timeout
        self._queue_bytes = queue_bytes
        self.limits = limits or AddressLimits()
        #: a host app's own: rooms are created only from this computer (its app makes them)
        self.own_rooms_only = own_rooms_only
        #: hands joined members short-lived TURN credentials (``turn`` before ``joined``)
        self.turn = turn
        self._sessions: dict[tuple[str, str], Session] = {}  # (room id, peer id) -> session
        frame_limit = max(FRAME_LIMIT, max_message_bytes + 4096)
        self._ws = WsServer(
            self._serve,
            host,
            port,
            frame_limit=frame_limit,
            status=self._status,
            trusted_proxies=trusted_proxies,
            handshake_timeout=handshake_timeout,
            heartbeat=heartbeat,  # a client whose path went silent is dropped within 1.5x
            ssl_context=ssl_context,  # wss:// (peermeet-rendezvous --tls-cert/--tls-key)
        )
        self._sweeper = Periodic(self._sweep, sweep_interval, "rv-sweeper")
        self._closed = False
        self.on_relay: Callable[[str, str], None] | None = None
        #: knock-to-join for LAN guests without the link; None answers ``no_knock``
        self.knocks: KnockDesk | None = None
        self.port = port

    @property
    def room_count(self) -> int:
        return len(self.rooms)

    async def start(self) -> int:
        if self.state_path is not None:
            restored = roomstate.load(self.rooms, self.state_path)
            log.info("%d rooms restored from %s", restored, self.state_path)
        self.port = await self._ws.start()  # (a second server on a taken port stops here,
        if self.state_path is not None:  # before it rewrites the first one's state file)
            try:  # now, not at the first room: a server that cannot keep its rooms says so
                roomstate.save(self.rooms, self.state_path)
            except OSError as exc:
                await self._ws.close()
                raise StorageError(
                    f"Cannot write the room state file {self.state_path} ({exc}). Pick a "
                    "folder this user may write to, or run without --state."
                ) from None
            self._saved_revision = self.rooms.revision
        self._sweeper.start()
        log.info("rendezvous listening on port %d", self.port)
        return self.port

    async def close(self) -> None:
        """Stop sweeping, close every connection and the listener. Idempotent."""
        if self._closed:
            return
        self._closed = True
        await self._sweeper.stop()
        self._keep_state()
        await self._ws.close()

    def _keep_state(self) -> None:
        """Write the rooms to the state file if they changed since it was last written."""
        path, revision = self.state_path, self.rooms.revision
        if path is None or revision == self._saved_revision:
            return
        try:
            roomstate.save(self.rooms, path)
        except OSError as exc:
            if not self._save_failing:  # once, not every sweep: tried again at each one
                log.warning("cannot save the room state to %s (%s); will keep trying", path, exc)
            self._save_failing = True
            return
        if self._save_failing:
            log.warning("the room state is saved to %s again", path)
        self._saved_revision, self._save_failing = revision, False

    def _status(self) -> dict[str, Any]:
        return {
            "rooms": len(self.rooms),
            "peers": len(self._sessions),
            "connections": self.limits.connections,
        }

    # --- per connection ------------------------------------------------------------------------

    async def _serve(self, conn: WsConnection) -> None:
        session = Session(conn, self._queue_size, self._send_timeout, self._queue_bytes)
        refused = self.limits.connect(conn.remote)
        try:
            if refused is None:
                await self._converse(session)
            else:
                log.info("refusing %s: %s", conn.remote, refused)
                session.fail("server_full" if refused == SERVER_FULL else "address_limit", refused)
        except Exception:
            log.exception("connection from %s failed", conn.remote)
        finally:
            if refused is None:
                self.limits.disconnect(conn.remote)
            self._depart(session)
            await session.wait_closed()

    async def _converse(self, session: Session) -> None:
        bucket = TokenBucket(*self._rate)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._join_timeout
        while not session.closing:
            joined = bool(session.peer_id)
            wait = self._idle_timeout if joined else max(0.0, deadline - loop.time())
            try:
                text = await session.conn.recv_text(wait)
            except TimeoutError:
                return session.fail("idle", "" if joined else "no create/join in time")
            except ProtocolError as exc:
                return session.fail("bad_message", str(exc))
            if text is None or session.closing:
                return
            if not bucket.allow():
                return session.fail("rate_limited")
            if len(text) > self._max_bytes or len(text.encode()) > self._max_bytes:
                return session.fail("too_large", f"limit is {self._max_bytes} bytes")
            try:
                msg = protocol.decode("rv", text)
            except ProtocolError as exc:
                return session.fail("bad_message", str(exc))
            if not isinstance(msg, _TO_SERVER):
                return session.fail("bad_message", f"{msg.TYPE} is not sent to the server")
            if isinstance(msg, protocol.Knock | protocol.KnockV1 | protocol.KnockReveal):
                return await serve_knock(self.knocks, session, msg)
            try:
                self._dispatch(session, msg)
            except RoomRefused as exc:
                log.info("refused %s: %s", session.conn.remote, exc.code)
                session.send(protocol.Error(exc.code, str(exc)))

    def _dispatch(self, session: Session, msg: protocol.Message) -> None:
        if isinstance(msg, protocol.Ping):
            session.send(protocol.Pong())
            return
        if isinstance(msg, protocol.Create | protocol.Join):
            if session.peer_id:
                raise refusal("bad_request", "already in a room")
            return self._admit(session, msg)
        if isinstance(msg, protocol.Manage):
            if session.peer_id:
                raise refusal("bad_request", "already in a room")
            return self._manage(session, msg)
        room = self.rooms.get(session.room_id) if session.peer_id else None
        if room is None or session.peer_id not in room.members:
            raise refusal("not_joined")
        if isinstance(msg, protocol.Relay):
            self._relay(session, room, msg)
        elif isinstance(msg, protocol.Leave):
            self._depart(session)
            session.finish()
        elif isinstance(msg, protocol.End):
            self.end_room(room.room_id, msg.owner_token)
        elif isinstance(msg, protocol.Extend):
            self.extend_room(room.room_id, msg.owner_token, msg.seconds)

    def end_room(self, room_id: str, owner_token: str) -> Room:
        """End a room now (owner only): members are told and disconnected. RoomRefused if not."""
        room = self.rooms.end(room_id, owner_token)
        self._kick(room, "ended")
        return room

    def extend_room(self, room_id: str, owner_token: str, seconds: int) -> Room:
        """Extend a room's lifetime (owner only) and tell its members the new expiry."""
        room = self.rooms.extend(room_id, owner_token, seconds)
        self._broadcast(room, protocol.Extended(room.expires_at))
        return room

    def _manage(self, session: Session, msg: protocol.Manage) -> None:
        """End or extend a room for its owner, who is not in it; answer, then hang up (a
        refusal too: one try per connection, so owner tokens cannot be guessed at speed)."""
        try:
            if msg.action == "end":
                self.end_room(msg.room, msg.owner_token)
                session.send(protocol.RoomEnded("ended"))
            elif msg.action == "extend":
                room = self.extend_room(msg.room, msg.owner_token, msg.seconds)
                session.send(protocol.Extended(room.expires_at))
            else:
                raise refusal("bad_request", f"no such action {msg.action[:20]!r}")
            log.info("%s room %s… from outside", msg.action, msg.room[:6])
        except RoomRefused as exc:
            session.send(protocol.Error(exc.code, str(exc)))
        session.finish()

    def _admit(self, session: Session, msg: protocol.Create | protocol.Join) -> None:
        if isinstance(msg, protocol.Create):
            conn = session.conn
            if self.own_rooms_only and not same_computer(conn.remote, conn.local):
                raise refusal("not_here")
            if not self.limits.may_create(session.conn.remote, self._live):
                raise refusal("address_limit", "too many meetings from one address")
            room, peer_id = self.rooms.create(msg.room, msg.hint, msg.size, msg.lifetime_s)
            self.limits.created(room.room_id, session.conn.remote)
            token: str | None = room.owner_token
        else:
            room, peer_id = self.rooms.join(msg.room, msg.hint)
            token = None
        session.room_id, session.peer_id = room.room_id, peer_id
        self._sessions[room.room_id, peer_id] = session
        others = tuple(p for p in room.members if p != peer_id)
        if self.turn is not None:
            session.send(self.turn.issue(peer_id))
        session.send(protocol.Joined(peer_id, others, room.capacity, room.expires_at, token))
        self._broadcast(room, protocol.PeerJoined(peer_id), exclude=peer_id)
        count = f"{len(room.members)}/{room.capacity}"
        log.info("%s: %s room %s… (%s)", peer_id, msg.TYPE, room.room_id[:6], count)

    def _relay(self, session: Session, room: Room, msg: protocol.Relay) -> None:
        if msg.to is not None and (msg.to not in room.members or msg.to == session.peer_id):
            raise refusal("not_joined", f"peer {msg.to!r} is not in this room")
        try:
            text = protocol.Relayed(session.peer_id, msg.blob).encode()
        except ProtocolError:
            raise refusal("too_large") from None
        if self.on_relay is not None:
            self.on_relay(room.room_id, msg.blob)
        if msg.to is None:
            self._broadcast(room, text, exclude=session.peer_id, relayed=True)
        else:
            self._broadcast(room, text, only=msg.to, relayed=True)

    def _broadcast(
        self,
        room: Room,
        msg: protocol.Message | str,
        *,
        exclude: str | None = None,
        only: str | None = None,
        relayed: bool = False,
    ) -> None:
        text = msg if isinstance(msg, str) else msg.encode()
        dropped: list[Session] = []
        for peer_id in room.members:
            session = self._sessions.get((room.room_id, peer_id))
            if session is None or peer_id == exclude or only not in (None, peer_id):
                continue
            if not session.send(text, relayed):
                dropped.append(session)
        for session in dropped:
            self._depart(session)  # tell the others now, not when its socket finally dies

    def _live(self, room_id: str) -> bool:
        return self.rooms.get(room_id) is not None

    def _kick(self, room: Room, reason: str) -> None:
        """Tell every member the room is over, then close their connections."""
        self._broadcast(room, protocol.RoomEnded(reason))
        for peer_id in room.members:
            session = self._sessions.get((room.room_id, peer_id))
            if session is not None:
                session.finish()
        log.info("room %s… %s with %d members", room.room_id[:6], reason, len(room.members))

    def _depart(self, session: Session) -> None:
        """Forget a session's membership and tell the rest of its room. Idempotent."""
        if not session.peer_id:
            return
        self._sessions.pop((session.room_id, session.peer_id), None)
        room = self.rooms.get(session.room_id)
        if self.rooms.leave(session.room_id, session.peer_id) and room is not None:
            self._broadcast(room, protocol.PeerLeft(session.peer_id))
        session.peer_id = ""

    async def _sweep(self) -> None:
        for room in self.rooms.sweep():
            self._kick(room, "expired")
        self.limits.prune(self._live)
        self._keep_state()  # (a crash loses at most the last sweep interval's changes)
