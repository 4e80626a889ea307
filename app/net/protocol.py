"""Pure codec for every PeerMeet message (no I/O). See docs/signaling-protocol.md.

Three families share one JSON shape, ``{"v": 1, "type": "...", ...fields}``:

* ``rv``     - between a client and the rendezvous server (plain JSON over a websocket);
* ``signal`` - between peers, always inside a sealed blob the server cannot read;
* ``data``   - between peers over the WebRTC data channel (DTLS-protected).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from app.errors import ProtocolError
from app.net.text import is_utf8

VERSION = 1
#: Largest encoded message on any channel (bytes). SDP with many candidates is ~6 KB.
MAX_MESSAGE_BYTES = 64 * 1024

_REGISTRY: dict[str, dict[str, type[Message]]] = {"rv": {}, "signal": {}, "data": {}}
_HINTS: dict[type[Message], dict[str, Any]] = {}


@dataclasses.dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""
    FAMILY: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": VERSION, "type": self.TYPE}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            body[f.name] = list(value) if isinstance(value, tuple) else value
        return body

    def encode(self) -> str:
        text = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"{self.TYPE} message is larger than {MAX_MESSAGE_BYTES} bytes")
        return text


M = TypeVar("M", bound=type[Message])


def _message(family: str, type_name: str) -> Callable[[M], M]:
    def register(cls: M) -> M:
        cls.TYPE = type_name
        cls.FAMILY = family
        _REGISTRY[family][type_name] = cls
        return cls

    return register


def _check(name: str, value: Any, hint: Any) -> Any:
    """Validate one JSON value against a field annotation; return the Python value."""
    if hint is str and isinstance(value, str):
        if not is_utf8(value):
            raise ProtocolError(f"field {name!r} is not valid Unicode")
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # (1e999, Infinity, NaN: json reads them)
            raise ProtocolError(f"field {name!r} is not a finite number")
        return float(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _check(name, value, inner[0])
    if origin is tuple and isinstance(value, list):
        (item,) = typing.get_args(hint)[:1]
        return tuple(_check(name, v, item) for v in value)
    raise ProtocolError(f"field {name!r} has the wrong type")


def from_dict(family: str, body: Any) -> Message:
    if not isinstance(body, dict):
        raise ProtocolError("message is not a JSON object")
    version = body.get("v")
    if type(version) is not int or version != VERSION:  # (true and 1.0 equal 1 in Python)
        raise ProtocolError(f"unsupported protocol version {version!r} (this app speaks {VERSION})")
    type_name = body.get("type")
    cls = _REGISTRY[family].get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise ProtocolError(f"unknown {family} message type {type_name!r}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in body:
            raise ProtocolError(f"{type_name} message lacks field {f.name!r}")
        kwargs[f.name] = _check(f.name, body[f.name], hints[f.name])
    extra = set(body) - {"v", "type"} - set(kwargs)
    if extra:
        raise ProtocolError(f"{type_name} message has unknown fields {sorted(extra)}")
    return cls(**kwargs)


def decode(family: str, data: str | bytes) -> Message:
    """Decode one message of ``family``; raise ProtocolError on anything malformed."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"message is not valid JSON ({exc})") from None
    except RecursionError:  # e.g. [[[[… thousands deep
        raise ProtocolError("message is nested too deeply") from None
    return from_dict(family, body)


# --- client <-> rendezvous ("rv") ----------------------------------------------------------


@_message("rv", "create")
@dataclasses.dataclass(frozen=True)
class Create(Message):
    room: str  # room id derived from the secret (base64url)
    hint: str  # human room name, only used to tell "wrong secret" from "no such room"
    size: str  # small | mid | large
    lifetime_s: int


@_message("rv", "join")
@dataclasses.dataclass(frozen=True)
class Join(Message):
    room: str
    hint: str


@_message("rv", "relay")
@dataclasses.dataclass(frozen=True)
class Relay(Message):
    to: str | None  # one peer id, or None for everyone else in the room
    blob: str  # sealed, base64url


@_message("rv", "leave")
@dataclasses.dataclass(frozen=True)
class Leave(Message):
    pass


@_message("rv", "end")
@dataclasses.dataclass(frozen=True)
class End(Message):
    owner_token: str


@_message("rv", "extend")
@dataclasses.dataclass(frozen=True)
class Extend(Message):
    owner_token: str
    seconds: int


@_message("rv", "manage")
@dataclasses.dataclass(frozen=True)
class Manage(Message):
    """Owner control from outside the room, taking no seat (so a full room still answers):
    ``action`` "end", or "extend" by ``seconds``. Sent instead of create/join; the answer is
    ``room_ended`` or ``extended`` (or ``error``), then the server closes the connection."""

    room: str
    owner_token: str
    action: str  # end | extend
    seconds: int  # extend only (0 with end)


@_message("rv", "ping")
@dataclasses.dataclass(frozen=True)
class Ping(Message):
    pass


@_message("rv", "pong")
@dataclasses.dataclass(frozen=True)
class Pong(Message):
    pass


@_message("rv", "joined")
@dataclasses.dataclass(frozen=True)
class Joined(Message):
    peer_id: str
    peers: tuple[str, ...]
    capacity: int
    expires_at: float  # unix time
    owner_token: str | None  # only in the answer to "create"


