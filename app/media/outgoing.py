"""What the local participant sends: one encoder per local track, shared by every peer.

``new_tracks()`` gives one more peer its (audio, camera) tracks. With encode-once (the default)
they are EncodedTracks of two SharedEncoders, created on first use; with ``encode_once=False``
(the benchmark's stock-aiortc baseline) they are plain per-peer tracks, each encoded by its own
RTCRtpSender. ``aclose()`` (idempotent) ends the shared encoders; the feeds belong to the caller.
"""

from __future__ import annotations

import time

from aiortc import MediaStreamTrack

from app.media.audio_tracks import AudioFeed
from app.media.encode_once import SharedEncoder
from app.media.quality import QualityController
from app.media.video import VideoFeed


class Outgoing:
    def __init__(
        self,
        audio: AudioFeed,
        video: VideoFeed,
        *,
        encode_once: bool = True,
        pin_quality: bool = False,
    ) -> None:
        self._audio, self._video = audio, video
        self.encode_once = encode_once
        self.pin_quality = pin_quality  # keep the capture size and rate (benchmarks)
        self.room_capacity: int | None = None
        self.audio_encoder: SharedEncoder | None = None
        self.video_encoder: SharedEncoder | None = None
        self._closed = False

    def new_tracks(self) -> tuple[MediaStreamTrack, MediaStreamTrack]:
        if not self.encode_once or self._closed:
            return self._audio.new_track(), self._video.new_track()
        if self.audio_encoder is None:
            self.audio_encoder = SharedEncoder(self._audio.new_track(stereo=False))
        if self.video_encoder is None:
            source = self._video.source
            quality = QualityController(
                source.width,
                source.height,
                round(self._video.fps),
                pinned=self.pin_quality,
                clock=time.monotonic,
            )
            quality.room_capacity = self.room_capacity
            self.video_encoder = SharedEncoder(
                self._video.new_track(), quality=quality, noisy=self._noisy_source
            )
        return self.audio_encoder.new_track(), self.video_encoder.new_track()

    def _noisy_source(self) -> bool:
        """Whether the camera's picture has sensor noise (unknown sources: assume so)."""
        return bool(getattr(self._video.source, "noisy", True))

    def set_room_capacity(self, capacity: int) -> None:
        """The room's size (4 / 8 / 16 people) caps the picture: 720p / 480p / 360p."""
        self.room_capacity = capacity
        if self.video_encoder is not None and self.video_encoder.quality is not None:
            self.video_encoder.quality.room_capacity = capacity

    async def aclose(self) -> None:
        self._closed = True
        for encoder in (self.audio_encoder, self.video_encoder):
            if encoder is not None:
                await encoder.aclose()
