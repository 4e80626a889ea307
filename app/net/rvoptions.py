"""Command-line options of ``peermeet-rendezvous`` beyond host and port: limits and TURN."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from app.argtypes import out_file, positive
from app.net.iceservers import DEFAULT_TTL_S, TurnIssuer
from app.net.limits import AddressLimits
from app.net.rendezvous import RendezvousServer

SECRET_ENV = "PEERMEET_TURN_SECRET"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--turn-secret",
        help=f"coturn static-auth-secret: hand joined members short-lived TURN credentials "
        f"(or set {SECRET_ENV}, which other users cannot see in the process list)",
    )
    parser.add_argument(
        "--turn-url",
        action="append",
        default=[],
        metavar="URL",
        help="TURN server for members, e.g. turn:turn.example:3478?transport=udp (repeatable; "
        "clients use the first)",
    )
    parser.add_argument(
        "--turn-ttl",
        type=int,
        default=DEFAULT_TTL_S,
        help="seconds a credential stays valid (default %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=positive,
        default=2000,
        help="open connections in all (default %(default)s)",
    )
    parser.add_argument(
        "--max-conns-per-ip",
        type=positive,
        default=64,
        help="open connections from one address (default %(default)s)",
    )
    parser.add_argument(
        "--max-rooms-per-ip",
        type=positive,
        default=20,
        help="live rooms created from one address (default %(default)s)",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        type=lambda text: Path(out_file(text)),
        help="keep rooms in this file across restarts (participants get back in by "
        "themselves); without it a restart forgets every room",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="IP",
        help="reverse proxy whose X-Forwarded-For names the client (for per-IP limits)",
    )


def build_server(args: argparse.Namespace) -> RendezvousServer:
    """The server the options describe; SystemExit with a readable message if they are wrong."""
    secret = args.turn_secret or os.environ.get(SECRET_ENV, "")
    turn = None
    if secret or args.turn_url:
        if not secret:
            raise SystemExit(
                f"peermeet-rendezvous: --turn-url needs the TURN secret (--turn-secret or "
                f"{SECRET_ENV}): the same value as coturn's static-auth-secret"
            )
        if not 60 <= args.turn_ttl <= 7 * 86400:
            raise SystemExit("peermeet-rendezvous: --turn-ttl must be 60 s .. 7 days")
        try:
            turn = TurnIssuer(secret, args.turn_url, args.turn_ttl)
        except ValueError as exc:
            raise SystemExit(f"peermeet-rendezvous: {exc}") from None
    limits = AddressLimits(
        max_connections=args.max_connections,
        per_ip_connections=args.max_conns_per_ip,
        per_ip_rooms=args.max_rooms_per_ip,
    )
    return RendezvousServer(
        host=args.host,
        port=args.port,
        max_rooms=args.max_rooms,
        limits=limits,
        turn=turn,
        trusted_proxies=frozenset(args.trusted_proxy),
        state_path=args.state,
    )
