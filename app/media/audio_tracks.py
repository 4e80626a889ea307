"""Audio between PcmSource/PcmSink and aiortc tracks.

``AudioFeed``: one microphone shared by every peer. One pump task reads the source every 20 ms
(on an absolute clock, so no drift) and hands the same frame to every track it made.

``SpeakerMixer``: one receive task per remote audio track, per-peer jitter queues, and one mixer
task that every 20 ms sums what each peer has into the speaker.

Neither closes the source/sink it was given: whoever created those owns them.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from collections import deque
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from app.errors import MediaError
from app.media.audio import rms
from app.media.pcm import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, PcmSink, PcmSource
from app.media.queued import next_item

log = logging.getLogger(__name__)

PTIME = FRAME_MS / 1000
TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
SILENCE = bytes(FRAME_BYTES)
#: frames a slow sender may lag before its oldest frames are dropped (latency bound)
TRACK_QUEUE_FRAMES = 3
#: if the loop stalls longer than this, restart the clock instead of bursting to catch up
MAX_LATE = 0.2


def make_frame(pcm: bytes, pts: int, stereo: bool = True) -> av.AudioFrame:
    """An av.AudioFrame (s16, 48 kHz, time base 1/48000) holding one mono PCM frame.

    By default both stereo channels carry the same signal: aiortc's Opus encoder converts mono
    to stereo with libswresample, which lowers the level by 3 dB; stereo passes unchanged.
    """
    samples = np.frombuffer(pcm, dtype="<i2")
    if stereo:
        samples = np.repeat(samples, 2)
    frame = av.AudioFrame.from_ndarray(
        samples.reshape(1, -1), format="s16", layout="stereo" if stereo else "mono"
    )
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


async def every_frame(step: Callable[[int], None]) -> None:
    """Call ``step(0)``, ``step(1)``, ... every 20 ms on an absolute clock (no drift, no busy
    loop). A stall longer than MAX_LATE restarts the clock instead of bursting to catch up."""
    loop = asyncio.get_running_loop()
    start, index = loop.time(), 0
    while True:
        step(index)
        index += 1
        delay = start + index * PTIME - loop.time()
        if delay < -MAX_LATE:
            log.debug("20 ms clock stalled %.0f ms; restarting it", -delay * 1000)
            start, delay = loop.time() - index * PTIME, 0.0
        await asyncio.sleep(max(delay, 0.0))


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for already-cancelled tasks to end, without swallowing our own cancellation."""
    if tasks:
        await asyncio.wait(tasks)


class _FeedTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, feed: AudioFeed) -> None:
        super().__init__()
        self._feed = feed
        self._frames: deque[tuple[int, bytes]] = deque(maxlen=TRACK_QUEUE_FRAMES)
        self._ready = asyncio.Event()

    def offer(self, pts: int, pcm: bytes) -> None:
        self._frames.append((pts, pcm))
        self._ready.set()

    async def recv(self) -> av.AudioFrame:
        pts, pcm = await next_item(self, self._frames, self._ready)
        return make_frame(pcm, pts)

    def stop(self) -> None:
        super().stop()
        self._feed._forget(self)
        self._ready.set()


class AudioFeed:
    """One microphone for all peers: ``new_track()`` per remote peer, all fed the same frames."""

    def __init__(self, source: PcmSource) -> None:
        self._source = source
        self._tracks: list[_FeedTrack] = []
        self._task: asyncio.Task[None] | None = None
        self._muted = False
        self._level = 0.0
        self._closed = False
        self._read_failed = False
        #: frames taken from the source so far (one per 20 ms, however many tracks)
        self.frames_read = 0

    def start(self) -> None:
        """Start the 20 ms pump (idempotent). Must be called with an asyncio loop running;
        ``new_track`` calls it. Start early to get a level meter before anyone joins."""
        if self._closed:
            raise MediaError("The microphone feed was closed; create a new AudioFeed.")
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(every_frame(self._tick), name="audio-feed")

    def new_track(self) -> MediaStreamTrack:
        self.start()
        track = _FeedTrack(self)
        self._tracks.append(track)
        return track

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """While muted every track carries digital silence, with unchanged timing."""
        self._muted = muted
        if muted:
            self._level = 0.0

    @property
    def level(self) -> float:
        """RMS (0..1) of the last frame sent; 0 while muted."""
        return self._level

    @property
    def track_count(self) -> int:
        return len(self._tracks)

    def _forget(self, track: _FeedTrack) -> None:
        if track in self._tracks:
            self._tracks.remove(track)

    def _read(self) -> bytes:
        try:
            pcm = self._source.read_frame()
        except Exception:
            if not self._read_failed:  # say it once, then keep sending silence
                log.exception("microphone read failed; sending silence")
                self._read_failed = True
            return SILENCE
        if pcm is None:
            return SILENCE
        if len(pcm) != FRAME_BYTES:
            pcm = bytes(pcm[:FRAME_BYTES]).ljust(FRAME_BYTES, b"\0")
        return bytes(pcm)

    def _tick(self, index: int) -> None:
        pcm = self._read()  # read even while muted: no stale audio when unmuting
        self.frames_read += 1
        if self._muted:
            pcm = SILENCE
            self._level = 0.0
        else:
            self._level = rms(pcm)
        for track in list(self._tracks):
            track.offer(index * FRAME_SAMPLES, pcm)

    def close(self) -> None:
        """Stop every track and the pump (idempotent). Does not close the source."""
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        for track in list(self._tracks):
            track.stop()

    async def aclose(self) -> None:
        """``close()`` and wait until the pump task has really ended."""
        self.close()
        await _finish([self._task] if self._task else [])


