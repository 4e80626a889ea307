"""The decoder thread's cheaper hand-over: same frames, same end of track, no hang."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from aiortc import rtcrtpreceiver
from aiortc.codecs import get_capabilities
from aiortc.jitterbuffer import JitterFrame

from app.media.encoders import VideoEncoder
from app.media.synthetic import SyntheticCamera, read_stamp
from app.media.video import TIME_BASE
from app.net import decoding


def _vp8_frames(count: int) -> list[JitterFrame]:
    camera, encoder = SyntheticCamera(320, 240), VideoEncoder("vp8", 300_000)
    out = []
    for i in range(count):
        frame = camera.next_frame()
        frame.pts, frame.time_base = i * 3000, TIME_BASE
        data = b"".join(bytes(p) for p in encoder.encode(frame, keyframe=i == 0))
        out.append(JitterFrame(data=data, timestamp=i * 3000))
    return out


def _vp8() -> Any:
    return next(c for c in get_capabilities("video").codecs if c.mimeType == "video/VP8")


async def test_worker_hands_every_decoded_frame_to_the_loop_then_ends() -> None:
    loop = asyncio.get_running_loop()
    inbox: queue.Queue[Any] = queue.Queue()
    out: asyncio.Queue[Any] = asyncio.Queue()
    error = threading.Event()
    worker = threading.Thread(target=decoding.decoder_worker, args=(loop, inbox, out, error))
    worker.start()
    codec = _vp8()
    for frame in _vp8_frames(5):
        inbox.put((codec, frame))
    inbox.put((codec, JitterFrame(data=b"\x00garbage", timestamp=99)))  # undecodable
    inbox.put(None)
    got = [await asyncio.wait_for(out.get(), 5) for _ in range(6)]
    await asyncio.to_thread(worker.join, 5)
    assert not worker.is_alive()
    assert [read_stamp(f)[0] for f in got[:5]] == [0, 1, 2, 3, 4]  # type: ignore[index]
    assert got[5] is None  # end of track, after the bad frame was skipped
    assert error.is_set()


def test_worker_stops_when_the_loop_is_gone() -> None:
    loop = asyncio.new_event_loop()
    out: asyncio.Queue[Any] = asyncio.Queue()
    loop.close()
    inbox: queue.Queue[Any] = queue.Queue()
    worker = threading.Thread(
        target=decoding.decoder_worker, args=(loop, inbox, out, threading.Event())
    )
    worker.start()
    inbox.put((_vp8(), _vp8_frames(1)[0]))
    worker.join(5)
    assert not worker.is_alive()  # returned instead of raising in a thread or blocking


def test_install_is_idempotent_and_reversible() -> None:
    was = decoding.installed()
    try:
        decoding.install()
        decoding.install()
        assert rtcrtpreceiver.decoder_worker is decoding.decoder_worker
        decoding.uninstall()
        assert not decoding.installed()
    finally:
        if was:
            decoding.install()
