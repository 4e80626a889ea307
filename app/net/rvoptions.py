"""Command-line options of ``peermeet-rendezvous`` beyond host and port: limits, TURN, TLS."""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path

from app.argtypes import out_file, positive
from app.net import tlsfiles
from app.net.addresses import advertised_host
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
        "--tls-cert",
        metavar="FILE",
        type=Path,
        help="serve https/wss with this certificate (PEM, full chain: certbot's fullchain.pem); "
        "links then start with https://",
    )
    parser.add_argument(
        "--tls-key",
        metavar="FILE",
        type=Path,
        help="the certificate's private key (PEM, no passphrase: certbot's privkey.pem)",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="IP",
        help="reverse proxy whose X-Forwarded-For names the client (for per-IP limits)",
    )


def load_tls(args: argparse.Namespace) -> tlsfiles.ServerTls | None:
    """``--tls-cert``/``--tls-key`` read and checked (None without them); SystemExit with a
    readable message if they are wrong."""
    if args.tls_cert is None and args.tls_key is None:
        return None
    if args.tls_cert is None or args.tls_key is None:
        given, missing = ("--tls-cert", "--tls-key")[:: 1 if args.tls_cert else -1]
        raise SystemExit(f"peermeet-rendezvous: {given} needs {missing} too")
    try:
        return tlsfiles.load(args.tls_cert, args.tls_key)
    except ValueError as exc:
        raise SystemExit(f"peermeet-rendezvous: {exc}") from None


def address_to_give(host: str, port: int, tls: tlsfiles.ServerTls | None) -> str:
    """What to tell PeerMeet users, for a server listening on ``host``:``port``."""
    names = [n for n in tls.names if not n.startswith("*")] if tls is not None else []
    shown = names[0] if names else advertised_host(host)
    where = f"[{shown}]" if ":" in shown else shown
    if tls is not None:
        address = f"https://{where}" + ("" if port == 443 else f":{port}")
    else:
        address = f"peermeet://{where}:{port}"
    text = f"In PeerMeet: Start meeting, A rendezvous server: {address}"
    try:
        ip = ipaddress.ip_address(shown)
    except ValueError:
        return text
    if ip.is_loopback:
        text += " (only this computer can reach it: give --host 0.0.0.0 for others)"
    elif not ip.is_global:
        text += f" (from other networks: this server's public name or address for {shown})"
    return text


def build_server(
    args: argparse.Namespace, tls: tlsfiles.ServerTls | None = None
) -> RendezvousServer:
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
        ssl_context=tls.context if tls is not None else None,
    )
