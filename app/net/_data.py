"""Messages between peers over the WebRTC data channel (the ``data`` family; app.net.protocol
exports them). See docs/signaling-protocol.md, section 3."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import NamedTuple

from app.errors import ProtocolError
from app.net._codec import Message
from app.net._codec import message_type as _message

#: a message longer than a ``chat`` takes (app.net.text.MAX_CHAT_CHARS) goes in up to this many
#: parts; the app sends at most 9 (its box holds 4 x MAX_CHAT_CHARS, cut at half a part or more)
MAX_PARTS = 16
#: a part's ``msg_id``: "<the message's id>:<i>/<n>" (part i of n, counted from 1). It rides in
#: msg_id, not a field of its own: PeerMeet before parts refused a message with a field it did
#: not know, and it took these as messages of their own (its ids were uuid hex, without ":").
_PART_ID = re.compile(r"([0-9A-Za-z_-]{1,40}):([1-9][0-9]?)/([1-9][0-9]?)")


class ChatPart(NamedTuple):
    """Which part of a longer message a ``chat`` is."""

    message: str  # the id the parts share
    number: int  # 1 ... total
    total: int


@_message("data", "chat")
@dataclasses.dataclass(frozen=True)
class Chat(Message):
    text: str
    msg_id: str  # unique per line (receivers drop a repeat); a part's says which (_PART_ID)

    @property
    def part(self) -> ChatPart | None:
        """Which part of a longer message this is; None for a message whole (or whose id only
        looks like a part's, with i > n or n > MAX_PARTS: shown whole, as before parts)."""
        found = _PART_ID.fullmatch(self.msg_id)
        if found is None:
            return None
        number, total = int(found[2]), int(found[3])
        return ChatPart(found[1], number, total) if number <= total <= MAX_PARTS else None

    @classmethod
    def in_parts(cls, texts: Sequence[str], message_id: str) -> list[Chat]:
        """``texts`` (one message cut in parts, in order) as the ``chat`` lines that carry it:
        one text goes as a message whole, with ``message_id`` as its id."""
        if not 0 < len(texts) <= MAX_PARTS or not _PART_ID.fullmatch(f"{message_id}:1/1"):
            raise ProtocolError(f"cannot send {len(texts)} parts with id {message_id!r}")
        if len(texts) == 1:
            return [cls(texts[0], message_id)]
        n = len(texts)
        return [cls(text, f"{message_id}:{i}/{n}") for i, text in enumerate(texts, 1)]


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


@_message("data", "rv_id")
@dataclasses.dataclass(frozen=True)
class RendezvousId(Message):
    """The sender got back into the room under a new rendezvous peer id, ``peer_id``: signaling
    from and to that id is this connection's peer (app.meeting.whois). Over the data channel,
    so only this connection's peer can say it. PeerMeet before it drops it (unknown type)."""

    peer_id: str


@_message("data", "rv_gone")
@dataclasses.dataclass(frozen=True)
class RendezvousGone(Message):
    """The sender lost its rendezvous connection (it gets back in under a new id, said by a
    ``rv_id`` then): signaling to its id there reaches it no more, and a newcomer on the
    rendezvous may be it. Its own heartbeat often notices a silent path long before the
    server's does, so its new id may come while the server still lists the old one. PeerMeet
    before it drops it (unknown type)."""


@_message("data", "resume_token")
@dataclasses.dataclass(frozen=True)
class ResumeToken(Message):
    """A one-time secret for this connection's peer to show back (signal ``resume``) should it
    get back into the room under a new rendezvous id after this connection died, as in a
    network change (app.meeting.resume). Over the data channel: only that peer gets it. Each
    new connection brings a new one. PeerMeet before it drops it (unknown type)."""

    token: str
