"""What widgets read of the call the Bridge (app.ui.bridge) runs: plain attribute reads of
its session, media and screen share, made on the GUI thread while the engine runs the call
(the newest frames, levels, the roster)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.config import EngineConfig
from app.meeting.links import Link
from app.meeting.roster import PeerInfo
from app.meeting.screenshare import ScreenShare
from app.meeting.session import Session


class CallReads:
    """The Bridge's read-only side (it sets these attributes; nothing here changes them)."""

    config: EngineConfig
    session: Session | None
    link: Link | None
    title_of: Callable[[str], str]
    _mic_on: bool
    _camera_on: bool
    _screen: ScreenShare | None

    @property
    def in_call(self) -> bool:
        return self.session is not None

    @property
    def mic_on(self) -> bool:
        return self._mic_on if self.session else True

    @property
    def mic_found(self) -> bool:
        """False while the call has no microphone at all (none plugged in, say)."""
        return self.session is None or self.session.media.audio.present()

    @property
    def camera_on(self) -> bool:
        return self._camera_on if self.session else True

    @property
    def camera_failed(self) -> str:
        """Why the camera stopped working in this call ("" if it did not)."""
        return (self.session.media.video.last_error or "") if self.session else ""

    @property
    def sharing_screen(self) -> bool:
        return self._screen is not None and self._screen.active

    @property
    def display_name(self) -> str:
        return self.session.config.display_name if self.session else self.config.display_name

    @property
    def room_name(self) -> str:
        return (self.title_of(str(self.link)) or self.link.room) if self.link else ""

    @property
    def expires_at(self) -> float:
        """When the room ends (unix time; 0 before joining); extensions included."""
        return self.session.expires_at if self.session else 0.0

    def peers(self) -> dict[str, PeerInfo]:
        return dict(self.session.peers) if self.session else {}

    def remote_frame(self, peer_id: str, kind: str = "video") -> Any:
        """Newest decoded av.VideoFrame from a peer, or None."""
        if self.session is None:
            return None
        remote = self.session.media.remote_video(peer_id, kind)
        return remote.latest if remote else None

    def local_frame(self) -> Any:  # (None while the camera is off: what it sends then is black)
        return v.latest if self.session and (v := self.session.media.video).enabled else None

    def local_screen_frame(self) -> Any:
        """Newest frame of our own screen share (its preview tile), or None."""
        screen = self._screen
        return screen.latest if screen is not None else None

    def audio_level(self, peer_id: str = "") -> float:
        """How loud a peer is now (RMS 0..1); "" for our own microphone (0 while muted)."""
        if self.session is None:
            return 0.0
        media = self.session.media
        return media.audio.level if not peer_id else media.speaker.level(peer_id)

    def muted_speech(self) -> int:
        """How often we seemed to talk while muted in this call (a counter that only grows)."""
        return self.session.media.audio.muted_speech if self.session else 0
