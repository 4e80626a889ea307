"""``peermeet-rendezvous`` options: TURN secret and URLs, per-address limits."""

from __future__ import annotations

import argparse

import pytest

from app.errors import OptionError
from app.net import rvoptions


def parse(*argv: str) -> argparse.Namespace:
    return rvoptions.build_parser().parse_args(["--host", "127.0.0.1", "--port", "0", *argv])


def test_turn_secret_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(rvoptions.SECRET_ENV, "s3cret")
    server = rvoptions.build_server(parse("--turn-url", "turn:t.example:3478"))
    assert server.turn is not None and server.turn.urls == ("turn:t.example:3478",)


def test_limits_are_passed_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(rvoptions.SECRET_ENV, raising=False)
    server = rvoptions.build_server(parse("--max-conns-per-ip", "5", "--max-rooms-per-ip", "2"))
    assert server.turn is None
    assert (server.limits.per_ip_connections, server.limits.per_ip_rooms) == (5, 2)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("--turn-url", "turn:t:3478"), "needs the TURN secret"),
        (("--turn-secret", "s"), "at least one --turn-url"),
    ],
)
def test_turn_options_that_go_together_say_what_to_do(
    argv: tuple[str, ...], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(rvoptions.SECRET_ENV, raising=False)
    with pytest.raises(OptionError, match=needle) as refused:
        rvoptions.build_server(parse(*argv))
    assert refused.value.exit_status == 2  # (a wrong option, as for peermeet host)


def test_a_trusted_proxy_is_kept_as_the_server_sees_addresses() -> None:
    # "::1" is how aiohttp names a client over IPv6 loopback: the long form never matched
    server = rvoptions.build_server(parse("--trusted-proxy", "0:0:0:0:0:0:0:1"))
    assert server._ws._trusted_proxies == frozenset({"::1"})
