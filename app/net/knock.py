"""Knock-to-join crypto (pure, no I/O but the identity file). See docs/security.md.

* The host has a long-term X25519 *identity* key; its fingerprint goes into the LAN announcement.
* A guest knocks with a commitment to a fresh X25519 key, gets the host's key and a commitment
  to a fresh nonce, then reveals its key; the host then puts the knock to its user and reveals
  the nonce. Both screens show ``knock_code(host, guest, nonce)`` ("4 8 2 1"). Neither side can
  know the code before both have committed, so a man in the middle cannot grind a key whose code
  matches the guest's, nor learn a host-side code without the host seeing a prompt for it.
* On admit the host seals the link secret with AES-256-GCM under
  ``HKDF(X25519(host identity, guest key))``: only the holder of the announced identity key can
  produce an answer the guest can open.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import platformdirs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.errors import PeerMeetError, SealError
from app.net.seal import b64d, b64e

log = logging.getLogger(__name__)
KEY_BYTES = 32
NONCE_BYTES = 16
FINGERPRINT_HEX = 32  # 128 bits
_SALT = b"peermeet/knock/1"


def default_identity_path() -> Path:
    return Path(platformdirs.user_data_dir("peermeet")) / "host-identity.key"


def fingerprint(pub: bytes) -> str:
    """Short hash of a host's public key, as hex: what the announcement carries and pins store."""
    return hashlib.sha256(b"peermeet/host-key/1|" + pub).hexdigest()[:FINGERPRINT_HEX]


def pretty_fingerprint(fp: str) -> str:
    """``a1b2c3d4…`` -> ``a1b2 c3d4 …`` for people to read aloud."""
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


def commitment(guest_pub: bytes) -> bytes:
    return hashlib.sha256(b"peermeet/knock-commit/1|" + guest_pub).digest()


def nonce_commitment(nonce: bytes) -> bytes:
    """What ``knock_wait`` carries instead of the host's nonce."""
    return hashlib.sha256(b"peermeet/knock-nonce/1|" + nonce).digest()


def knock_code(host_pub: bytes, guest_pub: bytes, nonce: bytes) -> str:
    """Four digits both screens show, e.g. ``"4 8 2 1"``."""
    digest = hashlib.sha256(b"peermeet/knock-code/1|" + host_pub + guest_pub + nonce).digest()
    return " ".join(f"{int.from_bytes(digest[:8], 'big') % 10_000:04d}")


def decode_key(text: str) -> bytes:
    """A base64url X25519 public key from the wire; SealError if it is not 32 bytes."""
    raw = b64d(text)
    if len(raw) != KEY_BYTES:
        raise SealError("a knock key must be 32 bytes")
    return raw


def _box_key(
    private: X25519PrivateKey, peer: bytes, host: bytes, guest: bytes, nonce: bytes
) -> bytes:
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer))
    except ValueError:
        raise SealError("unusable X25519 key") from None
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=host + guest + nonce)
    return hkdf.derive(shared)


def _aad(room: str) -> bytes:
    return _SALT + b"|" + room.encode()


def _public(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class HostIdentity:
    """The host's long-term key pair."""

    def __init__(self, private: X25519PrivateKey) -> None:
        self._private = private
        self.public = _public(private)
        self.public_b64 = b64e(self.public)
        self.fingerprint = fingerprint(self.public)

    @classmethod
    def generate(cls) -> HostIdentity:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path | None = None) -> HostIdentity:
        """Read the key from ``path`` (default: the user data dir), creating it (0600) once."""
        path = path or default_identity_path()
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return cls._create(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise PeerMeetError(f"Cannot read the host key file {path} ({exc}).") from None
        try:
            raw = b64d(text)
            if len(raw) != KEY_BYTES:
                raise SealError("wrong length")
            return cls(X25519PrivateKey.from_private_bytes(raw))
        except (SealError, ValueError):
            raise PeerMeetError(
                f"The host key file {path} is damaged. Delete it to make a new key "
                "(guests will then see a 'host key changed' warning once)."
            ) from None

    @classmethod
    def _create(cls, path: Path) -> HostIdentity:
        identity = cls.generate()
        raw = identity._private.private_bytes_raw()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return cls.load_or_create(path)
        except OSError as exc:
            raise PeerMeetError(f"Cannot save the host key to {path} ({exc}).") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(b64e(raw) + "\n")
        log.info("created host key %s at %s", identity.fingerprint, path)
        return identity

    def seal_secret(self, guest_pub: bytes, nonce: bytes, room: str, secret: str) -> str:
        """The admit box: the link secret only this guest's key can open."""
        key = _box_key(self._private, guest_pub, self.public, guest_pub, nonce)
        iv = os.urandom(12)
        return b64e(iv + AESGCM(key).encrypt(iv, secret.encode(), _aad(room)))


class GuestKey:
    """A guest's one-knock X25519 key."""

    def __init__(self, private: X25519PrivateKey | None = None) -> None:
        self._private = private or X25519PrivateKey.generate()
        self.public = _public(self._private)
        self.commitment = commitment(self.public)

    def open_secret(self, host_pub: bytes, nonce: bytes, room: str, box: str) -> str:
        """The link secret from an admit box; SealError unless the announced host sealed it."""
        raw = b64d(box)
        if len(raw) < 12 + 16:
            raise SealError("the admit box is truncated")
        key = _box_key(self._private, host_pub, host_pub, self.public, nonce)
        try:
            plain = AESGCM(key).decrypt(raw[:12], raw[12:], _aad(room))
        except InvalidTag:
            raise SealError("the admit box was not sealed by the announced host key") from None
        try:
            return plain.decode("ascii")
        except UnicodeDecodeError:
            raise SealError("the admit box holds no link secret") from None
