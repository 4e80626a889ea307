"""Network settings of one call for the CLI: STUN/TURN servers, relay-only, candidate hygiene.

``with_turn`` adds the short-lived TURN credentials a rendezvous hands out with ``joined``
(kept by ``SignalingClient.ice_servers``); the Session applies it right after joining.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
from collections.abc import Mapping
from dataclasses import replace

from app.config import EngineConfig, IceServer
from app.errors import OptionError, PeerMeetError
from app.meeting.links import Link
from app.net import iceservers
from app.net.peers import PeerLink
from app.net.signaling import SignalingClient

#: the TURN password, kept out of the process list (``--turn-pass`` shows in ``ps``)
TURN_PASS_ENV = "PEERMEET_TURN_PASS"


def user_servers(
    args: argparse.Namespace, environ: Mapping[str, str] = os.environ
) -> tuple[IceServer, ...]:
    """``--stun``/``--turn``/``--turn-user``/``--turn-pass``, checked (OptionError if wrong).

    The password may come from ``PEERMEET_TURN_PASS`` instead: other users of the computer
    can read a command line (``ps``), not another user's environment. ``--turn-pass`` wins if
    both are given, as the option typed for this call."""
    turn = getattr(args, "turn", [])
    given = [o for o, v in (("--turn-user", args.turn_user), ("--turn-pass", args.turn_pass)) if v]
    if given and not turn:  # (PEERMEET_TURN_PASS alone is fine: it waits for a --turn)
        raise OptionError(
            f"{' and '.join(given)} {'goes' if len(given) == 1 else 'go'} with a TURN server: "
            "give it with --turn URL, e.g. --turn turn:turn.example.org:3478"
        )
    password = args.turn_pass or environ.get(TURN_PASS_ENV) or None
    try:
        return iceservers.user_servers(args.stun, turn, args.turn_user, password)
    except ValueError as exc:
        raise OptionError(str(exc)) from None


async def rendezvous_addresses(link: Link, *, outside: bool) -> tuple[str, ...]:
    """The rendezvous' name and IP addresses, when it is a server of its own.

    A ``peermeet://`` link usually points at the host's own app, whose address is also a
    legitimate ICE candidate, so only outside rendezvous servers (``https://`` links, or the
    host's ``--rendezvous``) are kept out of ICE (see app.net.candidates)."""
    if not (outside or link.secure):
        return ()
    found = {link.host}
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(3.0):
            infos = await asyncio.get_running_loop().getaddrinfo(
                link.host, link.port, type=socket.SOCK_STREAM
            )
        found |= {str(info[4][0]) for info in infos}
    return tuple(sorted(found))


def with_turn(config: EngineConfig, client: SignalingClient | None) -> EngineConfig:
    """``config`` plus the TURN servers the rendezvous offered (after the user's own).

    Raises PeerMeetError if relay-only was asked for and no TURN server is known."""
    offered = client.ice_servers if client is not None else ()
    merged = replace(config, ice_servers=iceservers.merge(config.ice_servers, offered))
    if merged.relay_only and not iceservers.has_turn(merged.ice_servers):
        raise PeerMeetError(
            "Relay-only mode needs a TURN server: give --turn URL --turn-user U --turn-pass P, "
            "or use a rendezvous that hands out TURN credentials (peermeet-rendezvous "
            "--turn-secret)."
        )
    return merged


def silent_helpers_notice(silent: list[str], waited_s: float) -> str:
    """What to say when STUN/TURN servers kept a connection waiting ("" if none did)."""
    if not silent:
        return ""
    return (
        f"The connection helper {', '.join(silent)} did not answer, so connecting waited "
        f"{waited_s:.0f} s for it. Check its address, or remove it (Settings, Connection helpers)."
    )


def no_relay_notice(turn_urls: list[str]) -> str:
    """What to say when relay-only is on and no TURN server gave us a relay address."""
    servers = ", ".join(turn_urls) or "none"
    return (
        f"Relay only (Hide my IP address) is on, but the TURN server ({servers}) gave no "
        "relay address, so nobody can connect to you. Check its address, user and password "
        "(Settings, Connection helpers; --turn on the command line), or turn relay only off."
    )


def helpers_notice(link: PeerLink) -> tuple[str, str]:
    """(kind, what to say) about ``link``'s STUN/TURN servers once it gathered (text "" if
    nothing): "relay", none gave a relay address in relay-only mode (nothing can connect), or
    "slow", some kept it waiting."""
    if link.relay_missing():
        turn = [s.urls for s in link.ice_servers if s.urls.startswith("turn")]
        return "relay", no_relay_notice(turn)
    return "slow", silent_helpers_notice(link.silent_helpers(), link.gather_s)
