"""Audio playout for one aiortc audio receiver: adaptive jitter buffer, libopus, loss concealment.

Installed in place of the receiver's jitter buffer: ``add`` takes every depayloaded RTP packet
and hands aiortc nothing to decode. One loop timer (owned here, cancelled by ``close()``; a timer
callback costs less than a task waking 50 times a second) plays a frame per tick of the
AudioJitterBuffer: decodes it, rebuilds it from FEC or conceals it, and hands the s16 mono 48 kHz
PCM to whoever plays the receiver's track (app.media.pcm.PCM_HOOK, set by the speaker mixer), or
else puts it on the track as an AudioFrame. The track's queue is kept short: if nobody reads it, old
frames are dropped rather than piling up. When the buffer goes idle (no packets for a while: the
sender pauses during silence), the consumer is handed empty PCM, so it knows the stream rests.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from aiortc.jitterbuffer import JitterBuffer

from app.media.pcm import PCM_HOOK
from app.net.audio_jitter import FRAME_TS, AudioJitterBuffer
from app.net.opus import OpusDecoder

log = logging.getLogger(__name__)
TIME_BASE = fractions.Fraction(1, 48_000)
TRACK_QUEUE = 5  # frames (100 ms) the remote track may hold before the oldest are dropped


class AudioPlayout:
    def __init__(self, receiver: Any, codec_of: Callable[[int], str]) -> None:
        self._receiver, self._codec_of = receiver, codec_of
        self.buffer = AudioJitterBuffer()
        self._fallback = JitterBuffer(capacity=16, prefetch=4)  # codecs other than Opus
        self._decoder: OpusDecoder | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._pts = 0
        self._closed = False
        self.packets_in = self.bytes_in = 0
        self.frames_dropped = 0  # decoded frames nobody took off the track in time

    capacity = 16  # what aiortc's JitterBuffer exposes

    def add(self, packet: Any) -> tuple[bool, Any]:
        self.packets_in += 1
        self.bytes_in += len(packet.payload)
        if self._codec_of(packet.payload_type) != "opus":
            return self._fallback.add(packet)
        if self._closed:
            return False, None
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self.buffer.put(packet.timestamp, packet._data, self._loop.time())
        if self._timer is None:
            self._schedule()
        return False, None

    def _schedule(self) -> None:
        due = self.buffer.next_tick()
        if due is None or self._closed or self._loop is None:
            self._timer = None  # idle: the next packet schedules again
            return
        self._timer = self._loop.call_at(due, self._tick)

    def _tick(self) -> None:
        assert self._loop is not None
        try:
            kind, payload = self.buffer.tick(self._loop.time())
            self._emit(b"" if kind == "idle" else self._decode(kind, payload))
        except Exception:
            log.exception("audio playout failed; this peer's audio stops")
            self.close()
            return
        self._schedule()

    def _decode(self, kind: str, payload: bytes | None) -> bytes:
        if self._decoder is None:
            self._decoder = OpusDecoder()
        if kind == "audio" and payload is not None:
            return self._decoder.decode(payload)
        if kind == "fec" and payload is not None:
            return self._decoder.recover(payload)
        return self._decoder.conceal()

    def _emit(self, pcm: bytes) -> None:
        track = self._receiver.track
        if track is None or track.readyState != "live":
            return
        consumer = getattr(track, PCM_HOOK, None)
        if consumer is not None:  # the mixer takes PCM directly: skip the frame and the queue
            self._pts += FRAME_TS if pcm else 0
            consumer(pcm)
            return
        if not pcm:  # the stream rests: a track's reader just gets no frames meanwhile
            return
        samples = np.frombuffer(pcm, dtype="<i2").reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, self._pts, TIME_BASE
        self._pts += FRAME_TS
        queue: asyncio.Queue[Any] = track._queue
        while queue.qsize() >= TRACK_QUEUE:
            if queue.get_nowait() is None:  # the track's end mark: keep it last, stop here
                queue.put_nowait(None)
                return
            self.frames_dropped += 1
        queue.put_nowait(frame)

    def close(self) -> None:
        """Stop playing (idempotent). The receiver itself is stopped by its connection."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._decoder is not None:
            self._decoder.close()

    async def aclose(self) -> None:
        """``close()``; nothing is left running afterwards (there is no task to wait for)."""
        self.close()
