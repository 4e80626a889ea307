"""The one place that touches aiohttp: a tiny text-only websocket adapter.

Everything else in PeerMeet speaks ``WsConnection`` (send/receive text, close), so the
rendezvous server and the signaling client stay testable and the HTTP library can be
swapped in one file. The adapter also enforces the transport rules shared by both
sides: text frames only, no compression, and frames bounded to the protocol's size
limit (plus a small margin so the server can still answer "too_large" politely).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web

from app.errors import ProtocolError, RendezvousUnreachable, UntrustedCertificate
from app.net import protocol

log = logging.getLogger(__name__)

#: Largest websocket frame accepted; anything above is closed by aiohttp with code 1009.
FRAME_LIMIT = protocol.MAX_MESSAGE_BYTES + 4096
#: How long a close handshake may take before the socket is simply dropped.
CLOSE_TIMEOUT = 2.0
#: A connection that failed because no computer answered at the address (on a LAN: the
#: host's computer is off or asleep; a firewall that rejects says the same)
_NOBODY_THERE = frozenset({errno.EHOSTUNREACH, errno.EHOSTDOWN})
#: the reason (in words) when the address's host name is not found (DNS)
NOT_FOUND = "host name not found"
_NOBODY = "no computer answers there: it may be off or asleep, or a firewall blocks it"
_REFUSED, _NO_ANSWER = "connection refused", "no answer in time"
#: reasons that mean nothing at the address took the connection (not: something else did)
_SILENT = frozenset({_REFUSED, _NO_ANSWER, _NOBODY})
#: A TCP connection that has not completed an HTTP request by then is dropped (slowloris).
HANDSHAKE_TIMEOUT = 10.0
#: A websocket that brought nothing for this long is pinged (a protocol ping, which every
#: websocket answers); without an answer in half that time it is taken as gone. Without it, a
#: path that went silent (a network change, a server that lost power, a laptop waking on
#: another network) is noticed only when TCP gives up, after many minutes.
HEARTBEAT_S = 8.0
#: the server's: a client that sent nothing for this long (they ping every 15 s) is pinged
SERVER_HEARTBEAT_S = 20.0

#: OpenSSL's reasons for a handshake answered by a server that speaks no TLS (plain HTTP)
_PLAIN_TEXT_REPLIES = frozenset(
    {"WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE", "HTTP_REQUEST"}
)

_Ws = web.WebSocketResponse | aiohttp.ClientWebSocketResponse


class WsConnection:
    """One open websocket. Not safe for two concurrent ``recv_text`` calls."""

    def __init__(
        self,
        ws: _Ws,
        remote: str,
        session: aiohttp.ClientSession | None = None,
        local: str = "",
    ) -> None:
        self._ws = ws
        self._session = session
        self.remote = remote
        self.local = local  # (a server's: the address the client reached; "" if not known)

    @property
    def closed(self) -> bool:
        return self._ws.closed

    @property
    def went_silent(self) -> bool:
        """Whether it closed because the far end stopped answering (the heartbeat), not
        because it was closed or reset: the path went dead, most likely our own network."""
        return isinstance(self._ws.exception(), aiohttp.ServerTimeoutError)

    async def send_text(self, text: str) -> None:
        """Send one text frame; raise RendezvousUnreachable if the connection is gone."""
        try:
            await self._ws.send_str(text)
        except (ConnectionError, RuntimeError, aiohttp.ClientError) as exc:
            raise RendezvousUnreachable(f"The connection was lost ({exc}).") from None

    async def recv_text(self, timeout: float | None = None) -> str | None:  # noqa: ASYNC109
        """Next text frame; None once closed; TimeoutError; ProtocolError for bad frames."""
        if self._ws.closed:
            return None  # aiohttp raises after a few reads on a closed socket
        async with asyncio.timeout(timeout):
            msg = await self._ws.receive()
        if msg.type is aiohttp.WSMsgType.TEXT:
            return str(msg.data)
        if msg.type is aiohttp.WSMsgType.BINARY:
            raise ProtocolError("binary websocket frames are not allowed")
        if msg.type is aiohttp.WSMsgType.ERROR and isinstance(msg.data, aiohttp.WebSocketError):
            # aiohttp already closed the socket (oversize frame, invalid UTF-8, ...).
            raise ProtocolError(f"websocket protocol violation: {msg.data}")
        return None  # CLOSE / CLOSING / CLOSED / transport error: the connection is gone

    async def close(self, grace: float = CLOSE_TIMEOUT) -> None:
        """Close the socket and the client session, if any. Idempotent.

        The close handshake may take ``grace`` seconds; after that (or at once with 0, for a
        peer that stopped reading) the socket is simply dropped.
        """
        if grace <= 0:  # it stopped reading: no close handshake, just drop the socket
            self.abort()
        else:
            try:
                async with asyncio.timeout(grace):
                    await self._ws.close()
            except (TimeoutError, ConnectionError, aiohttp.ClientError, RuntimeError) as exc:
                log.debug("websocket close to %s: %r", self.remote, exc)
                self.abort()
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def abort(self) -> None:
        """Drop the socket now, with what is still unsent: a plain close would wait for a peer
        that stopped reading to take it (the socket stayed open, uncounted, for good)."""
        transport = getattr(getattr(self._ws, "_writer", None), "transport", None)
        if transport is not None:
            transport.abort()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return _NO_ANSWER
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return f"it answered, but not as a PeerMeet rendezvous: HTTP {exc.status}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"its https certificate is not valid: {_certificate_problem(exc)}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return "the secure (https) connection failed"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return NOT_FOUND
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return _REFUSED
        # (asyncio's own text is "Connect call failed ('192.0.2.9', 8765)": the errno says it)
        number = exc.os_error.errno
        if number in _NOBODY_THERE:
            return _NOBODY
        if number == errno.ENETUNREACH:  # (this computer has no way to that network)
            return "this computer has no route to that network: is it online?"
        if number is not None and number > 0:
            return os.strerror(number).lower()
        return exc.strerror or type(exc.os_error).__name__
    if isinstance(exc, aiohttp.InvalidURL | ValueError):
        return "invalid address"
    return str(exc) or type(exc).__name__


def untrusted(where: str, reason: str, address: str = "the link's address") -> UntrustedCertificate:
    """The rendezvous at ``where`` showed a certificate not trusted, for ``reason``; what to
    check first is ``address`` (a guest's link; the host's own, the server's)."""
    return UntrustedCertificate(
        f"The server at {where} showed a certificate this computer does not trust ({reason}), "
        "so PeerMeet did not connect: it may not be the server it claims to be. Check "
        f"{address}; if it is right, whoever runs that server must give it a certificate from "
        "a public authority such as Let's Encrypt.",
        where=where,
        reason=reason,
    )


def _certificate_problem(exc: aiohttp.ClientConnectorCertificateError) -> str:
    """OpenSSL's reason ("self-signed certificate", "certificate has expired", …)."""
    cert_error = exc.certificate_error
    return str(getattr(cert_error, "verify_message", "") or cert_error)


def _speaks_no_tls(exc: aiohttp.ClientSSLError) -> bool:
    """The TLS handshake was answered in plain text: the server does not use TLS at all (not
    a certificate problem, which must never be stepped around)."""
    os_error = getattr(exc, "os_error", None)
    return isinstance(os_error, ssl.SSLError) and os_error.reason in _PLAIN_TEXT_REPLIES


async def ws_connect(
    url: str,
    timeout: float,  # noqa: ASYNC109
    heartbeat: float = HEARTBEAT_S,
) -> WsConnection:
    """Open a websocket to ``url`` within ``timeout`` seconds or raise RendezvousUnreachable.
    Once open, it closes itself (``recv_text`` returns None) if the server goes silent and
    does not answer a ping (``heartbeat``, see HEARTBEAT_S).

    A ``wss://`` URL whose server turns out to speak no TLS (a host's own rendezvous, reached
    by the https form of its link) is tried once more as ``ws://``. That costs no secrecy the
    signaling relies on: it is sealed end to end, and the server sees the same room id and
    opaque blobs either way; only an onlooker on the path sees them too, as on a LAN link.
    """
    parts = urlsplit(url)
    where = parts.netloc or url
    deadline = asyncio.get_running_loop().time() + timeout
    session = aiohttp.ClientSession()
    try:
        try:
            ws = await _open(session, url, deadline, heartbeat)
        except aiohttp.ClientSSLError as exc:
            if parts.scheme != "wss" or not _speaks_no_tls(exc):
                raise
            log.info("%s speaks no TLS; trying its plain websocket", where)
            plain = urlunsplit(parts._replace(scheme="ws"))
            ws = await _open(session, plain, deadline, heartbeat)
    except aiohttp.ClientConnectorCertificateError as exc:
        await session.close()
        raise untrusted(where, _certificate_problem(exc)) from None
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as exc:
        await session.close()
        reason = _describe(exc)
        raise RendezvousUnreachable(
            _unreachable(where, reason, parts.scheme == "wss"), where=where, reason=reason
        ) from None
    except BaseException:
        await session.close()
        raise
    return WsConnection(ws, parts.hostname or "", session)


def _unreachable(where: str, reason: str, server: bool) -> str:
    """What a guest reads when the rendezvous at ``where`` cannot be reached. ``server``: an
    https link (wss), a standalone rendezvous on a server; a host's own app hands out
    peermeet:// links (ws), and then it is the host's computer or PeerMeet that is away."""
    if not server:  # (the dialog shows what follows the colon under its headline)
        said = "nothing is answering at" if reason in _SILENT else "PeerMeet could not connect to"
        return (
            f"Cannot reach the meeting host: {said} {where} ({reason}). "
            "Check the link, or ask the host whether PeerMeet is still running."
        )
    if reason == NOT_FOUND:
        return (
            f"Cannot find the meeting's server {where} ({reason}). Check the link, and that "
            "this computer is online."
        )
    return (
        f"The meeting's server at {where} is not answering ({reason}): it may be down. "
        "Try again in a few minutes, or ask the host whether the meeting has moved."
    )


async def _open(
    session: aiohttp.ClientSession, url: str, deadline: float, heartbeat: float
) -> aiohttp.ClientWebSocketResponse:
    async with asyncio.timeout_at(deadline):
        return await session.ws_connect(
            url,
            autoping=True,
            heartbeat=heartbeat,
            compress=0,
            max_msg_size=FRAME_LIMIT,
            timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT),
        )


