"""``peermeet-rendezvous`` options: TURN secret and URLs, per-address limits."""

from __future__ import annotations

import argparse

import pytest

from app.net import rvoptions


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-rooms", type=int, default=10)
    rvoptions.add_arguments(parser)
    return parser.parse_args(argv)


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
        (("--turn-secret", "s", "--turn-url", "http://x"), "not a STUN/TURN address"),
        (("--turn-secret", "s", "--turn-url", "turn:t", "--turn-ttl", "5"), "--turn-ttl"),
    ],
)
def test_bad_turn_options_say_what_to_do(
    argv: tuple[str, ...], needle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(rvoptions.SECRET_ENV, raising=False)
    with pytest.raises(SystemExit, match=needle):
        rvoptions.build_server(parse(*argv))
