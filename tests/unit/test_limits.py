"""Per-address limits of the rendezvous, on an injected clock."""

from __future__ import annotations

from app.net.limits import MAX_TRACKED, AddressLimits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_per_ip_and_total_connection_limits() -> None:
    limits = AddressLimits(max_connections=5, per_ip_connections=2, clock=Clock())
    assert limits.connect("10.0.0.1") is None
    assert limits.connect("::ffff:10.0.0.1") is None  # the same address
    assert "more than 2" in (limits.connect("10.0.0.1") or "")
    for i in range(2, 5):
        assert limits.connect(f"10.0.0.{i}") is None
    assert "connection limit" in (limits.connect("10.0.0.9") or "")
    limits.disconnect("10.0.0.1")
    assert limits.connect("10.0.0.1") is None
    for ip in ("10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"):
        limits.disconnect(ip)
    limits.disconnect("10.0.0.77")  # unknown: harmless
    assert limits.connections == 0 and limits.tracked()[0] == 0


def test_new_connection_rate_per_ip() -> None:
    clock = Clock()
    limits = AddressLimits(per_ip_connections=1000, connect_rate=(2.0, 3.0), clock=clock)
    results = []
    for _ in range(5):
        results.append(limits.connect("10.0.0.1"))
        limits.disconnect("10.0.0.1")
    assert results[:3] == [None] * 3 and all("too fast" in (r or "") for r in results[3:])
    assert limits.connect("10.0.0.2") is None  # other addresses are not slowed down
    clock.now += 1.0
    assert limits.connect("10.0.0.1") is None


def test_rate_buckets_are_bounded() -> None:
    limits = AddressLimits(clock=Clock())
    for i in range(MAX_TRACKED + 50):
        limits.connect(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        limits.disconnect(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
    assert limits.tracked() == (0, MAX_TRACKED, 0)


def test_rooms_per_ip_count_only_live_rooms() -> None:
    limits = AddressLimits(per_ip_rooms=2, clock=Clock())
    live = {"r1", "r2"}
    limits.created("r1", "10.0.0.1")
    limits.created("r2", "10.0.0.1")
    assert not limits.may_create("10.0.0.1", live.__contains__)
    assert limits.may_create("10.0.0.2", live.__contains__)
    live.discard("r1")  # ended or expired
    assert limits.may_create("10.0.0.1", live.__contains__)
    assert limits.tracked()[2] == 1


def test_an_ipv6_network_counts_as_one_address() -> None:
    """Anyone gets a whole /64: one limit for all of it, another for the next /64."""
    limits = AddressLimits(per_ip_connections=2, clock=Clock())
    assert limits.connect("2001:db8:1:2::10") is None
    assert limits.connect("2001:db8:1:2:ffff:1:2:3") is None
    assert "more than 2" in (limits.connect("2001:db8:1:2::99") or "")
    assert limits.connect("2001:db8:1:3::10") is None  # the next /64
    assert limits.connect("::1") is None and limits.connect("::1") is None  # loopback: itself
