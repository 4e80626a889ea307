"""What the desktop app's Bridge runs on a call's engine thread (app.meeting.engine), Qt-free:
ending a call and measuring one connection for the people panel."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from app.meeting.headless import close_media
from app.meeting.media import LocalMedia
from app.meeting.screenshare import ScreenShare, links_of
from app.meeting.session import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeerStats:
    """One connection's figures; counters are cumulative (the panel turns them into rates)."""

    path: str  # host (LAN) | direct (public IPs) | srflx (via NAT) | relay (TURN) | unknown
    address: str  # remote ip:port, "" if unknown; show it only when the user asks
    rtt_ms: float
    packets_lost: int
    bytes_in: int
    bytes_out: int
    fps: float  # camera frames per second received over the last 2 s
    frames: int  # camera frames received
    at: float  # time.monotonic() of the measurement
    measured: bool = True  # False: the connection gave no figures (only path and address)
    screen_fps: float | None = None  # their shared screen's frames per second; None: no share


async def end_call(screen: ScreenShare | None, session: Session | None, media: LocalMedia) -> None:
    """Stop sharing the screen, leave the call (if it was joined) and close its media."""
    try:
        if screen is not None:
            await screen.stop()  # idempotent: also catches a start that finished just now
        if session is not None:
            await session.leave()
    finally:
        await close_media(media)


async def peer_stats(session: Session, peer_id: str) -> PeerStats | None:
    """Connection figures for one peer, or None if we have no connection to it."""
    link = links_of(session).get(peer_id)
    if link is None:
        return None
    measured = True
    try:
        raw = await link.stats()
    except Exception:  # closed while we asked, or aiortc lacks a figure
        log.debug("no connection figures for %s", peer_id, exc_info=True)
        raw, measured = {"rtt_ms": 0.0, "packets_lost": 0, "bytes_in": 0, "bytes_out": 0}, False
    remote, screen = (
        session.media.remote_video(peer_id),
        session.media.remote_video(peer_id, "screen"),
    )
    return PeerStats(
        path=link.path(),
        address=link.remote_address(),
        rtt_ms=raw["rtt_ms"],
        packets_lost=int(raw["packets_lost"]),
        bytes_in=int(raw["bytes_in"]),
        bytes_out=int(raw["bytes_out"]),
        fps=remote.fps if remote else 0.0,
        frames=session.media.video_frames(peer_id),
        at=time.monotonic(),
        measured=measured,
        screen_fps=screen.fps if screen else None,
    )
