"""End-to-end sealing of signaling: the rendezvous relays blobs it can neither read nor forge.

From the link's SECRET, HKDF-SHA256 derives two independent values:

* ``room_id`` - 128 bits the server sees and uses as the room's key;
* ``key``     - 256 bits for AES-256-GCM that never leaves the peers.

A sealed blob is ``base64url(nonce[12] || AESGCM(key, nonce, plaintext, aad))`` with
``aad = b"peermeet/1|" + room_id`` and ``plaintext = JSON {from, to, seq, msg}``. The opener
checks that ``from`` equals the sender the server reported, that ``to`` is itself or ``*``,
and that ``seq`` grows per sender - so tampering, replays and splices between rooms or
peers all fail. Browsers' WebCrypto has HKDF and AES-GCM, so a web guest can do the same.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.errors import ProtocolError, SealError
from app.net import protocol

_SALT = b"peermeet/1"
_NONCE = 12


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64d(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise SealError("not base64url") from None


def _hkdf(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(secret)


@dataclass(frozen=True)
class RoomKeys:
    room_id: str  # what the server sees
    key: bytes  # what it never sees

    @classmethod
    def from_secret(cls, secret: str) -> RoomKeys:
        raw = b64d(secret)
        if len(raw) < 16:
            raise SealError("secret is shorter than 128 bits")
        return cls(room_id=b64e(_hkdf(raw, b"room-id", 16)), key=_hkdf(raw, b"signal-key", 32))


class Sealer:
    """Seals outgoing and opens incoming signaling for one member of one room."""

    def __init__(
        self, keys: RoomKeys, my_id: str, random: Callable[[int], bytes] = os.urandom
    ) -> None:
        self._aead = AESGCM(keys.key)
        self._aad = b"peermeet/1|" + keys.room_id.encode()
        self._my_id = my_id
        self._random = random
        self._seq = 0
        self._last_seen: dict[str, int] = {}

    def seal(self, to: str | None, msg: protocol.Message) -> str:
        self._seq += 1
        plain = json.dumps(
            {"from": self._my_id, "to": to or "*", "seq": self._seq, "msg": msg.to_dict()},
            separators=(",", ":"),
        ).encode()
        nonce = self._random(_NONCE)
        return b64e(nonce + self._aead.encrypt(nonce, plain, self._aad))

    def open(self, sender: str, blob: str) -> protocol.Message:
        """Open a blob the server says came from ``sender``; SealError means: drop it."""
        raw = b64d(blob)
        if len(raw) < _NONCE + 16:
            raise SealError("sealed message is truncated")
        try:
            plain = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad)
        except InvalidTag:
            raise SealError(
                "cannot open: wrong or outdated link, or the message was altered"
            ) from None
        try:
            env = json.loads(plain)
            src, dst, seq, body = env["from"], env["to"], env["seq"], env["msg"]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise SealError("sealed envelope is malformed") from None
        if src != sender:
            raise SealError(f"message claims to be from {src!r} but came from {sender!r}")
        if dst not in ("*", self._my_id):
            raise SealError("message was addressed to another peer")
        if not isinstance(seq, int) or seq <= self._last_seen.get(sender, 0):
            raise SealError("replayed or reordered message")
        try:
            msg = protocol.from_dict("signal", body)
        except ProtocolError as exc:
            raise SealError(f"sealed message is malformed: {exc}") from None
        self._last_seen[sender] = seq
        return msg
