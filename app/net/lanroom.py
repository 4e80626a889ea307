"""What a LAN announcement says about a room (mDNS TXT), and the strict parser for it.

Everything received from the LAN is an untrusted hint: ``parse_txt`` rejects anything odd, and
nothing in it is trusted until the host proves its key during a knock. The secret is never here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from app.errors import ProtocolError
from app.net.knock import FINGERPRINT_HEX
from app.net.protocol import VERSION
from app.net.text import clean_name

SIZES = ("small", "mid", "large")
MAX_CAPACITY = 64
_ROOM_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
_FP_RE = re.compile(rf"^[0-9a-f]{{{FINGERPRINT_HEX}}}\Z")
_INT_RE = re.compile(r"^[0-9]{1,12}\Z")


@dataclass(frozen=True)
class LanRoom:
    room: str  # room name (the link path)
    host: str  # host's display name
    size: str
    people: int
    capacity: int
    expires_at: int  # unix seconds
    fingerprint: str  # host identity key fingerprint (hex)

    def to_txt(self) -> dict[str, str]:
        return {
            "v": str(VERSION),
            "room": self.room,
            "host": self.host,
            "size": self.size,
            "n": str(self.people),
            "max": str(self.capacity),
            "exp": str(self.expires_at),
            "fp": self.fingerprint,
        }


@dataclass(frozen=True)
class FoundRoom:
    """A room seen on the LAN: the announcement plus where its rendezvous listens."""

    instance: str  # mDNS service instance name
    info: LanRoom
    addresses: tuple[str, ...]
    port: int

    def to_json(self, now: float) -> dict[str, Any]:
        row: dict[str, Any] = asdict(self.info)
        row.update(
            seconds_left=max(0, int(self.info.expires_at - now)),
            addresses=list(self.addresses),
            port=self.port,
            instance=self.instance,
        )
        return row


def parse_txt(props: Mapping[bytes, bytes | None]) -> LanRoom:
    """Validate a TXT record; ProtocolError says what is wrong. Unknown keys are ignored."""
    text: dict[str, str] = {}
    for key, value in props.items():
        try:
            text[key.decode("ascii").lower()] = (value or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("TXT record is not valid text") from None
    if text.get("v") != str(VERSION):
        raise ProtocolError(f"announcement speaks protocol {text.get('v')!r}, not {VERSION}")
    room, fp, size = text.get("room", ""), text.get("fp", ""), text.get("size", "")
    if not _ROOM_RE.match(room):
        raise ProtocolError("announcement has a bad room name")
    if not _FP_RE.match(fp):
        raise ProtocolError("announcement has a bad host key fingerprint")
    if size not in SIZES:
        raise ProtocolError("announcement has a bad room size")
    host = clean_name(text.get("host", ""))
    if not host:
        raise ProtocolError("announcement has no host name")
    people, capacity, expires = (_int(text, k) for k in ("n", "max", "exp"))
    if not 0 < capacity <= MAX_CAPACITY or people > capacity:
        raise ProtocolError("announcement has a bad people count")
    return LanRoom(room, host, size, people, capacity, expires, fp)


def _int(text: Mapping[str, str], key: str) -> int:
    value = text.get(key, "")
    if not _INT_RE.match(value):
        raise ProtocolError(f"announcement field {key!r} is not a number")
    return int(value)
