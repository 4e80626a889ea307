"""Remote audio to one speaker: ``SpeakerMixer``.

One receive task per remote audio track fills that peer's queue (decoded mono PCM); one mixer
task every 20 ms (started half a frame after the first frame arrives, stopped while there is
nobody to play and no sound of our own waiting) takes a frame from each peer that has its
cushion, sums with clipping and writes to the sink. Each peer's cushion adapts
(app/media/backlog.py ``Cushion``): one frame to start, one more after each underrun (up to 3),
one less after 15 s without; audio queued beyond it for a whole second (a burst) is drained, so
latency never stays up for good. A peer whose playout says its stream rests (empty PCM: the
sender paused during silence, or its packets stopped) is not in an underrun when its queue runs
dry: its cushion stays as it is, and is gathered again when audio comes back.

The mixer does not close the sink it was given: whoever created it owns it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from functools import partial

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from app.errors import MediaError
from app.media.audio import rms
from app.media.audio_tracks import PTIME, every_frame, finish_cancelled
from app.media.backlog import Cushion
from app.media.pcm import (
    FRAME_BYTES,
    FRAME_MS,
    FRAME_SAMPLES,
    PCM_HOOK,
    SAMPLE_BYTES,
    SAMPLE_RATE,
    PcmSink,
)

log = logging.getLogger(__name__)
FAR_END_PEAK = 1000  # s16 peak (about -30 dBFS) above which the speaker plays someone's voice
FAR_END_HOLD = 25  # ticks (0.5 s) after that during which the speaker counts as playing
MAX_CUE_MS = 1500  # sounds of our own waiting to be played, at most


def to_mono_s16(frame: av.AudioFrame, resampler: av.AudioResampler | None = None) -> bytes:
    """PCM s16 mono 48 kHz from any decoded frame (our playout: s16 mono 48 kHz, taken as is;
    stock aiortc's Opus: s16 stereo 48 kHz, averaged with numpy, no gain change). Anything else
    goes through ``resampler`` (an av.AudioResampler to s16/mono/48000, kept per stream).
    """
    if _plain(frame):
        channels = len(frame.layout.channels)
        if channels == 1:
            return memoryview(frame.planes[0])[: frame.samples * SAMPLE_BYTES].tobytes()
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


class _Idle(Exception):
    """Nothing to play (no one in the call, no sound waiting): the mix clock stops."""


class _Peer:
    def __init__(self, cushion: Cushion) -> None:
        self.buf = bytearray()  # decoded mono PCM not yet mixed
        self.cushion = cushion
        self.primed = False  # the cushion was gathered since the start or the last underrun
        self.played = b""  # what was last played (its level is worked out only when asked)
        self.resting = False  # the playout said the stream pauses: running dry is no underrun
        self.resampler: av.AudioResampler | None = None
        self.task: asyncio.Task[None] | None = None
        self.track: MediaStreamTrack | None = None


class SpeakerMixer:
    """Plays every remote peer's audio track on one speaker.

    ``jitter_frames`` is each peer's starting (and smallest) cushion, ``max_jitter_frames`` the
    largest, ``relax_s`` the quiet time after which it shrinks again. A peer whose queue grows
    past ``max_queue_ms`` at once loses its oldest audio down to its cushion.
    """

    def __init__(
        self, sink: PcmSink, jitter_frames: int = 1, max_queue_ms: int = 120,
        max_jitter_frames: int = 3, relax_s: float = 15.0,
    ) -> None:  # fmt: skip
        self._sink = sink
        self._min_frames = max(1, jitter_frames)
        self._max_frames = max(self._min_frames, max_jitter_frames)
        self._relax_ticks = round(relax_s / PTIME)
        self._max_bytes = max(max_queue_ms // FRAME_MS, 2 * self._max_frames) * FRAME_BYTES
        self._peers: dict[str, _Peer] = {}
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._write_failed = False
        self._live: set[asyncio.Task[None]] = set()  # every task we started and not yet ended
        #: decoded frames received per peer (kept after detach, for diagnostics)
        self.frames_received: dict[str, int] = {}
        #: times a peer's queue ran dry mid-stream (a gap; its cushion grows and is re-gathered)
        self.underruns = 0
        #: bytes of queued audio dropped to keep latency down (drained bursts, the hard cap)
        self.drained = 0
        self._quiet_ticks = FAR_END_HOLD  # mix steps since the speaker last played a voice
        self._cue: deque[bytes] = deque()  # frames of a sound of our own still to play

    def playing(self) -> bool:
        """True while others' voices come out of the speaker (and for half a second after):
        what the microphone hears then may be them, not the person (echo)."""
        return self._quiet_ticks < FAR_END_HOLD

    @property
    def peers(self) -> list[str]:
        return list(self._peers)

    def level(self, peer_id: str) -> float:
        """RMS (0..1) of what was last played for ``peer_id``; 0 for unknown peers."""
        peer = self._peers.get(peer_id)
        return rms(peer.played) if peer else 0.0

    def cushion(self, peer_id: str) -> int:
        """``peer_id``'s current cushion in 20 ms frames; 0 for unknown peers."""
        peer = self._peers.get(peer_id)
        return peer.cushion.frames if peer else 0

    def attach(self, peer_id: str, track: MediaStreamTrack) -> None:
        """Play ``track`` (kind "audio") for ``peer_id``; replaces that peer's previous track."""
        if self._closed:
            raise MediaError("The speaker mixer was closed; create a new SpeakerMixer.")
        loop = asyncio.get_running_loop()
        peer = self._add_peer(peer_id)
        peer.track = track
        # our playout (app/net/playout.py) hands its PCM straight to the peer's queue; the task
        # still takes frames from any other source, and notices when the track ends
        setattr(track, PCM_HOOK, partial(self._push, peer_id, peer))
        peer.task = loop.create_task(self._receive(peer_id, peer, track), name=f"mix-{peer_id}")
        self._own(peer.task)

    def play(self, frames: Sequence[bytes]) -> None:
        """Mix ``frames`` (FRAME_BYTES each: app.media.cues) into what the speaker plays,
        after the sounds already waiting; if that would be more than MAX_CUE_MS, instead of
        them (a flood of chat messages is not a second of ticks each, and a knock after it
        is heard)."""
        if self._closed:
            return
        if (len(self._cue) + len(frames)) * FRAME_MS > MAX_CUE_MS:
            self._cue.clear()
        self._cue.extend(frames)
        self._start_clock()

    def _start_clock(self) -> None:
        """Start the 20 ms mix clock (once), half a frame after the first frame arrived: ticks
        then fall between the hand-outs of a steadily paced peer, never within timer jitter of
        them (a tick just before a hand-out is an underrun, which costs a frame of cushion)."""
        if self._task is None and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._clock(), name="speaker-mixer")
            self._own(self._task)

    async def _clock(self) -> None:
        await asyncio.sleep(PTIME / 2)
        try:
            await every_frame(self._mix_step)
        except _Idle:  # started again by the next frame or sound
            self._task, self._quiet_ticks = None, FAR_END_HOLD

    def _add_peer(self, peer_id: str) -> _Peer:
        self.detach(peer_id)
        cushion = Cushion(self._min_frames, self._max_frames, self._relax_ticks)
        peer = self._peers[peer_id] = _Peer(cushion)
        self.frames_received.setdefault(peer_id, 0)
        return peer

    def _own(self, task: asyncio.Task[None]) -> None:
        self._live.add(task)
        task.add_done_callback(self._live.discard)

    def detach(self, peer_id: str) -> None:
        peer = self._peers.pop(peer_id, None)
        if peer and peer.track is not None and hasattr(peer.track, PCM_HOOK):
            delattr(peer.track, PCM_HOOK)
        if peer and peer.task and peer.task is not asyncio.current_task():
            peer.task.cancel()

    def _push(self, peer_id: str, peer: _Peer, pcm: bytes) -> None:
        """A decoded mono frame handed over directly (no av.AudioFrame, no queue, no wake-up)."""
        if self._peers.get(peer_id) is peer:
            self._deliver(peer_id, peer, pcm)
            self._start_clock()

    async def _receive(self, peer_id: str, peer: _Peer, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if not isinstance(frame, av.AudioFrame):
                    continue
                if peer.resampler is None and not _plain(frame):
                    peer.resampler = av.AudioResampler("s16", "mono", SAMPLE_RATE)
                self._push(peer_id, peer, to_mono_s16(frame, peer.resampler))
        except MediaStreamError:
            log.debug("audio track of %s ended", peer_id)
        except Exception:
            log.exception("audio from %s failed; it is no longer played", peer_id)
        finally:
            if self._peers.get(peer_id) is peer:
                self.detach(peer_id)

    def _deliver(self, peer_id: str, peer: _Peer, pcm: bytes) -> None:
        peer.resting = not pcm
        if not pcm:
            return
        peer.buf += pcm
        excess = len(peer.buf) - peer.cushion.bytes
        if len(peer.buf) > self._max_bytes:  # a huge burst: don't wait for the drain
            del peer.buf[:excess]
            self.drained += excess
        self.frames_received[peer_id] = self.frames_received.get(peer_id, 0) + 1

    def _take(self, peer: _Peer) -> bytes | None:
        """The frame to play for ``peer`` now, or None while its cushion is being gathered."""
        if not peer.primed:
            if len(peer.buf) < peer.cushion.bytes:
                return None
            peer.primed = True
        drop = peer.cushion.tick(len(peer.buf))
        if drop:
            del peer.buf[:drop]
            self.drained += drop
        chunk = bytes(peer.buf[:FRAME_BYTES])
        del peer.buf[:FRAME_BYTES]
        if len(chunk) < FRAME_BYTES:  # ran dry: play what we have, then gather the cushion
            peer.primed = False
            if not peer.resting:  # an underrun mid-stream: a bigger cushion
                peer.cushion.underrun()
                self.underruns += 1
            chunk = chunk.ljust(FRAME_BYTES, b"\0")
        return chunk

    def _mix_step(self, _index: int) -> None:
        if not self._peers and not self._cue:
            raise _Idle
        mix = np.zeros(FRAME_SAMPLES, dtype=np.int32)
        voiced = bool(self._cue)  # (a cue is not the person talking: no "you are muted")
        if self._cue:
            mix += np.frombuffer(self._cue.popleft(), dtype="<i2")
        for peer in self._peers.values():
            chunk = self._take(peer)
            peer.played = chunk or b""
            if chunk:
                mix += np.frombuffer(chunk, dtype="<i2")
                voiced = True
        loud = voiced and int(np.abs(mix).max()) >= FAR_END_PEAK
        self._quiet_ticks = 0 if loud else self._quiet_ticks + 1
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
        await finish_cancelled(list(self._live))
