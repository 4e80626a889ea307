"""What the encode-once, media path and audio playout tests share: one sender ("A") with a
synthetic camera and a tone (``Sender``), a receiver connected to A by its own PeerLink each way
(``Pair``), exactly as in a mesh call, and the "call" fixture (A and three receivers, each
receiver's video drained into a list). A test file imports the fixture as ``call_fixture``: a
test's argument "call" would redefine the name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiortc import MediaStreamTrack

from app.media.audio import ToneSource
from app.media.audio_tracks import AudioFeed
from app.media.outgoing import Outgoing
from app.media.synthetic import SyntheticCamera
from app.media.video import VideoFeed
from app.net.peers import IdleVideoTrack, PeerLink


class IdleAudioTrack(IdleVideoTrack):
    kind = "audio"


class Sender:
    def __init__(self, fps: float = 15, size: tuple[int, int] = (320, 240)) -> None:
        self.video = VideoFeed(SyntheticCamera(*size, fps, label="A"), fps)
        self.audio = AudioFeed(ToneSource())
        self.out = Outgoing(self.audio, self.video)

    async def close(self) -> None:
        await self.out.aclose()
        await self.audio.aclose()
        self.video.close()


class Pair:
    """A's PeerLink to one receiver, and the receiver's PeerLink back to A."""

    def __init__(self, sender: Sender, name: str) -> None:
        self.tracks: dict[str, MediaStreamTrack] = {}
        audio, video = sender.out.new_tracks()
        self.a = self._link("a", True, audio, video)
        self.b = self._link(name, False, IdleAudioTrack(), IdleVideoTrack())

    def _link(self, peer: str, offerer: bool, audio: Any, video: Any) -> PeerLink:
        def on_track(link: PeerLink, kind: str, track: MediaStreamTrack) -> None:
            if not offerer:
                self.tracks[kind] = track

        return PeerLink(
            peer,
            offerer=offerer,
            ice_servers=(),
            audio=audio,
            video=video,
            on_state=lambda *a: None,
            on_track=on_track,
            on_data=lambda *a: None,
        )

    async def connect(self) -> None:
        await self.a.accept_answer(await self.b.accept_offer(await self.a.make_offer()))
        await until(lambda: "video" in self.tracks and "audio" in self.tracks)

    @property
    def video_buffer(self) -> Any:
        return self.b.receive.buffers["1"]

    async def close(self) -> None:
        await self.a.close()
        await self.b.close()


async def until(check: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def drain(track: MediaStreamTrack, into: list[tuple[float, Any]]) -> None:
    while True:
        frame = await track.recv()
        into.append((time.time(), frame))


@pytest.fixture(name="call")
async def call_fixture() -> AsyncIterator[tuple[Sender, list[Pair], list[list[tuple[float, Any]]]]]:
    sender = Sender()
    pairs = [Pair(sender, f"peer{i}") for i in range(3)]
    readers, received = [], []
    for pair in pairs:
        await pair.connect()
        got: list[tuple[float, Any]] = []
        received.append(got)
        readers.append(asyncio.ensure_future(drain(pair.tracks["video"], got)))
        readers.append(asyncio.ensure_future(drain(pair.tracks["audio"], [])))
    try:
        yield sender, pairs, received
    finally:
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        for pair in pairs:
            await pair.close()
        await sender.close()
