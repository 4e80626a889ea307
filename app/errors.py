"""One exception tree. Every message says what happened and what the user can do."""

from __future__ import annotations

import os


class PeerMeetError(Exception):
    """Base of every error PeerMeet raises on purpose."""

    #: short machine-readable code, stable across versions
    code = "error"
    #: process exit status used by the CLI
    exit_status = 1


class LinkError(PeerMeetError):
    """A meeting link could not be understood."""

    code = "malformed_link"
    exit_status = 2


class OptionError(PeerMeetError):
    """Command-line options that argparse alone cannot check (a STUN/TURN address, a TURN
    server without its user name and password)."""

    code = "bad_option"
    exit_status = 2


class ProtocolError(PeerMeetError):
    """A message on the wire is malformed, too large, or of an unknown kind/version."""

    code = "bad_message"


class SealError(PeerMeetError):
    """A sealed signaling message failed to open (wrong key, tampered, replayed, spliced)."""

    code = "bad_seal"


class RendezvousUnreachable(PeerMeetError):
    """No connection to a rendezvous. ``where`` (``host:port``) and ``reason`` (in words), when
    known, let the host's side say it in its own terms (it runs no PeerMeet to ask about)."""

    code = "unreachable"
    exit_status = 3

    def __init__(self, message: str, *, where: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.where, self.reason = where, reason


class UntrustedCertificate(RendezvousUnreachable):
    """A rendezvous answered https with a certificate this computer does not trust (self-signed,
    expired, for another name): never stepped around, and said as such, not as "unreachable"."""

    code = "untrusted_certificate"


class RoomRefused(PeerMeetError):
    """The rendezvous refused to let us in (expired, full, wrong secret, no such room ...)."""

    exit_status = 4

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RoomEnded(PeerMeetError):
    code = "room_ended"


class HostKeyChanged(PeerMeetError):
    """A LAN room is announced or answered with another host key than expected."""

    code = "host_key_changed"
    exit_status = 5


class MediaError(PeerMeetError):
    """A camera, microphone or speaker could not be used."""

    code = "media"


class StorageError(PeerMeetError):
    """A file of the user's (settings, My meetings) could not be written."""

    code = "storage"


#: What a person reads for each refusal code the rendezvous sends.
REFUSAL_TEXT = {
    "no_such_room": "No meeting matches this link. It may have ended: ask the host for a new link.",
    "wrong_secret": "Wrong or outdated link: the secret part does not match this meeting. "
    "Ask the host to send the link again.",
    "room_expired": "This meeting has expired. Ask the host to start a new one.",
    "room_ended": "The host has ended this meeting. Ask them for a new link to meet again.",
    "room_full": "This meeting is full. "
    "Ask the host to pick a larger size, or wait for a free seat.",
    "room_exists": "A meeting with this secret is already running.",
    "too_many_rooms": "The rendezvous server is busy (too many meetings). Try again later.",
    "rate_limited": "Too many messages too fast; the rendezvous server slowed us down.",
    "too_large": "A message was too large for the rendezvous server.",
    "bad_message": "The rendezvous server did not understand a message (version mismatch?). "
    "Update PeerMeet on both sides.",
    "bad_request": "The rendezvous server refused the request.",
    "not_owner": "Only the host who started the meeting can do that.",
    "not_joined": "Join the meeting first.",
    "idle": "Disconnected after being idle too long.",
    "address_limit": "The rendezvous server has too many connections or meetings from your "
    "network address. Leave other meetings, or try again in a minute.",
    "server_full": "The rendezvous server has as many connections as it takes. "
    "Try again in a few minutes.",
    "not_here": "This rendezvous is part of someone's PeerMeet and holds only their own "
    "meetings. To host one, start it in your PeerMeet, or use a standalone peermeet-rendezvous.",
    "no_knock": "This host does not take knocks. Ask the host for the meeting link.",
    "denied": "The host did not let you in. Ask them directly if you think this is a mistake.",
    "knock_timeout": "The host did not answer your knock in time. "
    "Knock again, or ask the host for the link.",
    "knock_busy": "The host is busy answering other knocks. Wait a moment and knock again.",
    "knock_limited": "Too many knocks from your address. Wait a minute, then knock again.",
    "knock_outdated": "Update PeerMeet to knock on this room: the host's app is newer and does "
    "not take knocks from this version. Or ask the host for the link.",
    "host_leaving": "The host closed PeerMeet before answering your knock. The meeting comes "
    "back when they open it again: knock then, or ask them for the link.",
}


def refusal(code: str, detail: str = "") -> RoomRefused:
    text = REFUSAL_TEXT.get(code, f"The rendezvous server refused: {code}.")
    return RoomRefused(code, f"{text} ({detail})" if detail else text)


def os_reason(exc: OSError) -> str:
    """An OSError in words ("Address already in use"), from its errno where it has one:
    asyncio's bind error puts the address tuple into its strerror."""
    if isinstance(exc.errno, int) and exc.errno > 0:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc)
