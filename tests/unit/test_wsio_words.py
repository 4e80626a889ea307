"""What a failed connection to a rendezvous is called, in words a person reads."""

from __future__ import annotations

import errno
import socket

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from app.errors import RendezvousUnreachable
from app.meeting.host_remote import CHECK_ADDRESS, in_host_words
from app.meeting.links import new_secret, parse_link
from app.net.signaling import SignalingClient
from app.net.wsio import NOT_FOUND, _describe, _unreachable

KEY = ConnectionKey("192.0.2.99", 39757, False, True, None, None, None)


@pytest.mark.parametrize(
    ("number", "said"),
    [
        (errno.EHOSTUNREACH, "no computer answers there"),
        (errno.EHOSTDOWN, "no computer answers there"),
        (errno.ENETUNREACH, "this computer has no route to that network"),  # (offline here)
    ],
)
def test_a_host_that_is_off_or_elsewhere_is_said_in_words(number: int, said: str) -> None:
    # as asyncio raises it when a LAN host's computer is off (no ARP answer, after 3 s)
    failed = OSError(number, "Connect call failed ('192.0.2.99', 39757)")
    text = _describe(aiohttp.ClientConnectorError(KEY, failed))
    assert "Connect call failed" not in text and "192.0.2.99" not in text  # (said beside it)
    assert text.startswith(said)


def test_other_connection_errors_say_their_errno_in_words() -> None:
    failed = OSError(errno.EACCES, "Connect call failed ('192.0.2.99', 39757)")
    assert _describe(aiohttp.ClientConnectorError(KEY, failed)) == "permission denied"
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")
    assert _describe(aiohttp.ClientConnectorError(KEY, refused)) == "connection refused"


def closed_port() -> int:
    """A loopback port nothing listens on (a server that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def unreachable(link: str) -> str:
    """What a guest following ``link`` is told when nothing answers there."""
    with pytest.raises(RendezvousUnreachable) as info:
        client = await SignalingClient.connect(parse_link(link).rendezvous_url, 3.0)
        await client.close()
    return str(info.value)


async def test_a_guest_is_told_whether_the_hosts_app_or_a_server_is_not_answering() -> None:
    """A peermeet:// link is to the host's own app: ask whether PeerMeet still runs there. An
    https:// link is to a standalone rendezvous on a server: name it, say it may be down, and
    what to do (the host runs no PeerMeet there to ask about)."""
    port = closed_port()
    secret = new_secret()
    said = await unreachable(f"peermeet://127.0.0.1:{port}/team-sync#k={secret}")
    assert said == (
        f"Cannot reach the meeting host: nothing is answering at 127.0.0.1:{port} "
        "(connection refused). "
        "Check the link, or ask the host whether PeerMeet is still running."
    )
    said = await unreachable(f"https://127.0.0.1:{port}/team-sync#k={secret}")
    assert said.startswith(
        f"The meeting's server at 127.0.0.1:{port} is not answering (connection refused): "
        "it may be down. Try again in a few minutes, or ask the host"
    ), said
    assert "PeerMeet is still running" not in said


def test_a_server_name_not_found_is_not_said_to_be_down() -> None:
    said = _unreachable("meet.example.invalid:443", "host name not found", server=True)
    assert said.startswith("Cannot find the meeting's server meet.example.invalid:443")
    assert "Check the link" in said and "down" not in said


def test_a_hosts_server_name_not_found_is_not_said_to_be_down() -> None:
    """The host of a meeting on an outside server (Start's, or --rendezvous) whose name is not
    found read "Check the address, and that the server runs": no server to run, the name is
    wrong or this computer cannot look it up. A server that refuses keeps those words."""
    where = "meet.example.invalid:443"
    lost = RendezvousUnreachable("guest words", where=where, reason=NOT_FOUND)
    said = str(in_host_words(lost, CHECK_ADDRESS))
    assert said == (
        f"Cannot find the rendezvous server {where} (host name not found). Check the spelling "
        "of the server's address, and that this computer is online and its DNS works."
    ), said
    refused = RendezvousUnreachable("guest words", where=where, reason="connection refused")
    said = str(in_host_words(refused, CHECK_ADDRESS))
    assert (
        said
        == f"Cannot reach the rendezvous server at {where} (connection refused). {CHECK_ADDRESS}"
    )


def test_a_host_that_answers_as_something_else_is_not_said_to_be_silent() -> None:
    said = _unreachable(
        "192.168.1.20:8080", "it answered, but not as a PeerMeet rendezvous: HTTP 404", server=False
    )
    assert said.startswith("Cannot reach the meeting host: PeerMeet could not connect to "), said
    assert "nothing is answering" not in said
