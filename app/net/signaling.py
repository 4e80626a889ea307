"""Client side of the rendezvous: join a room, exchange sealed blobs, hear who comes and goes.

One websocket per meeting. The client reads only when the caller asks (``create``/``join``
wait for their answer, then ``recv`` yields room events), so there is exactly one
background task: the keepalive that pings every ``keepalive_s`` so the server's idle
timeout and NAT boxes never drop a quiet meeting. Pongs are swallowed; anything
malformed from the server is logged and skipped - a bad server must not crash a meeting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Self

from app.config import IceServer
from app.errors import REFUSAL_TEXT, PeerMeetError, ProtocolError, RendezvousUnreachable, refusal
from app.net import iceservers, protocol
from app.net.wsio import HEARTBEAT_S, WsConnection, ws_connect

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0
MIN_REPLY_S = 1.0  # the least time given to the answer to create/join, however slow the connect


class SignalingClient:
    def __init__(
        self,
        conn: WsConnection,
        *,
        keepalive_s: float = KEEPALIVE_S,
        reply_timeout: float = 10.0,
        budget: float | None = None,
    ) -> None:
        """``budget``: the whole wait a person is told of (``connect``'s timeout; default:
        ``reply_timeout``)."""
        self._conn = conn
        #: who answers, in what a person reads: a guest reaches the host's app (the link's);
        #: the host's My meetings reaches an outside rendezvous server
        self.who = "the meeting host"
        self._reply_timeout = reply_timeout
        self._budget = reply_timeout if budget is None else budget
        self._read_lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._closed = False
        #: short-lived TURN credentials the rendezvous handed us with ``joined``, if any
        self.turn: protocol.TurnCredentials | None = None
        self._keepalive = asyncio.create_task(self._keep_alive(keepalive_s), name="rv-keepalive")

    @classmethod
    async def connect(
        cls,
        url: str,
        timeout: float = 10.0,  # noqa: ASYNC109 - also bounds the wait for create/join answers
        *,
        keepalive_s: float = KEEPALIVE_S,
        heartbeat_s: float = HEARTBEAT_S,
    ) -> Self:
        """Connect to ``ws://host:port/ws``; raise RendezvousUnreachable within ``timeout``,
        which also covers the answer to the create or join that follows (one budget, not two:
        a host that accepts but never answers is reported within ``timeout``). A connection
        whose server goes silent later closes itself after ``heartbeat_s`` and half of it
        (``recv`` returns None, as when it is closed)."""
        started = time.monotonic()
        conn = await ws_connect(url, timeout, heartbeat_s)
        left = max(MIN_REPLY_S, timeout - (time.monotonic() - started))
        return cls(conn, keepalive_s=keepalive_s, reply_timeout=left, budget=timeout)

    @property
    def closed(self) -> bool:
        return self._closed or self._conn.closed

    @property
    def went_silent(self) -> bool:
        """The connection ended because the server stopped answering (see WsConnection)."""
        return self._conn.went_silent

    @property
    def ice_servers(self) -> tuple[IceServer, ...]:
        """The TURN servers the rendezvous offered (with credentials), or none."""
        return iceservers.from_message(self.turn) if self.turn is not None else ()

    async def create(self, room_id: str, hint: str, size: str, lifetime_s: int) -> protocol.Joined:
        """Open a room and enter it as its owner (``Joined.owner_token`` is set)."""
        return await self._enter(protocol.Create(room_id, hint, size, lifetime_s))

    async def join(self, room_id: str, hint: str) -> protocol.Joined:
        return await self._enter(protocol.Join(room_id, hint))

    async def manage(
        self, room_id: str, owner_token: str, extend_s: int | None = None
    ) -> protocol.Message:
        """End (``extend_s`` None) or extend a room from outside it, as its owner; the answer
        (RoomEnded or Extended). Raise RoomRefused if refused (``bad_message`` from a
        rendezvous too old to know this request)."""
        if extend_s is None:
            msg = protocol.Manage(room_id, owner_token, "end", 0)
        else:
            msg = protocol.Manage(room_id, owner_token, "extend", extend_s)
        return await self._answer(msg, (protocol.RoomEnded, protocol.Extended))

    async def relay(self, to: str | None, blob: str) -> None:
        """Send a sealed blob to one peer, or to every other member when ``to`` is None."""
        await self._send(protocol.Relay(to, blob))

    async def end(self, owner_token: str) -> None:
        await self._send(protocol.End(owner_token))

    async def extend(self, owner_token: str, seconds: int) -> None:
        await self._send(protocol.Extend(owner_token, seconds))

    async def recv(self) -> protocol.Message | None:
        """Next room event (PeerJoined, PeerLeft, Relayed, RoomEnded, Extended, Error).

        Returns None once the connection is gone.
        """
        if self._closed:
            return None
        return await self._read()

    async def close(self) -> None:
        """Say goodbye if still connected, stop the keepalive, close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._keepalive.cancel()
        try:  # (a caller cancelled meanwhile is cancelled still, and the socket closed anyway)
            await asyncio.wait({self._keepalive})
            if not self._conn.closed:
                with contextlib.suppress(PeerMeetError, TimeoutError):
                    async with asyncio.timeout(1.0):
                        await self._conn.send_text(protocol.Leave().encode())
        finally:
            await self._conn.close()

    # --- internals ---------------------------------------------------------------------------

    async def _enter(self, msg: protocol.Create | protocol.Join) -> protocol.Joined:
        joined = await self._answer(msg, (protocol.Joined,))
        assert isinstance(joined, protocol.Joined)
        return joined

    async def _answer(
        self, msg: protocol.Message, wanted: tuple[type[protocol.Message], ...]
    ) -> protocol.Message:
        """Send a request and wait for its answer (one of ``wanted``) or its refusal."""
        await self._send(msg)
        try:
            async with asyncio.timeout(self._reply_timeout):
                while True:
                    reply = await self._read()
                    if reply is None:
                        raise RendezvousUnreachable(
                            f"{self.who.capitalize()} closed the connection before answering."
                        )
                    if isinstance(reply, wanted):
                        return reply
                    if isinstance(reply, protocol.Error):
                        log.info("rendezvous refused %s: %s", msg.TYPE, reply.message)
                        raise refusal(reply.code, _detail(reply.code, reply.message))
                    log.debug("ignoring %s before the answer to %s", reply.TYPE, msg.TYPE)
        except TimeoutError:
            raise RendezvousUnreachable(
                f"{self.who.capitalize()} took the connection but did not answer within "
                f"{self._budget:g} s. Try again in a moment; if it keeps happening, "
                "check that the address is a PeerMeet one and is right."
            ) from None

    async def _send(self, msg: protocol.Message) -> None:
        if self._closed:
            raise RendezvousUnreachable(f"The connection to {self.who} is closed.")
        async with self._send_lock:
            await self._conn.send_text(msg.encode())

    async def _read(self) -> protocol.Message | None:
        async with self._read_lock:
            while True:
                try:
                    text = await self._conn.recv_text(None)
                    if text is None:
                        return None
                    msg = protocol.decode("rv", text)
                except ProtocolError as exc:
                    log.warning("skipping malformed message from the rendezvous: %s", exc)
                    continue
                if isinstance(msg, protocol.TurnCredentials):
                    self.turn = msg  # comes just before ``joined``; kept, not returned
                elif not isinstance(msg, protocol.Pong):
                    return msg

    async def _keep_alive(self, interval: float) -> None:
        ping = protocol.Ping().encode()
        try:
            while True:
                await asyncio.sleep(interval)
                async with self._send_lock:
                    await self._conn.send_text(ping)
        except PeerMeetError as exc:
            log.debug("keepalive stopped: %s", exc)


def _detail(code: str, message: str) -> str:
    """What to add to our own text for ``code``: the server's words for unknown codes, its
    detail for a refused request (which value), nothing for the rest."""
    if code not in REFUSAL_TEXT:
        return message[:200]
    if code not in ("bad_message", "bad_request"):
        return ""
    text = REFUSAL_TEXT[code]
    rest = message[len(text) :].strip() if message.startswith(text) else message
    return rest.removeprefix("(").removesuffix(")")[:200]
