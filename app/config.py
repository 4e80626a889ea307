"""Settings the engine needs, as plain data. The CLI and the UI build one and inject it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server: ``stun:host:3478`` or ``turn:host:3478?transport=tcp``."""

    urls: str
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class EngineConfig:
    display_name: str = "Guest"
    #: Empty by default: PeerMeet never contacts a STUN/TURN server the user did not choose.
    ice_servers: tuple[IceServer, ...] = field(default_factory=tuple)
    #: Only offer 127.0.0.1 host candidates (all peers on this machine: tests, demos, benches).
    loopback_only: bool = False
    connect_timeout_s: float = 10.0
    #: Privacy: only TURN relay candidates, so peers never learn this machine's addresses.
    relay_only: bool = False
    #: A LAN room: accept remote candidates on link-local and mDNS (.local) addresses too.
    lan_only: bool = False
    #: The rendezvous server's IP addresses: remote ICE candidates pointing there are refused.
    rendezvous_addresses: tuple[str, ...] = field(default_factory=tuple)