@_message("rv", "peer_joined")
@dataclasses.dataclass(frozen=True)
class PeerJoined(Message):
    peer_id: str


@_message("rv", "peer_left")
@dataclasses.dataclass(frozen=True)
class PeerLeft(Message):
    peer_id: str


@_message("rv", "relayed")
@dataclasses.dataclass(frozen=True)
class Relayed(Message):
    sender: str
    blob: str


@_message("rv", "room_ended")
@dataclasses.dataclass(frozen=True)
class RoomEnded(Message):
    reason: str  # expired | ended


@_message("rv", "extended")
@dataclasses.dataclass(frozen=True)
class Extended(Message):
    expires_at: float


@_message("rv", "error")
@dataclasses.dataclass(frozen=True)
class Error(Message):
    code: str
    message: str


@_message("rv", "turn")
@dataclasses.dataclass(frozen=True)
class TurnCredentials(Message):
    """Short-lived TURN credentials for a member, sent just before ``joined`` (coturn's
    ``use-auth-secret`` scheme: username ``expiry:peer_id``, password HMAC of it)."""

    urls: tuple[str, ...]  # turn:host:3478?transport=udp ... (the first is used)
    username: str
    credential: str
    ttl_s: int


# knock-to-join on the LAN (app/net/knock.py, app/net/knockdesk.py): a guest without the link
# knocks on the host's embedded rendezvous; the host admits by sending the secret, sealed.


@_message("rv", "knock2")
@dataclasses.dataclass(frozen=True)
class Knock(Message):
    """A knock where the host commits to its nonce (``knock_wait``) and reveals it only once the
    guest's key is fixed (``knock_nonce``). Replaces ``knock`` (``KnockV1``)."""

    hint: str  # the room name from the LAN announcement
    name: str  # the guest's display name, shown to the host
    commit: str  # base64url SHA-256 commitment to the guest's ephemeral X25519 key


@_message("rv", "knock")
@dataclasses.dataclass(frozen=True)
class KnockV1(Message):
    """The knock of PeerMeet before ``knock2`` (its host sent the nonce before the guest's key
    was revealed). Only decoded to tell such a guest ``knock_outdated``."""

    hint: str
    name: str
    commit: str


@_message("rv", "knock_wait")
@dataclasses.dataclass(frozen=True)
class KnockWait(Message):
    pub: str  # the host's identity X25519 public key (base64url)
    commit: str  # base64url SHA-256 commitment to the host's fresh nonce (knock.nonce_commitment)
    timeout_s: int  # how long the host has to decide


@_message("rv", "knock_reveal")
@dataclasses.dataclass(frozen=True)
class KnockReveal(Message):
    pub: str  # the guest's ephemeral X25519 public key (must match the commitment)


@_message("rv", "knock_nonce")
@dataclasses.dataclass(frozen=True)
class KnockNonce(Message):
    """The host's nonce (base64url), sent when the knock is put to the host; the guest checks it
    against ``knock_wait``'s commitment, then shows the code."""

    nonce: str


@_message("rv", "admitted")
@dataclasses.dataclass(frozen=True)
class Admitted(Message):
    pub: str  # the host's identity public key again
    box: str  # the link secret, AES-GCM sealed under X25519(host identity, guest key)


# --- peer <-> peer, sealed ("signal") --------------------------------------------------------


@_message("signal", "offer")
@dataclasses.dataclass(frozen=True)
class Offer(Message):
    sdp: str
    name: str  # sender's display name
    attempt: int  # the offerer's connection attempt to this peer: 1, 2, ... (rebuilds count up)


@_message("signal", "answer")
@dataclasses.dataclass(frozen=True)
class Answer(Message):
    sdp: str
    name: str
    attempt: int  # the offer's, echoed: an answer to a superseded offer is recognised and dropped


@_message("signal", "commit")
@dataclasses.dataclass(frozen=True)
class Commit(Message):
    """Sent just before an offer: the hash of a nonce that goes into the safety code
    (app.net.sas)."""

    attempt: int  # the offer's
    digest: str  # hex SHA-256


@_message("signal", "reveal")
@dataclasses.dataclass(frozen=True)
class Reveal(Message):
    """Sent once the answer came: the nonce committed to (hex)."""

    attempt: int
    nonce: str


@_message("signal", "candidate")
@dataclasses.dataclass(frozen=True)
class Candidate(Message):
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@_message("signal", "bye")
@dataclasses.dataclass(frozen=True)
class Bye(Message):
    reason: str


# --- peer <-> peer over the data channel ("data") ---------------------------------------------


@_message("data", "chat")
@dataclasses.dataclass(frozen=True)
class Chat(Message):
    text: str
    msg_id: str


@_message("data", "bye")
@dataclasses.dataclass(frozen=True)
class Goodbye(Message):
    """Sent over the data channel when leaving: peers drop us at once, even without signaling."""

    reason: str


@_message("data", "state")
@dataclasses.dataclass(frozen=True)
class MediaState(Message):
    mic: bool
    cam: bool
    screen: bool


def all_types() -> dict[str, dict[str, type[Message]]]:
    """Every registered message class by family and type (for docs and golden tests)."""
    return {family: dict(types_) for family, types_ in _REGISTRY.items()}
