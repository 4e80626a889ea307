"""Pure codec for every PeerMeet message (no I/O). See docs/signaling-protocol.md.

Three families share one JSON shape, ``{"v": 1, "type": "...", ...fields}``:

* ``rv``     - between a client and the rendezvous server (plain JSON over a websocket);
* ``signal`` - between peers, always inside a sealed blob the server cannot read;
* ``data``   - between peers over the WebRTC data channel (DTLS-protected).

The codec itself (base class, registry, checks) is app.net._codec; the ``data`` messages are in
app.net._data. Import them all from here.
"""

from __future__ import annotations

import dataclasses

from app.net._codec import MAX_MESSAGE_BYTES as MAX_MESSAGE_BYTES
from app.net._codec import VERSION as VERSION
from app.net._codec import Message as Message
from app.net._codec import all_types as all_types
from app.net._codec import decode as decode
from app.net._codec import from_dict as from_dict
from app.net._codec import message_type as _message
from app.net._data import MAX_PARTS as MAX_PARTS
from app.net._data import Chat as Chat
from app.net._data import ChatPart as ChatPart
from app.net._data import Goodbye as Goodbye
from app.net._data import MediaState as MediaState
from app.net._data import RendezvousGone as RendezvousGone
from app.net._data import RendezvousId as RendezvousId
from app.net._data import ResumeToken as ResumeToken

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


@_message("signal", "resume")
@dataclasses.dataclass(frozen=True)
class Resume(Message):
    """From someone back in the room under a new rendezvous id, to a peer whose connection to
    it died meanwhile: the token that peer gave it over that connection (data
    ``resume_token``), which shows the sender is the one it knew (app.meeting.resume)."""

    token: str
