"""Encode once per local track, send the packets to every peer.

Stock aiortc runs one encoder per RTCRtpSender, so a camera shown to three peers is encoded
three times. A SharedEncoder reads one source track (the camera feed, the microphone, later the
screen), encodes each frame once per codec in use, and hands the packets to one EncodedTrack
per peer. ``bind_sender`` makes that peer's RTCRtpSender only packetize them, and routes what
the peer says back: a keyframe request (PLI/FIR) from any peer yields one keyframe for all
(rate-limited), and each peer's bandwidth estimate (REMB) feeds one bitrate choice (the lowest,
through the quality policy). A peer that falls behind skips to the next keyframe.

Each peer's sender is pushed its packets as they are encoded (``EncodedTrack.send_directly``),
cut into RTP payloads once for all peers (``SharedEncoder.packed``). A video frame is encoded
on the loop when the encoder's mean time per frame is under INLINE_ENCODE (480p here, 720p on a
faster machine), else in a worker thread, so a large picture never holds up the loop (in the
app, the GUI) for long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from app.media.encoders import AudioEncoder, VideoEncoder
from app.media.quality import QualityController
from app.media.queued import next_item
from app.media.sender_binding import bind_sender, pack

log = logging.getLogger(__name__)
KEYFRAME_GAP = 0.3  # s: keyframe requests closer together than this are merged
QUEUE = {"video": 8, "audio": 10}  # packets a peer may lag before it must resynchronise
ADAPT_EVERY = 1.0  # s between quality decisions
RECONFIGURE_GAP = 3.0  # s between bitrate changes that reopen the encoder (each costs a keyframe)
#: s: a video frame whose encoder averages less than this per frame is encoded on the loop (at
#: most a third of a 60 Hz frame: the GUI stays smooth); handing each frame to a worker thread
#: and back cost more (about 1 % of a core per participant in a 4-mesh here)
INLINE_ENCODE = 0.005


@dataclass(frozen=True)
class Encoded:
    packet: av.Packet[Any]
    keyframe: bool
    audio_level: int | None = None


class SharedEncoder:
    """One source track, one encoder per codec, any number of peers. Create with a loop
    running; ``aclose()`` (idempotent) ends the task, the peers' tracks and the source track."""

    def __init__(
        self,
        source: MediaStreamTrack,
        *,
        quality: QualityController | None = None,
        clock: Callable[[], float] = time.monotonic,
        noisy: Callable[[], bool] = lambda: True,
    ) -> None:
        self.kind: str = source.kind
        self.quality = quality
        self.encoders: dict[str, Any] = {}  # codec name -> VideoEncoder | AudioEncoder
        self.keyframes = 0  # keyframes produced (all codecs)
        self.inline_frames = 0  # video frames encoded on the loop (see INLINE_ENCODE)
        self._source, self._clock = source, clock
        self._noisy = noisy  # whether the picture has sensor noise (asked at every adaptation)
        self._tracks: list[EncodedTrack] = []
        self._key_due: float | None = None
        self._last_key = -1e9
        self._adapted_at = -1e9
        self._reconfigured_at = -1e9
        self._next_pts: float | None = None
        self._packers: dict[str, Any] = {}  # codec name -> aiortc encoder, used only to pack()
        self._packed: tuple[Encoded, list[bytes], int] | None = None  # the last item, packed
        self._closed = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="encode-once")

    def new_track(self) -> EncodedTrack:
        if self._closed:
            raise MediaStreamError
        track = EncodedTrack(self)
        self._tracks.append(track)
        return track

    @property
    def source(self) -> MediaStreamTrack:
        return self._source

    @property
    def tracks(self) -> list[EncodedTrack]:
        return list(self._tracks)

    def request_keyframe(self, urgent: bool = False) -> None:
        """Ask for a keyframe; requests within KEYFRAME_GAP of the last one are merged."""
        now = self._clock()
        due = now if urgent else max(now, self._last_key + KEYFRAME_GAP)
        if self._key_due is None or due < self._key_due:
            self._key_due = due

    def packed(self, codec: Any, item: Encoded) -> tuple[list[bytes], int]:
        """``item`` cut into RTP payloads once for every peer, and its RTP timestamp."""
        if self._packed is not None and self._packed[0] is item:
            return self._packed[1], self._packed[2]
        payloads, timestamp = pack(self._packers, self.kind, codec, item)
        self._packed = (item, payloads, timestamp)
        return payloads, timestamp

    def _forget(self, track: EncodedTrack) -> None:
        if track in self._tracks:
            self._tracks.remove(track)

    # -- the encoding task -----------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while True:
                frame: Any = await self._source.recv()
                codecs = {t.codec for t in self._tracks if t.codec is not None}
                for codec in sorted(codecs):
                    if self.kind == "audio":
                        self._encode_audio(codec, frame)
                    else:
                        await self._encode_video(codec, frame)
        except MediaStreamError:
            pass
        except Exception:
            log.exception("%s encoder failed; peers no longer get this track", self.kind)
        finally:
            for track in list(self._tracks):
                track.stop()

    def _encode_audio(self, codec: str, frame: av.AudioFrame) -> None:
        if codec != "opus":
            raise MediaStreamError(f"encode-once cannot send {codec} audio")
        encoder = self.encoders.get(codec)
        if encoder is None:
            encoder = self.encoders[codec] = AudioEncoder()
        for packet, level in encoder.encode(frame):
            self._publish(codec, Encoded(packet, True, level))

    async def _encode_video(self, codec: str, frame: av.VideoFrame) -> None:
        now = self._clock()
        encoder = self.encoders.get(codec)
        if encoder is None:
            encoder = self.encoders[codec] = VideoEncoder(codec, self._bitrate(None), self._noisy())
        if now - self._adapted_at >= ADAPT_EVERY:
            self._adapt(encoder, frame, now)
        fps = self.quality.quality.fps if self.quality else 30
        if not self._due(frame, fps):
            return
        key = self._key_due is not None and now >= self._key_due
        size = (self.quality.quality.width, self.quality.quality.height) if self.quality else None
        if 0 < encoder.encode_seconds < INLINE_ENCODE:  # small pictures: no thread hop
            packets = _encode(encoder, frame, key, size)
            self.inline_frames += 1
        else:  # the first frame (opening the codec) and large or slow ones: off the loop
            loop = asyncio.get_running_loop()
            packets = await loop.run_in_executor(None, _encode, encoder, frame, key, size)
        if key:
            self._key_due = None
        for packet in packets:
            if packet.is_keyframe:
                self._last_key = self._clock()
                self.keyframes += 1
            self._publish(codec, Encoded(packet, bool(packet.is_keyframe)))

    def _due(self, frame: av.VideoFrame, fps: int) -> bool:
        """Frame-rate decimation on the capture timestamps (90 kHz)."""
        period = 90_000 / max(1, fps)
        pts = float(frame.pts or 0)
        if self._next_pts is not None and pts < self._next_pts - period / 4:
            return False
        late = self._next_pts is None or pts > self._next_pts + period
        self._next_pts = pts + period if late else self._next_pts + period  # type: ignore[operator]
        return True

    def _estimate(self) -> int | None:
        estimates = [t.estimate for t in self._tracks if t.estimate is not None]
        return min(estimates) if estimates else None

    def _bitrate(self, bandwidth: int | None) -> int:
        if self.quality is not None:
            return self.quality.quality.bitrate
        return max(250_000, min(bandwidth or 500_000, 1_500_000))

    def _adapt(self, encoder: VideoEncoder, frame: av.VideoFrame, now: float) -> None:
        self._adapted_at = now
        encoder.denoise = self._noisy()  # the source may have changed (camera lost, switched)
        bandwidth = self._estimate()
        if self.quality is not None:
            self.quality.set_capture(frame.width, frame.height)
            before = self.quality.quality
            load = encoder.encode_seconds * before.fps
            after = self.quality.update(len(self._tracks) + 1, bandwidth, load)
            if (after.height, after.fps) != (before.height, before.fps):
                log.info(
                    "video %dp%d -> %dp%d (%d peers, estimate %s bit/s, encoder load %.2f)",
                    *(before.height, before.fps, after.height, after.fps),
                    *(len(self._tracks), bandwidth, load),
                )
        wanted = self._bitrate(bandwidth)
        change = abs(wanted - encoder.bitrate) / encoder.bitrate
        big_drop = wanted < 0.6 * encoder.bitrate
        if change > 0.2 and (big_drop or now - self._reconfigured_at >= RECONFIGURE_GAP):
            encoder.bitrate, self._reconfigured_at = wanted, now

    def _publish(self, codec: str, item: Encoded) -> None:
        for track in self._tracks:
            if track.codec == codec:
                track.offer(item)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        for track in list(self._tracks):
            track.stop()
        self._source.stop()


