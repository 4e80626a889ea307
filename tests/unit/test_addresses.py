"""This machine's own networks, read from its real interfaces (loopback is always there)."""

from __future__ import annotations

from app.net.addresses import same_network


def test_an_address_in_the_network_of_one_of_ours_is_the_same_network() -> None:
    assert same_network("127.0.0.1", "127.0.0.9")  # (lo: 127.0.0.1/8)
    assert not same_network("127.0.0.1", "93.184.216.34")
    assert not same_network("203.0.113.77", "203.0.113.78")  # not an address of this machine
    assert not same_network("127.0.0.1", "peer.local")  # (a name: not known to be ours)
