from __future__ import annotations

import pytest

from app.errors import SealError
from app.net import protocol as p
from app.net.seal import RoomKeys, Sealer, b64d, b64e

SECRET = b64e(bytes(range(16)))
OTHER = b64e(bytes(range(1, 17)))


def test_room_id_and_key_are_independent_and_stable() -> None:
    keys = RoomKeys.from_secret(SECRET)
    assert keys == RoomKeys.from_secret(SECRET)
    assert len(b64d(keys.room_id)) == 16 and len(keys.key) == 32
    assert keys.key[:16] != b64d(keys.room_id)
    assert RoomKeys.from_secret(OTHER).room_id != keys.room_id


def test_short_secret_refused() -> None:
    with pytest.raises(SealError):
        RoomKeys.from_secret(b64e(b"short"))


def _pair() -> tuple[Sealer, Sealer]:
    keys = RoomKeys.from_secret(SECRET)
    return Sealer(keys, "alice"), Sealer(keys, "bob")


def test_round_trip_and_no_plaintext() -> None:
    alice, bob = _pair()
    offer = p.Offer(sdp="v=0\r\na=fingerprint:sha-256 AB:CD\r\n", name="Alice", attempt=1)
    blob = alice.seal("bob", offer)
    assert "fingerprint" not in blob and "Alice" not in blob
    assert b"v=0" not in b64d(blob)
    assert bob.open("alice", blob) == offer


def test_replay_dropped() -> None:
    alice, bob = _pair()
    blob = alice.seal(None, p.Bye(reason="x"))
    bob.open("alice", blob)
    with pytest.raises(SealError, match="replayed"):
        bob.open("alice", blob)


def test_reordered_old_message_dropped() -> None:
    alice, bob = _pair()
    first, second = alice.seal("bob", p.Bye(reason="1")), alice.seal("bob", p.Bye(reason="2"))
    bob.open("alice", second)
    with pytest.raises(SealError):
        bob.open("alice", first)


def test_tampered_dropped() -> None:
    alice, bob = _pair()
    raw = bytearray(b64d(alice.seal("bob", p.Bye(reason="x"))))
    raw[20] ^= 1
    with pytest.raises(SealError, match="wrong or outdated link"):
        bob.open("alice", b64e(bytes(raw)))


def test_truncated_and_garbage_dropped() -> None:
    _, bob = _pair()
    for junk in ("", "AAAA", "!!!not base64!!!"):
        with pytest.raises(SealError):
            bob.open("alice", junk)


def test_sender_splice_dropped() -> None:
    """The server claims a blob came from someone else: refused."""
    alice, bob = _pair()
    with pytest.raises(SealError, match="claims to be from"):
        bob.open("mallory", alice.seal("bob", p.Bye(reason="x")))


def test_addressed_to_another_peer_dropped() -> None:
    keys = RoomKeys.from_secret(SECRET)
    alice, carol = Sealer(keys, "alice"), Sealer(keys, "carol")
    with pytest.raises(SealError, match="another peer"):
        carol.open("alice", alice.seal("bob", p.Bye(reason="x")))


def test_cross_room_splice_dropped() -> None:
    alice = Sealer(RoomKeys.from_secret(SECRET), "alice")
    bob_elsewhere = Sealer(RoomKeys.from_secret(OTHER), "bob")
    with pytest.raises(SealError):
        bob_elsewhere.open("alice", alice.seal("bob", p.Bye(reason="x")))


def test_sealed_malformed_message_dropped() -> None:
    alice, bob = _pair()
    blob = alice.seal("bob", p.Join(room="r", hint="h"))  # an rv message inside a seal
    with pytest.raises(SealError, match="malformed"):
        bob.open("alice", blob)
