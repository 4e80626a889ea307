"""Candidate hygiene: remote ICE candidates we must never send packets to."""

from __future__ import annotations

import pytest

from app.config import EngineConfig, IceServer
from app.net.candidates import MAX_PER_TYPE, CandidatePolicy, parse_candidate


def cand(addr: str, port: int = 50000, typ: str = "host") -> str:
    return f"a=candidate:1 1 udp 2130706431 {addr} {port} typ {typ}"


def refusal(policy: CandidatePolicy, line: str) -> str | None:
    parsed = parse_candidate(line)
    assert parsed is not None, line
    return policy.refusal(parsed)


@pytest.mark.parametrize(
    ("addr", "port", "needle"),
    [
        ("127.0.0.1", 50000, "loopback"),
        ("127.9.9.9", 50000, "loopback"),
        ("::1", 50000, "loopback"),
        ("::ffff:127.0.0.1", 50000, "loopback"),
        ("169.254.169.254", 50000, "link-local"),
        ("fe80::1", 50000, "link-local"),
        ("224.0.0.251", 5353, "multicast"),
        ("ff02::1", 50000, "multicast"),
        ("239.255.255.250", 1900, "multicast"),
        ("0.0.0.0", 50000, "unspecified"),
        ("255.255.255.255", 50000, "reserved"),
        ("192.168.1.20", 53, "port 53"),
        ("192.168.1.20", 0, "port 0"),
        ("printer.local", 50000, "not an IP"),
        ("evil.example.com", 50000, "not an IP"),
    ],
)
def test_default_policy_refuses_special_addresses(addr: str, port: int, needle: str) -> None:
    why = refusal(CandidatePolicy(), cand(addr, port))
    assert why is not None and needle in why


@pytest.mark.parametrize(
    "addr", ["192.168.1.20", "10.0.0.5", "203.0.113.7", "2001:db8::5", "100.64.0.9"]
)
def test_ordinary_addresses_pass(addr: str) -> None:
    assert refusal(CandidatePolicy(), cand(addr)) is None


def test_loopback_room_accepts_loopback_and_lan_room_accepts_link_local() -> None:
    loop = CandidatePolicy.from_config(EngineConfig(loopback_only=True))
    assert refusal(loop, cand("127.0.0.1")) is None
    lan = CandidatePolicy.from_config(EngineConfig(lan_only=True))
    assert refusal(lan, cand("fe80::1")) is None
    assert refusal(lan, cand("host-abc.local")) is None
    assert refusal(lan, cand("127.0.0.1")) is not None  # LAN is not this machine
    assert refusal(lan, cand("224.0.0.251")) is not None  # multicast never


def test_rendezvous_address_is_refused_unless_it_is_also_our_turn_relay() -> None:
    plain = CandidatePolicy.from_config(
        EngineConfig(rendezvous_addresses=("meet.example", "203.0.113.1"))
    )
    assert "rendezvous" in (refusal(plain, cand("203.0.113.1")) or "")
    assert "rendezvous" in (refusal(plain, cand("203.0.113.1", typ="relay")) or "")
    with_turn = CandidatePolicy.from_config(
        EngineConfig(
            rendezvous_addresses=("meet.example", "203.0.113.1"),
            ice_servers=(IceServer("turn:meet.example:3478?transport=udp", "u", "p"),),
        )
    )
    assert refusal(with_turn, cand("203.0.113.1", 49200, "relay")) is None
    assert refusal(with_turn, cand("203.0.113.1", 49200, "host")) is not None


def test_filter_sdp_drops_only_refused_candidate_lines() -> None:
    sdp = "\r\n".join(
        [
            "v=0",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            cand("192.168.1.20"),
            cand("127.0.0.1", 631),
            "a=candidate:garbage",
            cand("203.0.113.7", 50001, "srflx") + " raddr 192.168.1.20 rport 50000",
            "a=end-of-candidates",
            "",
        ]
    )
    cleaned, dropped = CandidatePolicy().filter_sdp(sdp)
    assert "192.168.1.20 50000 typ host" in cleaned and "203.0.113.7" in cleaned
    assert "127.0.0.1" not in cleaned and "garbage" not in cleaned
    assert "a=end-of-candidates\r\n" in cleaned and cleaned.startswith("v=0\r\n")
    assert len(dropped) == 2 and "loopback" in dropped[0] and "malformed" in dropped[1]


def test_filter_sdp_takes_a_few_candidates_of_each_type_and_all_their_repeats() -> None:
    """The same candidates, listed again in each bundled m-line, count once; past
    MAX_PER_TYPE new ones of a type are dropped, with one note for all of them, and a peer's
    relay candidate is never crowded out by its host ones (tests/integration/test_hostile_peer)."""
    hosts = [cand(f"10.0.{n // 200}.{n % 200 + 1}") for n in range(MAX_PER_TYPE + 10)]
    section = ["m=video 9 UDP/TLS/RTP/SAVPF 96", *hosts, cand("203.0.113.7", 3478, "relay")]
    cleaned, dropped = CandidatePolicy().filter_sdp("\r\n".join(["v=0", *section * 3, ""]))
    kept = [line for line in cleaned.splitlines() if line.startswith("a=candidate:")]
    assert kept == [*hosts[:MAX_PER_TYPE], section[-1]] * 3
    assert dropped == [f"30 more (at most {MAX_PER_TYPE} candidates of each type)"]
