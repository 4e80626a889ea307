"""The decoder thread's cheaper hand-over: same frames, same end of track, no hang."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import random
import threading
from typing import Any

import av
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


class _Receiver:
    """What InlineDecoder reads from an aiortc receiver: its track's queue, its error flag."""

    def __init__(self) -> None:
        self._track = type("Track", (), {"_queue": asyncio.Queue()})()
        self._RTCRtpReceiver__decoder_error = threading.Event()


async def test_inline_decoder_decodes_on_the_spot_and_ends_the_track() -> None:
    receiver = _Receiver()
    inline = decoding.InlineDecoder(receiver)
    out = receiver._track._queue
    codec = _vp8()
    for frame in _vp8_frames(3):
        inline.put((codec, frame))
        assert out.qsize() > 0  # decoded before put() returned: no thread, no hop
    inline.put((codec, JitterFrame(data=b"\x00garbage", timestamp=99)))
    assert receiver._RTCRtpReceiver__decoder_error.is_set()
    decoder = inline._decoder
    inline.put(None)
    got = [out.get_nowait() for _ in range(out.qsize())]
    assert [read_stamp(f)[0] for f in got[:3]] == [0, 1, 2]  # type: ignore[index]
    assert got[3:] == [None] and inline.qsize() == 0 and inline.thread is None
    assert decoder._decoder is None  # libvpx (and its threads) released at once, not at a GC


async def test_slow_decoding_moves_to_a_thread_with_the_same_decoder() -> None:
    """Frames that take longer than INLINE_LIMIT to decode go to a thread; the decoder goes
    with them, so the next (inter) frames still decode without a new keyframe."""
    ticks = iter(range(10_000))
    receiver = _Receiver()
    inline = decoding.InlineDecoder(receiver, clock=lambda: next(ticks) * 0.1)  # 100 ms each
    out = receiver._track._queue
    codec, frames = _vp8(), _vp8_frames(8)
    inline.put((codec, frames[0]))  # mean 100/16 ms > INLINE_LIMIT: the next ones go to a thread
    assert inline.thread is not None and inline.thread.is_alive()
    for frame in frames[1:]:
        inline.put((codec, frame))
    inline.put(None)
    got = [await asyncio.wait_for(out.get(), 5) for _ in range(9)]
    await asyncio.to_thread(inline.thread.join, 5)
    assert not inline.thread.is_alive()
    assert [read_stamp(f)[0] for f in got[:8]] == list(range(8))  # type: ignore[index]
    assert got[8] is None and not receiver._RTCRtpReceiver__decoder_error.is_set()
    assert inline._decoder._decoder is None  # the thread released the codec as it ended


def test_the_worker_leaves_an_inline_decoder_alone() -> None:
    loop = asyncio.new_event_loop()
    try:
        inline = decoding.InlineDecoder(_Receiver())
        decoding.decoder_worker(loop, inline, asyncio.Queue(), threading.Event())  # type: ignore[arg-type]
    finally:
        loop.close()  # returned at once: no thread blocks on the stand-in


def test_vp8_is_decoded_by_ffmpeg_itself_to_the_same_pictures_without_delay() -> None:
    """FFmpeg's VP8 decoder instead of libvpx's (aiortc's): each frame comes out of the frame
    that carries it (no frame threads holding it back), the same as libvpx's bit for bit, and
    damaged data is an FFmpegError (skipped by the worker), never a crash."""
    from aiortc.codecs.vpx import Vp8Decoder

    native, stock = decoding.new_decoder(_vp8()), Vp8Decoder()
    assert isinstance(native, decoding.NativeVp8Decoder) and native.codec.name == "vp8"
    frames = _vp8_frames(40)
    for frame in frames:
        (ours,), (theirs,) = native.decode(frame), stock.decode(frame)
        assert ours.pts == theirs.pts == frame.timestamp
        assert ours.to_ndarray().tobytes() == theirs.to_ndarray().tobytes()
    rng = random.Random(7)
    for frame in frames[1:]:  # flipped bytes, cut short, or nothing: refused or decoded
        data = bytearray(frame.data)
        for _ in range(8):
            data[rng.randrange(len(data))] = rng.randrange(256)
        for bad in (bytes(data), frame.data[: len(frame.data) // 3], b""):
            with contextlib.suppress(av.FFmpegError):
                native.decode(JitterFrame(data=bad, timestamp=frame.timestamp))
    assert native.decode(JitterFrame(data=b"", timestamp=0)) == []  # nothing: no frame


def test_an_empty_frame_does_not_end_the_vp8_stream() -> None:
    """An empty packet is FFmpeg's end of stream: every frame after it failed (EOFError), and
    that person's video froze for the rest of the call. It is no frame at all now."""
    native = decoding.new_decoder(_vp8())
    first, *rest = _vp8_frames(6)
    assert len(native.decode(first)) == 1
    native.decode(JitterFrame(data=b"", timestamp=first.timestamp + 1500))
    assert [len(native.decode(frame)) for frame in rest] == [1] * len(rest)


def test_an_h264_picture_over_4k_is_refused_before_it_is_decoded() -> None:
    """As VP8's (tests/integration/test_hostile_peer.py): a sender's H.264 stream that says it
    is larger than 4K UHD does not decode; one that fits does, on the same decoder."""
    h264 = next(c for c in get_capabilities("video").codecs if c.mimeType == "video/H264")
    decoder, error = decoding._Decoder(), threading.Event()
    for width, height, expected in ((4000, 2400, []), (640, 480, [(640, 480)])):
        camera, encoder = SyntheticCamera(width, height), VideoEncoder("h264", 300_000)
        frame = camera.next_frame()
        frame.pts, frame.time_base = 0, TIME_BASE
        data = b"".join(bytes(p) for p in encoder.encode(frame, keyframe=True))
        pictures = decoder.decode(h264, JitterFrame(data=data, timestamp=0), error)
        assert [(p.width, p.height) for p in pictures] == expected
    assert error.is_set()  # (the refused one)
