"""The local participant's media, shared by every peer connection of one session.

Owns nothing it did not create: the feeds and the speaker are built by the caller (CLI or UI)
and closed by it; this class owns the per-peer receivers it starts."""

from __future__ import annotations

from collections.abc import Callable

from aiortc import MediaStreamTrack

from app.media.audio_tracks import AudioFeed
from app.media.mixer import SpeakerMixer
from app.media.outgoing import Outgoing
from app.media.remote import RemoteVideo
from app.media.video import VideoFeed

#: optional hook on every remote track before it is played (e.g. measuring it)
TrackTap = Callable[[str, str, MediaStreamTrack], MediaStreamTrack]


class LocalMedia:
    def __init__(
        self,
        audio: AudioFeed,
        video: VideoFeed,
        speaker: SpeakerMixer,
        *,
        encode_once: bool = True,
        pin_quality: bool = False,
    ) -> None:
        self.audio = audio
        self.video = video
        self.speaker = speaker
        audio.far_end = speaker.playing  # no "you are muted" for the others' voices (echo)
        self.outgoing = Outgoing(audio, video, encode_once=encode_once, pin_quality=pin_quality)
        self.tap: TrackTap | None = None
        self._remote: dict[tuple[str, str], RemoteVideo] = {}
        self._retired: dict[tuple[str, str], int] = {}  # frame counts of peers that left

    @property
    def mic_on(self) -> bool:
        return not self.audio.muted

    @property
    def heard(self) -> bool:
        """What the others are told of our microphone: on, and one is there (none plugged in:
        they hear silence, so they see us muted)."""
        return self.mic_on and self.audio.present()

    @property
    def camera_on(self) -> bool:
        return self.video.enabled

    def set_room_capacity(self, capacity: int) -> None:
        self.outgoing.set_room_capacity(capacity)

    def new_tracks(self) -> tuple[MediaStreamTrack, MediaStreamTrack]:
        """A fresh (audio, camera) pair of sending tracks for one more peer."""
        return self.outgoing.new_tracks()

    def attach(
        self, peer_id: str, kind: str, track: MediaStreamTrack, on_first: Callable[[], None]
    ) -> None:
        if self.tap is not None:
            track = self.tap(peer_id, kind, track)
        if kind == "audio":
            self.speaker.attach(peer_id, track)
        else:
            self._remote[(peer_id, kind)] = RemoteVideo(track, on_first_frame=on_first)

    async def detach(self, peer_id: str) -> None:
        self.speaker.detach(peer_id)
        for key in [k for k in self._remote if k[0] == peer_id]:
            remote = self._remote.pop(key)
            self._retired[key] = self._retired.get(key, 0) + remote.frames
            await remote.close()

    def remote_video(self, peer_id: str, kind: str = "video") -> RemoteVideo | None:
        return self._remote.get((peer_id, kind))

    def video_frames(self, peer_id: str, kind: str = "video") -> int:
        remote = self._remote.get((peer_id, kind))
        return self._retired.get((peer_id, kind), 0) + (remote.frames if remote else 0)

    def audio_frames(self, peer_id: str) -> int:
        return self.speaker.frames_received.get(peer_id, 0)

    async def close(self) -> None:
        await self.outgoing.aclose()
        for key in list(self._remote):
            await self._remote.pop(key).close()