Handler = Callable[[WsConnection], Awaitable[None]]


class WsServer:
    """Serve ``handler`` for each websocket on ``path``, plus ``/`` and ``/healthz``."""

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        path: str = "/ws",
        *,
        frame_limit: int = FRAME_LIMIT,
        status: Callable[[], dict[str, Any]] | None = None,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        trusted_proxies: frozenset[str] = frozenset(),
        ssl_context: ssl.SSLContext | None = None,
        heartbeat: float = SERVER_HEARTBEAT_S,
    ) -> None:
        self._handler = handler
        self._heartbeat = heartbeat  # a silent client is pinged, and dropped without an answer
        self._ssl = ssl_context  # https/wss (None: plain http/ws)
        self._handshake_timeout = handshake_timeout
        #: reverse proxies whose X-Forwarded-For names the real client (for per-IP limits)
        self._trusted_proxies = trusted_proxies
        self._host, self._port, self._path = host, port, path
        self._frame_limit = frame_limit
        self._status = status or dict
        self._conns: set[WsConnection] = set()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get(self._path, self._on_ws)
        app.router.add_get("/", self._on_index)
        app.router.add_get("/healthz", self._on_health)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=2.0,
            keepalive_timeout=self._handshake_timeout,  # also closes silent half-open sockets
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def _on_index(self, request: web.Request) -> web.Response:
        return web.Response(text="PeerMeet rendezvous\n")

    async def _on_health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", **self._status()})

    async def _on_ws(self, request: web.Request) -> web.StreamResponse:
        if self._closing:
            return web.Response(status=503, text="shutting down\n")
        ws = web.WebSocketResponse(
            autoping=True,
            compress=False,
            max_msg_size=self._frame_limit,
            timeout=CLOSE_TIMEOUT,
            heartbeat=self._heartbeat,
        )
        try:
            await ws.prepare(request)
        except (ConnectionError, aiohttp.ClientError) as exc:  # it gave up before our answer
            log.debug("websocket from %s gone before the handshake: %s", request.remote, exc)
            return ws
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        local = str(sockname[0]) if sockname else ""
        conn = WsConnection(ws, self._client_address(request), local=local)
        self._conns.add(conn)
        try:
            await self._handler(conn)
        except Exception:
            log.exception("websocket handler for %s failed", conn.remote)
        finally:
            self._conns.discard(conn)
            await conn.close()
        return ws

    def _client_address(self, request: web.Request) -> str:
        remote = request.remote or ""
        forwarded = request.headers.get("X-Forwarded-For", "")
        if remote in self._trusted_proxies and forwarded:
            return forwarded.split(",")[-1].strip()[:64]  # the hop our proxy saw
        return remote

    async def close(self) -> None:
        """Close every live connection, then stop listening. Idempotent."""
        self._closing = True
        await asyncio.gather(*(c.close() for c in list(self._conns)))
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
