"""The microphone side between a PcmSource and aiortc tracks, and the shared 20 ms clock.

``AudioFeed``: one microphone shared by every peer. One pump task reads the source every 20 ms
(on an absolute clock, so no drift) and hands the same frame to every track it made. A source
that says how much it holds (a PcmRing) is kept from building up a backlog: see BacklogTrim.
It does not close the source it was given: whoever created it owns it.

The speaker side is app/media/mixer.py (SpeakerMixer).
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from collections import deque
from collections.abc import Callable

import av
import numpy as np
from aiortc.mediastreams import MediaStreamTrack

from app.errors import MediaError
from app.media.audio import rms
from app.media.backlog import Backlogged, BacklogTrim
from app.media.muted_speech import MutedSpeech
from app.media.pcm import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SAMPLE_BYTES, SAMPLE_RATE, PcmSource
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
    samples = len(pcm) // SAMPLE_BYTES
    frame = av.AudioFrame(format="s16", layout="stereo" if stereo else "mono", samples=samples)
    if stereo:
        pcm = np.repeat(np.frombuffer(pcm, dtype="<i2"), 2).tobytes()
    frame.planes[0].update(pcm)
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


async def finish_cancelled(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for already-cancelled tasks to end, without swallowing our own cancellation."""
    if tasks:
        await asyncio.wait(tasks)


class _FeedTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, feed: AudioFeed, stereo: bool) -> None:
        super().__init__()
        self._feed, self._stereo = feed, stereo
        self._frames: deque[tuple[int, bytes]] = deque(maxlen=TRACK_QUEUE_FRAMES)
        self._ready = asyncio.Event()

    def offer(self, pts: int, pcm: bytes) -> None:
        self._frames.append((pts, pcm))
        self._ready.set()

    async def recv(self) -> av.AudioFrame:
        pts, pcm = await next_item(self, self._frames, self._ready)
        return make_frame(pcm, pts, self._stereo)

    def stop(self) -> None:
        super().stop()
        self._feed._forget(self)
        self._ready.set()


class AudioFeed:
    """One microphone for all peers: ``new_track()`` per remote peer, all fed the same frames."""

    def __init__(self, source: PcmSource) -> None:
        self._source = source
        #: drains what a late capture left behind, if the source can tell (a PcmRing can)
        self._backlog = source if isinstance(source, Backlogged) else None
        self._trim = BacklogTrim()
        self._tracks: list[_FeedTrack] = []
        self._task: asyncio.Task[None] | None = None
        self._muted = False
        self._last = SILENCE  # the last frame sent (its level is worked out only when asked)
        self._closed = False
        self._read_failed = False
        #: frames taken from the source so far (one per 20 ms, however many tracks)
        self.frames_read = 0
        #: bytes of stale microphone audio dropped to keep the backlog at about a frame
        self.backlog_dropped = 0
        #: times the person seemed to talk while muted (app.media.muted_speech): the UI says so
        self.muted_speech = 0
        self._speech = MutedSpeech()
        #: True while the speaker plays others' voices (SpeakerMixer.playing): the microphone
        #: may be hearing them, so that is not taken for the person talking while muted
        self.far_end: Callable[[], bool] | None = None
        #: whether there is a microphone at all (the desktop app's device watcher tells)
        self.present: Callable[[], bool] = lambda: True

    def start(self) -> None:
        """Start the 20 ms pump (idempotent). Must be called with an asyncio loop running;
        ``new_track`` calls it. Start early to get a level meter before anyone joins."""
        if self._closed:
            raise MediaError("The microphone feed was closed; create a new AudioFeed.")
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(every_frame(self._tick), name="audio-feed")

    def new_track(self, stereo: bool = True) -> MediaStreamTrack:
        """One more track carrying the microphone: stereo frames (both channels alike) for
        aiortc's own encoder, mono for ours (app/media/encoders.py takes them as they are)."""
        self.start()
        track = _FeedTrack(self, stereo)
        self._tracks.append(track)
        return track

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        """While muted every track carries digital silence, with unchanged timing."""
        self._muted = muted
        if muted:
            self._last = SILENCE
        else:
            self._speech.reset(ready=True)

    @property
    def level(self) -> float:
        """RMS (0..1) of the last frame sent; 0 while muted."""
        return rms(self._last)

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
        self._drain()
        if pcm is None:
            return SILENCE
        if len(pcm) != FRAME_BYTES:
            pcm = bytes(pcm[:FRAME_BYTES]).ljust(FRAME_BYTES, b"\0")
        return bytes(pcm)

    def _drain(self) -> None:
        """Drop the oldest audio the source kept for a whole window without needing it."""
        if self._backlog is None:
            return
        drop = self._trim.after_read(self._backlog.buffered)
        if drop:
            self.backlog_dropped += self._backlog.drop_oldest(drop)

    def _tick(self, index: int) -> None:
        pcm = self._read()  # read even while muted: no stale audio when unmuting
        self.frames_read += 1
        if self._muted:
            echo = self.far_end is not None and self.far_end()
            if pcm is not SILENCE and self._speech.hear(0.0 if echo else rms(pcm)):
                self.muted_speech += 1
            pcm = SILENCE
        self._last = pcm
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
        await finish_cancelled([self._task] if self._task else [])
