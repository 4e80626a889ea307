"""One audio call A → B in this process, for bench/audio_latency.py: A's microphone (any
PcmSource) → AudioFeed → encoder → PeerLink → loopback → PeerLink → B's remote audio track.

PeerMeet's mode: one shared Opus encoder (FEC on), the adaptive playout buffer. Baseline: stock
aiortc (an encoder per sender, JitterBuffer(capacity=16, prefetch=4), its decoder thread).
``impair`` can drop or delay B's incoming audio packets, as a lossy or jittery network would.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack

from app.media.audio_tracks import AudioFeed
from app.media.encode_once import SharedEncoder
from app.media.pcm import PcmSource
from app.net import receive
from app.net.peers import IdleVideoTrack, PeerLink


class IdleAudioTrack(IdleVideoTrack):
    kind = "audio"


class Impairment:
    """What happens to B's incoming audio packets: one dropped at ``lose_at`` (s after start),
    and/or each delayed by uniform(0, ``jitter``) s (so some are reordered)."""

    def __init__(self, lose_at: float | None = None, jitter: float = 0.0, seed: int = 1) -> None:
        self.lose_at, self.jitter = lose_at, jitter
        self.lost_at: float | None = None  # perf_counter time of the dropped packet
        self._rng = random.Random(seed)
        self._pending: set[asyncio.Task[None]] = set()

    def install(self, receiver: Any, started: float) -> None:
        handle = receiver._handle_rtp_packet

        async def impaired(packet: Any, arrival_time_ms: int) -> None:
            now = time.perf_counter()
            if self.lose_at is not None and self.lost_at is None and now - started >= self.lose_at:
                self.lost_at = now
                return
            if self.jitter <= 0:
                await handle(packet, arrival_time_ms)
                return
            task = asyncio.ensure_future(self._later(handle, packet, arrival_time_ms))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

        receiver._handle_rtp_packet = impaired

    async def _later(self, handle: Any, packet: Any, arrival: int) -> None:
        await asyncio.sleep(self._rng.uniform(0, self.jitter))
        await handle(packet, arrival)

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)


class AudioLink:
    """Owns both PeerLinks and A's feed/encoder; ``aclose()`` ends everything it started."""

    def __init__(self, mic: PcmSource, ours: bool) -> None:
        receive.set_stock(not ours)
        self.feed = AudioFeed(mic)
        self.encoder = SharedEncoder(self.feed.new_track()) if ours else None
        audio = self.encoder.new_track() if self.encoder else self.feed.new_track()
        self.track: MediaStreamTrack | None = None
        self.a = self._link("b", True, audio)
        self.b = self._link("a", False, IdleAudioTrack())

    def _link(self, peer: str, offerer: bool, audio: MediaStreamTrack) -> PeerLink:
        def on_track(link: PeerLink, kind: str, track: MediaStreamTrack) -> None:
            if not offerer and kind == "audio":
                self.track = track

        return PeerLink(
            peer,
            offerer=offerer,
            ice_servers=(),
            audio=audio,
            video=IdleVideoTrack(),
            on_state=lambda *a: None,
            on_track=on_track,
            on_data=lambda *a: None,
        )

    @property
    def receiver(self) -> Any:
        return self.b.pc.getTransceivers()[0].receiver

    async def connect(self) -> MediaStreamTrack:
        await self.a.accept_answer(await self.b.accept_offer(await self.a.make_offer()))
        deadline = time.monotonic() + 10
        while self.track is None:
            if time.monotonic() > deadline:
                raise TimeoutError("no audio track from A")
            await asyncio.sleep(0.01)
        return self.track

    def playout_stats(self) -> Any:
        buffer = self.b.receive.buffers.get("0")
        return getattr(getattr(buffer, "buffer", None), "stats", None)

    async def aclose(self) -> None:
        await self.a.close()
        await self.b.close()
        if self.encoder is not None:
            await self.encoder.aclose()
        await self.feed.aclose()
        receive.set_stock(False)


async def read_frames(
    track: MediaStreamTrack, on_frame: Callable[[float, Any], None], until: float
) -> None:
    """Hand every decoded frame (with its perf_counter arrival) to ``on_frame``."""
    while time.perf_counter() < until:
        try:
            frame = await asyncio.wait_for(track.recv(), max(0.01, until - time.perf_counter()))
        except TimeoutError:
            return
        on_frame(time.perf_counter(), frame)