def _encode(
    encoder: VideoEncoder, frame: av.VideoFrame, key: bool, size: tuple[int, int] | None
) -> list[av.Packet[Any]]:
    if size is not None and size != (frame.width, frame.height):
        pts, base = frame.pts, frame.time_base
        # not frame.reformat(): that makes a swscale context on every frame, with a thread per
        # CPU core (threads=0), alive as long as the frame is: threads=1 scales on this thread
        frame = encoder.scaler.reformat(
            frame, width=size[0], height=size[1], format="yuv420p", threads=1
        )
        frame.pts, frame.time_base = pts, base
    return encoder.encode(frame, key)


class EncodedTrack(MediaStreamTrack):
    """One peer's share of a SharedEncoder: ``recv()`` returns Encoded packets, in order."""

    def __init__(self, hub: SharedEncoder) -> None:
        super().__init__()
        self.kind = hub.kind
        self.codec: str | None = None  # set by the bound sender once negotiated
        self.estimate: int | None = None  # the peer's bandwidth estimate (bit/s), from REMB
        self._hub = hub
        self._queue: deque[Encoded] = deque()
        self._ready = asyncio.Event()
        self._synced = hub.kind == "audio"  # video starts at a keyframe
        self._direct: Any = None  # a DirectSender (sender_binding) we push packets to
        self._direct_error: Exception | None = None

    def use_codec(self, codec: str) -> None:
        if codec != self.codec:
            self.codec, self._synced = codec, self.kind == "audio"
            self._queue.clear()
            if self.kind == "video":
                self._hub.request_keyframe(urgent=True)

    def offer(self, item: Encoded) -> None:
        if not self._synced:
            if not item.keyframe:
                return
            self._synced = True
        if len(self._queue) >= QUEUE[self.kind]:  # this peer fell behind
            self._queue.clear()
            if self.kind == "video":
                self._synced = item.keyframe
                self._hub.request_keyframe()
                if not item.keyframe:
                    return
        if self._direct is not None:
            self._push(item)
            return
        self._queue.append(item)
        self._ready.set()

    def _push(self, item: Encoded) -> None:
        direct = self._direct
        if direct.sender.track is not self:  # replaced (replaceTrack): that sender moves on
            self._direct = None
            self._ready.set()
            return
        payloads, timestamp = self._hub.packed(direct.codec, item)
        try:
            direct.send(payloads, timestamp, item.audio_level)
        except ConnectionError as exc:
            self._direct, self._direct_error = None, exc
            self._ready.set()

    async def send_directly(self, direct: Any) -> None:
        """Push every packet to ``direct`` as it is offered, until this track ends (then
        MediaStreamError), the link fails (ConnectionError) or the sender's track is replaced
        (then return)."""
        self._direct, self._direct_error = direct, None
        while self._queue and self._direct is direct:  # anything offered before: in order
            self._push(self._queue.popleft())
        self._queue.clear()
        try:
            while self._direct is direct:
                if self.readyState != "live":
                    raise MediaStreamError
                self._ready.clear()
                await self._ready.wait()
        finally:
            if self._direct is direct:
                self._direct = None
        if self._direct_error is not None:
            raise self._direct_error

    async def recv(self) -> Encoded:  # type: ignore[override]  # packets, not frames
        return await next_item(self, self._queue, self._ready)

    def request_keyframe(self) -> None:
        self._hub.request_keyframe()

    def set_estimate(self, bitrate: int) -> None:
        self.estimate = bitrate

    def bind_sender(self, sender: Any) -> None:
        """Make ``sender`` (an RTCRtpSender carrying this track) packetize our packets."""
        bind_sender(sender)

    def stop(self) -> None:
        super().stop()
        self._hub._forget(self)
        self._ready.set()
