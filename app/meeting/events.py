"""What a Session tells the world: plain frozen dataclasses, no Qt. The UI bridge turns them
into Qt signals; the headless CLI prints them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class Progress(Event):
    """One step of joining: rendezvous, room, peers, handshake, media."""

    step: int  # 1..5
    text: str


@dataclass(frozen=True)
class PeerJoined(Event):
    peer_id: str
    name: str


@dataclass(frozen=True)
class PeerLeft(Event):
    peer_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class ConnectionChanged(Event):
    peer_id: str
    state: str  # new | connecting | connected | failed | closed


@dataclass(frozen=True)
class PeerConnected(Event):
    peer_id: str
    name: str
    path: str  # host | direct | srflx | relay (app.net.peers.PeerLink.path)
    safety_code: str
    connect_ms: float


@dataclass(frozen=True)
class TrackAdded(Event):
    peer_id: str
    kind: str  # audio | video | screen


@dataclass(frozen=True)
class FirstFrame(Event):
    peer_id: str
    name: str
    kind: str
    after_ms: float  # since the session began to join, or since the peer came, if later


@dataclass(frozen=True)
class ChatReceived(Event):
    peer_id: str
    name: str
    text: str


@dataclass(frozen=True)
class PeerMediaChanged(Event):
    peer_id: str
    mic: bool
    cam: bool
    screen: bool


@dataclass(frozen=True)
class Rejoined(Event):
    """Back in the room after losing the rendezvous (links are being made afresh)."""


@dataclass(frozen=True)
class RendezvousLost(Event):
    """Signaling is gone; calls already connected keep their media."""

    detail: str
    with_others: bool = False  # some peers are still connected: the call goes on meanwhile


@dataclass(frozen=True)
class RoomInfo(Event):
    expires_at: float
    capacity: int


@dataclass(frozen=True)
class Notice(Event):
    text: str


@dataclass(frozen=True)
class ScreenShareStopped(Event):
    """Our screen share ended by itself (the screen could no longer be captured)."""

    reason: str  # what happened and what to do, in words


@dataclass(frozen=True)
class SessionEnded(Event):
    reason: str  # left | ended | expired | disconnected | error text


#: why a call ended, in words, by SessionEnded.reason
ENDED_TEXT = {
    "left": "You left the call.",
    "ended": "The host ended the meeting.",
    "expired": "The meeting reached the end of its time.",
    "disconnected": "You were cut off from the meeting: for two minutes neither the meeting "
    "nor anyone in it could be reached (the host may have closed PeerMeet, or this computer "
    "or theirs is offline).",
}


def others_here(count: int) -> str:
    """How many others were in the room when we joined, in words."""
    if count == 0:
        return "nobody else here yet"
    return "1 other here" if count == 1 else f"{count} others here"
