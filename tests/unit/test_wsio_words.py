"""What a failed connection to a rendezvous is called, in words a person reads."""

from __future__ import annotations

import errno

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from app.net.wsio import _describe

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
