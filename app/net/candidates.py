"""Candidate hygiene: which remote ICE candidates this machine may send packets to.

ICE makes us send STUN connectivity checks (and then media) to whatever addresses the other
side lists in its SDP. A hostile room member could list ``127.0.0.1:631``, a router's
link-local admin address, a multicast group or the rendezvous server itself, and so use every
member of a meeting to probe or flood them. Remote candidates are therefore filtered before
the SDP is applied; see docs/security.md ("Candidate hygiene").
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from app.config import EngineConfig

log = logging.getLogger(__name__)
_Ip = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Below this, ports belong to well-known services (DNS, NTP, SNMP ...), never to ICE.
MIN_PORT = 1024
#: Distinct remote candidates taken of each type (host, srflx, relay, any other) from one SDP:
#: a peer lists one host candidate per address of its machine (a few; tens with many virtual
#: networks) and a few srflx and relay ones, while a 64 KiB SDP has room for a thousand
#: addresses that every member would send ICE checks to.
MAX_PER_TYPE = 32


@dataclass(frozen=True)
class RemoteCandidate:
    address: str
    port: int
    transport: str
    type: str


def parse_candidate(line: str) -> RemoteCandidate | None:
    """``[a=]candidate:F C udp PRIO ADDR PORT typ TYPE ...`` -> fields; None if malformed."""
    text = line.strip().removeprefix("a=").removeprefix("candidate:")
    parts = text.split()
    if len(parts) < 8 or parts[6] != "typ" or not (parts[5].isascii() and parts[5].isdigit()):
        return None
    return RemoteCandidate(parts[4], int(parts[5]), parts[2].lower(), parts[7].lower())


def _ip(address: str) -> _Ip | None:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return ip


@dataclass(frozen=True)
class CandidatePolicy:
    """What remote candidates to accept. The default refuses every special-purpose address."""

    #: every peer is on this machine (tests, demos): 127.0.0.1 is the only way
    allow_loopback: bool = False
    #: a LAN room: link-local addresses and mDNS ``.local`` names are how peers meet
    allow_lan: bool = False
    #: the rendezvous server's names and addresses
    rendezvous: frozenset[str] = frozenset()
    #: hosts of the TURN servers we use; a relay there is expected even on the rendezvous host
    turn_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: EngineConfig) -> CandidatePolicy:
        hosts = {_turn_host(s.urls) for s in config.ice_servers if s.urls.startswith("turn")}
        return cls(
            allow_loopback=config.loopback_only,
            allow_lan=config.lan_only or config.loopback_only,
            rendezvous=frozenset(config.rendezvous_addresses),
            turn_hosts=frozenset(h for h in hosts if h),
        )

    def refusal(self, cand: RemoteCandidate) -> str | None:
        """Why ``cand`` is refused, or None when it is acceptable."""
        ip = _ip(cand.address)
        if ip is None:
            if cand.address.lower().endswith(".local") and self.allow_lan:
                return None
            return "not an IP address"
        if ip.is_loopback:  # before is_reserved, which ::1 also is
            return None if self.allow_loopback else "loopback address"
        if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
            return "unspecified, multicast or reserved address"
        if ip.is_link_local and not self.allow_lan:
            return "link-local address"
        if not 0 < cand.port < 65536 or (cand.port < MIN_PORT and not self.allow_loopback):
            return f"port {cand.port} is reserved for other services"
        if str(ip) in self.rendezvous or cand.address in self.rendezvous:
            relay_here = cand.type == "relay" and bool(self.turn_hosts & self.rendezvous)
            return None if relay_here else "the rendezvous server's address"
        return None

    def filter_sdp(self, sdp: str) -> tuple[str, list[str]]:
        """Drop refused ``a=candidate`` lines, and those past MAX_PER_TYPE; return the SDP and
        a note per dropped line (one for all of those past the limit)."""
        kept: list[str] = []
        dropped: list[str] = []
        taken: dict[str, set[tuple[str, int, str]]] = {}  # by type: (address, port, transport)
        over = 0
        for line in sdp.splitlines(keepends=True):
            if line.startswith("a=candidate:"):
                cand = parse_candidate(line)
                why = "malformed" if cand is None else self.refusal(cand)
                if why is not None:
                    dropped.append(f"{line.strip()[2:60]} ({why})")
                    continue
                assert cand is not None
                kind = cand.type if cand.type in ("host", "srflx", "relay") else "other"
                same, key = taken.setdefault(kind, set()), (cand.address, cand.port, cand.transport)
                if key not in same and len(same) >= MAX_PER_TYPE:  # (again in a bundled m-line)
                    over += 1
                    continue
                same.add(key)
            kept.append(line)
        if over:
            dropped.append(f"{over} more (at most {MAX_PER_TYPE} candidates of each type)")
        return "".join(kept), dropped


def _turn_host(url: str) -> str:
    """``turn:host:3478?transport=tcp`` / ``turns:[::1]:5349`` -> host."""
    rest = url.partition(":")[2].partition("?")[0]
    if rest.startswith("["):
        return rest[1:].partition("]")[0]
    return rest.rpartition(":")[0] if rest.count(":") == 1 else rest
