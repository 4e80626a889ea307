"""Messages between peers over the WebRTC data channel (the ``data`` family; app.net.protocol
exports them). See docs/signaling-protocol.md, section 3."""

from __future__ import annotations

import dataclasses

from app.net._codec import Message
from app.net._codec import message_type as _message


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
