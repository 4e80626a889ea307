"""STUN/TURN URL checks, coturn REST credentials, and how server lists merge."""

from __future__ import annotations

import pytest
from aiortc.rtcicetransport import parse_stun_turn_uri

from app.config import IceServer
from app.net import iceservers
from app.net.iceservers import TurnIssuer, check_url, merge, rest_credentials, user_servers


def test_rest_credentials_match_coturn_use_auth_secret() -> None:
    # echo -n 1700000000:alice | openssl dgst -sha1 -hmac north -binary | base64
    assert rest_credentials("north", "alice", 1700000000) == (
        "1700000000:alice",
        "Cd/49soE35ICqcJF/bCTn8Z4OyE=",
    )


def test_issuer_hands_out_expiring_per_peer_credentials() -> None:
    issuer = TurnIssuer(
        "north", ["turn:t.example:3478?transport=udp"], ttl_s=600, clock=lambda: 1e9
    )
    msg = issuer.issue("peer1")
    assert msg.username == f"{1_000_000_000 + 600}:peer1"
    assert msg.credential == rest_credentials("north", "peer1", 1_000_000_600)[1]
    assert msg.urls == ("turn:t.example:3478?transport=udp",) and msg.ttl_s == 600
    servers = iceservers.from_message(msg)
    assert servers == (IceServer(msg.urls[0], msg.username, msg.credential),)


@pytest.mark.parametrize(
    "url",
    [
        "stun:stun.example.org",
        "stun:10.0.0.1:3478",
        "stun:192.0.2.10.",
        "stun:host.example.1a",
        "turn:turn.example:3478",
        "turn:turn.example:3478?transport=tcp",
        "turns:turn.example:443?transport=tcp",
    ],
)
def test_good_urls(url: str) -> None:
    assert check_url(url) == url
    assert parse_stun_turn_uri(url)["host"]  # what check_url passes, aiortc can use


@pytest.mark.parametrize("port", ["３４７８", "٣٤٧٨", "३४७८"])  # full-width, Arabic, Devanagari
def test_a_port_in_other_digits_is_refused_with_how_to_write_it(port: str) -> None:
    """Typed with an input method, a port may come in other digits than 0-9: it was taken (as
    3478) and saved, and then aiortc refused it ("malformed uri") as each peer connection was
    made, so calls found the others and never had sound or video."""
    url = f"stun:stun.example.org:{port}"
    with pytest.raises(ValueError, match="malformed uri"):
        parse_stun_turn_uri(url)
    with pytest.raises(ValueError, match="write the port in the digits 0-9, like 3478"):
        check_url(url)


def test_scheme_and_transport_are_read_in_any_case() -> None:
    """aiortc only knows them in lower case (it refused "TCP"); the host name stays as typed."""
    assert check_url(" TURN:Turn.Example:3478?transport=TCP ") == (
        "turn:Turn.Example:3478?transport=tcp"
    )


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://x", "not a STUN/TURN address"),
        ("turn:[::1]:3478", "IPv6"),
        ("turn:host:99999", "port must be"),
        ("stun:host?transport=tcp", "STUN is always UDP"),
        ("turns:host:443?transport=udp", "TLS runs on TCP"),
        ("turn:host:3478?transport=sctp", "not a STUN/TURN address"),
        ("stun:a..b", "not a host name"),
        ("stun:example.org..", "not a host name"),
        ("stun:a-.org", "not a host name"),
        ("stun:a.-b.org", "not a host name"),
        ("stun:999.1.1.1:3478", "not an IPv4 address"),  # (looked up as a name, and failed)
        ("stun:1.2.3", "not an IPv4 address"),
        ("turn:10.0.0.01", "not an IPv4 address"),
    ],
)
def test_bad_urls_say_how_to_write_them(url: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        check_url(url)


def test_user_servers_need_credentials_and_the_right_flag() -> None:
    assert user_servers(["stun:s:3478"], ["turn:t:3478"], "u", "p") == (
        IceServer("stun:s:3478"),
        IceServer("turn:t:3478", "u", "p"),
    )
    with pytest.raises(ValueError, match="needs a user name and a password"):
        user_servers([], ["turn:t:3478"], None, None)
    with pytest.raises(ValueError, match="--stun takes stun"):
        user_servers(["turn:t:3478"], [], None, None)


def test_merge_keeps_the_users_servers_first_and_is_idempotent() -> None:
    mine = (IceServer("turn:mine:3478", "u", "p"),)
    offered = (IceServer("turn:theirs:3478", "x", "y"), IceServer("turn:mine:3478", "a", "b"))
    merged = merge(mine, offered)
    assert merged == (mine[0], offered[0])
    assert merge(merged, offered) == merged


def test_issuer_refuses_useless_settings() -> None:
    with pytest.raises(ValueError, match="empty"):
        TurnIssuer("", ["turn:t:3478"])
    with pytest.raises(ValueError, match="at least one"):
        TurnIssuer("s", [])
    with pytest.raises(ValueError, match="turn: or turns:"):
        TurnIssuer("s", ["stun:t:3478"])