def to_mono_s16(frame: av.AudioFrame, resampler: av.AudioResampler | None = None) -> bytes:
    """PCM s16 mono 48 kHz from any decoded frame (aiortc's Opus gives s16 stereo 48 kHz).

    The common case is done with numpy (channel average, no gain change); anything else goes
    through ``resampler`` (an av.AudioResampler to s16/mono/48000, kept per stream).
    """
    if _plain(frame):
        channels = len(frame.layout.channels)
        samples = frame.to_ndarray().reshape(-1, channels).astype(np.int32)
        return bytes(samples.mean(axis=1).astype("<i2").tobytes())
    if resampler is None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    return b"".join(f.to_ndarray().astype("<i2").tobytes() for f in resampler.resample(frame))


def _plain(frame: av.AudioFrame) -> bool:
    """s16 packed, 48 kHz, mono or stereo: no resampler needed."""
    return bool(
        frame.format.name == "s16"
        and frame.sample_rate == SAMPLE_RATE
        and len(frame.layout.channels) <= 2
    )


class _Peer:
    def __init__(self) -> None:
        self.buf = bytearray()  # decoded mono PCM not yet mixed
        self.primed = False  # enough buffered to start playing (jitter cushion)
        self.level = 0.0
        self.resampler: av.AudioResampler | None = None
        self.task: asyncio.Task[None] | None = None


class SpeakerMixer:
    """Plays every remote peer's audio track on one speaker.

    ``attach`` starts one receive task per track; a mixer task every 20 ms takes one frame per
    peer (after ``jitter_frames`` of cushion), sums with clipping and writes to the sink. A peer
    whose queue grows past ``max_queue_ms`` loses its oldest audio, so latency stays bounded.
    """

    def __init__(self, sink: PcmSink, jitter_frames: int = 2, max_queue_ms: int = 120) -> None:
        self._sink = sink
        self._jitter_bytes = max(1, jitter_frames) * FRAME_BYTES
        self._max_bytes = max(max_queue_ms // FRAME_MS * FRAME_BYTES, 2 * self._jitter_bytes)
        self._peers: dict[str, _Peer] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._write_failed = False
        self._live: set[asyncio.Task[None]] = set()  # every task we started and not yet ended
        #: decoded frames received per peer (kept after detach, for diagnostics)
        self.frames_received: dict[str, int] = {}
        #: times a peer's queue ran dry mid-stream (a gap, then ``jitter_frames`` re-gathered)
        self.underruns = 0

    @property
    def peers(self) -> list[str]:
        return list(self._peers)

    def level(self, peer_id: str) -> float:
        """RMS (0..1) of what was last played for ``peer_id``; 0 for unknown peers."""
        peer = self._peers.get(peer_id)
        return peer.level if peer else 0.0

    def attach(self, peer_id: str, track: MediaStreamTrack) -> None:
        """Play ``track`` (kind "audio") for ``peer_id``; replaces that peer's previous track."""
        if self._closed:
            raise MediaError("The speaker mixer was closed; create a new SpeakerMixer.")
        loop = asyncio.get_running_loop()
        self.detach(peer_id)
        peer = _Peer()
        self._peers[peer_id] = peer
        self.frames_received.setdefault(peer_id, 0)
        peer.task = loop.create_task(self._receive(peer_id, peer, track), name=f"mix-{peer_id}")
        self._own(peer.task)
        if self._task is None:
            self._task = loop.create_task(every_frame(self._mix_step), name="speaker-mixer")
            self._own(self._task)

    def _own(self, task: asyncio.Task[None]) -> None:
        self._live.add(task)
        task.add_done_callback(self._live.discard)

    def detach(self, peer_id: str) -> None:
        peer = self._peers.pop(peer_id, None)
        if peer and peer.task and peer.task is not asyncio.current_task():
            peer.task.cancel()

    async def _receive(self, peer_id: str, peer: _Peer, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                if peer.resampler is None and not _plain(frame):
                    peer.resampler = av.AudioResampler("s16", "mono", SAMPLE_RATE)
                peer.buf += to_mono_s16(frame, peer.resampler)
                if len(peer.buf) > self._max_bytes:  # sender's clock is faster than ours
                    del peer.buf[: len(peer.buf) - self._jitter_bytes]  # drop the oldest
                self.frames_received[peer_id] = self.frames_received.get(peer_id, 0) + 1
        except MediaStreamError:
            log.debug("audio track of %s ended", peer_id)
        except Exception:
            log.exception("audio from %s failed; it is no longer played", peer_id)
        finally:
            if self._peers.get(peer_id) is peer:
                self.detach(peer_id)

    def _mix_step(self, _index: int) -> None:
        if not self._peers:
            return
        mix = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        for peer in self._peers.values():
            if not peer.primed and len(peer.buf) < self._jitter_bytes:
                peer.level = 0.0
                continue
            peer.primed = True
            chunk = bytes(peer.buf[:FRAME_BYTES])
            del peer.buf[:FRAME_BYTES]
            if len(chunk) < FRAME_BYTES:  # underrun: play what we have, then re-cushion
                peer.primed = False
                self.underruns += 1
                chunk = chunk.ljust(FRAME_BYTES, b"\0")
            peer.level = rms(chunk)
            mix += np.frombuffer(chunk, dtype="<i2")
        try:
            self._sink.write(np.clip(mix, -32768, 32767).astype("<i2").tobytes())
        except Exception:
            if not self._write_failed:
                log.exception("speaker write failed; audio is dropped")
                self._write_failed = True

    def close(self) -> None:
        """Cancel every receive task and the mixer (idempotent). Does not close the sink."""
        if self._closed:
            return
        self._closed = True
        for task in self._live:
            task.cancel()
        self._peers.clear()

    async def aclose(self) -> None:
        """``close()`` and wait until every task has really ended."""
        self.close()
        await _finish(list(self._live))
