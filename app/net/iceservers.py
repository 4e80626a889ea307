"""STUN/TURN servers: URL checks, coturn's short-lived REST credentials, merging server lists.

aiortc uses the first STUN and the first TURN URL of a connection's list and ignores the rest,
so order matters: servers the user named come before those a rendezvous hands out.

Short-lived credentials follow coturn's ``use-auth-secret`` scheme (the "TURN REST API"): the
username is ``EXPIRY:PEER_ID`` (EXPIRY in unix seconds) and the password is
``base64(HMAC-SHA1(secret, username))``. coturn, sharing the secret, checks both without a
database and refuses the username once EXPIRY has passed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import time
from collections.abc import Callable, Iterable, Sequence

from app.config import IceServer
from app.net import protocol

_URL = re.compile(
    r"^(?P<scheme>stun|turns?):(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))"
    r"(?::(?P<port>[0-9]{1,5}))?(?:\?transport=(?P<transport>udp|tcp))?\Z"
)  # ([0-9], not \d: aiortc reads only these, and a port in other digits failed each connection)
#: A credential outlives any room (rooms live at most a day), so a relayed call is never cut
#: off by coturn refusing to refresh its allocation with an expired username.
DEFAULT_TTL_S = 24 * 3600 + 3600


def check_url(url: str) -> str:
    """``url`` as aiortc can use it (scheme and transport in lower case); ValueError says how
    to write it."""
    scheme, colon, rest = url.strip().partition(":")
    address, query, transport = rest.partition("?")
    url = scheme.lower() + colon + address + query + transport.lower()
    match = _URL.match(url)
    port = address.rpartition(":")[2]
    if match is None and port.isdecimal() and not port.isascii():  # "３４７８": an input method's
        raise ValueError(f"“{url}”: write the port in the digits 0-9, like {int(port)}")
    if match is None:
        raise ValueError(
            f"“{url}” is not a STUN/TURN address: write it like stun:stun.example.org:3478, "
            "turn:turn.example.org:3478 (add ?transport=tcp for TCP) or "
            "turns:turn.example.org:5349 (for an IPv6 address, use a host name)"
        )
    host = match["host"]
    labels = host.removesuffix(".").split(".")  # (a trailing dot: an absolute name)
    if any(not label or label.startswith("-") or label.endswith("-") for label in labels):
        raise ValueError(f"“{url}”: {host} is not a host name or IPv4 address")
    if labels[-1].isdigit():  # (no host name ends in a number: an IPv4 address, or a typo)
        try:
            ipaddress.IPv4Address(".".join(labels))
        except ValueError:
            raise ValueError(
                f"“{url}”: {host} is not an IPv4 address (four numbers 0-255, like 192.0.2.10)"
            ) from None
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError(f"“{url}”: the port must be 1..65535")
    if match["scheme"] == "stun" and match["transport"]:
        raise ValueError(f"“{url}”: STUN is always UDP; drop ?transport=")
    if match["scheme"] == "turns" and match["transport"] == "udp":
        raise ValueError(f"“{url}”: TURN over TLS runs on TCP (DTLS is not supported)")
    return url


def user_servers(
    stun: Sequence[str], turn: Sequence[str], username: str | None, password: str | None
) -> tuple[IceServer, ...]:
    """The servers named on the command line or in settings, checked."""
    if turn and not (username and password):
        raise ValueError(
            "a TURN server needs a user name and a password: give --turn-user, and "
            "--turn-pass or PEERMEET_TURN_PASS"
        )
    stuns = [IceServer(check_url(u)) for u in stun]
    turns = [IceServer(check_url(u), username, password) for u in turn]
    if any(not s.urls.startswith("stun") for s in stuns):
        raise ValueError("--stun takes stun: addresses; give TURN servers with --turn")
    if any(not s.urls.startswith("turn") for s in turns):
        raise ValueError("--turn takes turn: or turns: addresses; give STUN servers with --stun")
    return (*stuns, *turns)


def merge(mine: Iterable[IceServer], offered: Iterable[IceServer]) -> tuple[IceServer, ...]:
    """``mine`` first, then ``offered`` servers whose URL is not already there. Idempotent."""
    out: list[IceServer] = []
    for server in (*mine, *offered):
        if all(s.urls != server.urls for s in out):
            out.append(server)
    return tuple(out)


def has_turn(servers: Iterable[IceServer]) -> bool:
    return any(s.urls.startswith("turn") for s in servers)


def rest_credentials(secret: str, peer_id: str, expires_at: int) -> tuple[str, str]:
    """coturn ``use-auth-secret`` credentials valid until ``expires_at`` (unix seconds)."""
    username = f"{expires_at}:{peer_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


class TurnIssuer:
    """Hands each joined member its own short-lived credentials (used by the rendezvous)."""

    def __init__(
        self,
        secret: str,
        urls: Sequence[str],
        ttl_s: int = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the TURN secret is empty")
        if not urls:
            raise ValueError("give at least one --turn-url for the TURN secret to be useful")
        self.urls = tuple(check_url(u) for u in urls)
        if not has_turn(IceServer(u) for u in self.urls):
            raise ValueError("--turn-url takes turn: or turns: addresses")
        self._secret, self.ttl_s, self._clock = secret, ttl_s, clock

    def issue(self, peer_id: str) -> protocol.TurnCredentials:
        expires_at = int(self._clock()) + self.ttl_s
        username, credential = rest_credentials(self._secret, peer_id, expires_at)
        return protocol.TurnCredentials(self.urls, username, credential, self.ttl_s)


def from_message(msg: protocol.TurnCredentials) -> tuple[IceServer, ...]:
    """The servers in a rendezvous' ``turn`` message; malformed URLs are skipped."""
    servers = []
    for url in msg.urls[:8]:
        try:
            servers.append(IceServer(check_url(url), msg.username, msg.credential))
        except ValueError:
            continue
    return tuple(servers)
