"""Command-line options of ``peermeet-rendezvous``: address, limits, TURN, TLS, room state.

A wrong option stops the start with exit status 2 and what to do, as for ``peermeet host``:
argparse says it for one option alone, :class:`OptionError` for options that go together.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from pathlib import Path

from app.argtypes import RawHelp, epilog, ip_address, port, positive, writable_file
from app.errors import OptionError
from app.net import tlsfiles
from app.net.addresses import advertised_host, bracketed, listen_on
from app.net.iceservers import DEFAULT_TTL_S, TurnIssuer, check_url
from app.net.limits import AddressLimits
from app.net.rendezvous import RendezvousServer

SECRET_ENV = "PEERMEET_TURN_SECRET"
MIN_TTL_S, MAX_TTL_S = 60, 7 * 86400
EXITS = """exit status: 0 stopped by Ctrl+C or SIGTERM; 2 a wrong option (stderr says which, and
what to give instead); 1 it cannot serve: the port is taken, --host is not an address of this
computer, the --state file cannot be written, or anything else (stderr says what)."""
EXAMPLES = (
    "peermeet-rendezvous --host 0.0.0.0 --port 8765 --state rooms.json",
    "PEERMEET_TURN_SECRET=… peermeet-rendezvous --turn-url turn:turn.example.org:3478",
    "peermeet-rendezvous --port 443 --tls-cert fullchain.pem --tls-key privkey.pem",
    "(certbot's files, in /etc/letsencrypt/live/NAME/: links then start with https://)",
)


def build_parser() -> argparse.ArgumentParser:
    """Every option of ``peermeet-rendezvous``, with examples and exit statuses in --help."""
    parser = argparse.ArgumentParser(
        prog="peermeet-rendezvous",
        description="Relay sealed signaling for PeerMeet rooms.",
        epilog=epilog(EXAMPLES, EXITS),
        formatter_class=RawHelp,
    )
    parser.add_argument(
        "--host",
        default="0.0.0.0",
        help="address to listen on (default %(default)s: every IPv4 interface; :: every IPv4 "
        "and IPv6 one)",
    )
    parser.add_argument("--port", type=port, default=8765, help="TCP port (default %(default)s)")
    parser.add_argument(
        "--max-rooms",
        type=positive,
        default=1000,
        help="live rooms in all (default %(default)s)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every room and refusal")
    add_arguments(parser)
    return parser


def turn_url(text: str) -> str:
    """argparse type: a turn: or turns: URL for members."""
    try:
        url = check_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not url.startswith("turn"):
        raise argparse.ArgumentTypeError(
            f"“{url}” is a STUN address: give a TURN server (turn:… or turns:…), the coturn "
            "whose static-auth-secret is the TURN secret"
        )
    return url


def turn_ttl(text: str) -> int:
    """argparse type: how long a TURN credential stays valid, 60 s to 7 days."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not MIN_TTL_S <= value <= MAX_TTL_S:
        raise argparse.ArgumentTypeError(
            f"{value} s is out of range: give {MIN_TTL_S} (a minute) to {MAX_TTL_S} (7 days)"
        )
    return value


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
        type=turn_url,
        help="TURN server for members, e.g. turn:turn.example:3478?transport=udp (repeatable; "
        "clients use the first)",
    )
    parser.add_argument(
        "--turn-ttl",
        type=turn_ttl,
        default=DEFAULT_TTL_S,
        metavar="SECONDS",
        help=f"seconds a credential stays valid, {MIN_TTL_S} to {MAX_TTL_S} (default "
        "%(default)s: longer than any room lives)",
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
        type=lambda text: Path(writable_file(text)),
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
        type=ip_address,
        help="reverse proxy whose X-Forwarded-For names the client (for per-IP limits)",
    )


def load_tls(args: argparse.Namespace) -> tlsfiles.ServerTls | None:
    """``--tls-cert``/``--tls-key`` read and checked (None without them); OptionError says
    what is wrong with them."""
    if args.tls_cert is None and args.tls_key is None:
        return None
    if args.tls_cert is None:
        raise OptionError(
            "--tls-key needs --tls-cert too: give the certificate (PEM, full chain: certbot's "
            "fullchain.pem) with its key, or neither to serve plain http"
        )
    if args.tls_key is None:
        raise OptionError(
            "--tls-cert needs --tls-key too: give the certificate's private key (PEM: certbot's "
            "privkey.pem), or neither to serve plain http"
        )
    try:
        return tlsfiles.load(args.tls_cert, args.tls_key)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


def address_to_give(host: str, port: int, tls: tlsfiles.ServerTls | None) -> str:
    """What to tell PeerMeet users, for a server listening on ``host``:``port``."""
    names = [n for n in tls.names if not n.startswith("*")] if tls is not None else []
    shown = names[0] if names else advertised_host(host)
    where = bracketed(shown)
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
        text += (
            f" ({shown} is an address on this network only: for people elsewhere, give this "
            "server's public name or address instead)"
        )
    return text


def build_server(
    args: argparse.Namespace, tls: tlsfiles.ServerTls | None = None
) -> RendezvousServer:
    """The server the options describe; OptionError says what is wrong with them."""
    secret = args.turn_secret or os.environ.get(SECRET_ENV, "")
    turn = None
    if secret or args.turn_url:
        if not secret:
            raise OptionError(
                f"--turn-url needs the TURN secret (--turn-secret or {SECRET_ENV}): the same "
                "value as coturn's static-auth-secret"
            )
        if not args.turn_url:
            given = "--turn-secret" if args.turn_secret else f"{SECRET_ENV} is set, so it"
            raise OptionError(
                f"{given} needs at least one --turn-url, e.g. turn:turn.example.org:3478: the "
                "coturn that shares the secret"
                + ("" if args.turn_secret else f" (or unset {SECRET_ENV} to run without TURN)")
            )
        try:
            turn = TurnIssuer(secret, args.turn_url, args.turn_ttl)
        except ValueError as exc:
            raise OptionError(str(exc)) from None
    limits = AddressLimits(
        max_connections=args.max_connections,
        per_ip_connections=args.max_conns_per_ip,
        per_ip_rooms=args.max_rooms_per_ip,
    )
    host, port = listen_on(args.host, args.port)  # ("::": IPv4 too, as --help says)
    return RendezvousServer(
        host=host,
        port=port,
        max_rooms=args.max_rooms,
        limits=limits,
        turn=turn,
        trusted_proxies=frozenset(args.trusted_proxy),
        state_path=args.state,
        ssl_context=tls.context if tls is not None else None,
    )
