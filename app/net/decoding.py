"""Video decoding without a thread hop per frame, and a cheaper hand-over where a thread is used.

aiortc 1.16 runs one decoder thread per receiver (``rtcrtpreceiver.decoder_worker``) and hands
every decoded frame to the loop with ``asyncio.run_coroutine_threadsafe(queue.put(frame))``:
per frame a coroutine, a Task, a concurrent Future and the chaining between them, five loop
callbacks for what one ``queue.put_nowait`` does (the track's queue is unbounded). With three
or more peers at 30 fps that is measurable event-loop time. ``install()`` (idempotent,
process-wide) swaps in a worker that decodes the same way and hands frames over with a single
``loop.call_soon_threadsafe(queue.put_nowait, frame)``; the benchmark's stock-aiortc baseline
does not call it.

Even that hop costs: a thread woken per frame, then the loop woken to take the frame, several
context switches each time. Decoding a 480p VP8 frame takes about half a millisecond, so
``InlineDecoder`` (put in a receiver's place of its decoder queue by app.net.receive) decodes
each frame on the loop the moment it is complete. A receiver whose frames take longer than
INLINE_LIMIT on average (a large screen share on a slow machine) moves to a decoder thread of
its own, keeping its decoder, so the loop (in the app, the GUI thread) never stalls for long.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import av
from aiortc import rtcrtpreceiver
from aiortc.codecs import get_decoder
from aiortc.mediastreams import VIDEO_TIME_BASE

log = logging.getLogger(__name__)
_STOCK = rtcrtpreceiver.decoder_worker
INLINE_LIMIT = 0.004  # s: mean decode time above which a receiver gets a decoder thread
_SMOOTHING = 16  # frames the mean decode time is taken over
#: The most pixels a decoded picture may have: 4K UHD's (we send at most 1280 wide). A picture's
#: size is the sender's word: a 38-byte VP8 keyframe that says 16000x16000 decodes to 384 MB in
#: most of a second. FFmpeg refuses a larger one (``max_pixels``) before it allocates anything,
#: as a frame that does not decode.
MAX_PIXELS = 3840 * 2160


def install() -> None:
    """Use ``decoder_worker`` below for every receiver started from now on."""
    rtcrtpreceiver.decoder_worker = decoder_worker


def uninstall() -> None:
    rtcrtpreceiver.decoder_worker = _STOCK


def installed() -> bool:
    return rtcrtpreceiver.decoder_worker is decoder_worker


def _hand_over(loop: asyncio.AbstractEventLoop, output: asyncio.Queue[Any], item: Any) -> bool:
    """Queue ``item`` for the track on the loop; False once the loop is gone."""
    try:
        loop.call_soon_threadsafe(output.put_nowait, item)
    except RuntimeError:  # the loop was closed under us: nobody is listening any more
        return False
    return True


def decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
) -> None:
    """aiortc's decoder loop (same decoder choice and error handling), cheaper hand-over."""
    if isinstance(input_q, InlineDecoder):  # it decodes on the loop: no thread needed
        return
    _decode_loop(loop, input_q, output_q, decode_error, _Decoder())


def _decode_loop(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: threading.Event,
    decoder: _Decoder,
) -> None:
    while True:
        task = input_q.get()
        if task is None:  # the receiver stopped: release the codec, tell the track it ended
            decoder.close()
            _hand_over(loop, output_q, None)
            break
        codec, encoded_frame = task
        for frame in decoder.decode(codec, encoded_frame, decode_error):
            if not _hand_over(loop, output_q, frame):
                return


class NativeVp8Decoder:
    """FFmpeg's own VP8 decoder where aiortc opens libvpx's through FFmpeg: the same pictures,
    bit for bit, in 6-12 % less time (docs/performance.md). One thread: FFmpeg would decode
    in frame threads otherwise, which hold each picture back a frame per thread."""

    def __init__(self) -> None:
        self.codec: Any = av.CodecContext.create("vp8", "r")
        self.codec.thread_count = 1
        self.codec.options = {"max_pixels": str(MAX_PIXELS)}

    def decode(self, encoded_frame: Any) -> list[Any]:
        if not encoded_frame.data:  # (an empty packet is FFmpeg's end of stream: none after)
            return []
        packet = av.Packet(encoded_frame.data)
        packet.pts, packet.time_base = encoded_frame.timestamp, VIDEO_TIME_BASE
        return list(self.codec.decode(packet))


def new_decoder(codec: Any) -> Any:
    """The decoder for ``codec`` (aiortc's RTCRtpCodecParameters): aiortc's, but VP8's; either
    refuses pictures over MAX_PIXELS."""
    if codec.mimeType.lower() == "video/vp8":
        return NativeVp8Decoder()
    decoder = get_decoder(codec)
    context = getattr(decoder, "codec", None)  # (aiortc's H.264 decoder: FFmpeg's, not yet open)
    if isinstance(context, av.CodecContext) and codec.mimeType.lower().startswith("video/"):
        context.options = {**context.options, "max_pixels": str(MAX_PIXELS)}
    return decoder


class _Decoder:
    """The decoder for the codec of the frames it is given (a new one when that changes)."""

    def __init__(self) -> None:
        self._decoder: Any = None
        self._codec_name: str | None = None

    def close(self) -> None:
        """Drop the codec: libvpx's context and threads go at once, not at a later GC."""
        self._decoder, self._codec_name = None, None

    def decode(self, codec: Any, encoded_frame: Any, decode_error: threading.Event) -> list[Any]:
        """The decoded frames; none, with ``decode_error`` set, if the frame does not decode."""
        if codec.name != self._codec_name:
            self._decoder, self._codec_name = new_decoder(codec), codec.name
        try:
            return list(self._decoder.decode(encoded_frame))
        except av.FFmpegError as exc:  # keep the decoder: a reset breaks frames until a keyframe
            log.warning("failed to decode a %s frame: %s", codec.name, exc)
            decode_error.set()
            return []


class InlineDecoder:
    """Takes the place of an aiortc receiver's decoder queue (``put``, ``qsize``) and decodes
    each frame on the spot, on the loop; see the module doc. The receiver's ``put(None)`` when
    it stops ends the track (and the decoder thread, if one was started)."""

    def __init__(self, receiver: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self._receiver = receiver  # its track (and the track's queue) comes with negotiation
        self._error: threading.Event = receiver._RTCRtpReceiver__decoder_error
        self._clock = clock
        self._decoder = _Decoder()
        self.mean_seconds = 0.0  # smoothed decode time per frame
        self._queue: queue.Queue[Any] | None = None  # set once decoding moved to a thread
        self.thread: threading.Thread | None = None

    @property
    def _output(self) -> asyncio.Queue[Any]:
        return self._receiver._track._queue  # type: ignore[no-any-return]

    def qsize(self) -> int:
        return self._queue.qsize() if self._queue is not None else 0

    def put(self, task: Any) -> None:
        if self._queue is not None:
            self._queue.put(task)
        elif task is None:  # the receiver stopped: release the codec (and its threads), end
            self._decoder.close()
            self._output.put_nowait(None)
        else:
            codec, encoded_frame = task
            start = self._clock()
            for frame in self._decoder.decode(codec, encoded_frame, self._error):
                self._output.put_nowait(frame)
            self.mean_seconds += (self._clock() - start - self.mean_seconds) / _SMOOTHING
            if self.mean_seconds > INLINE_LIMIT:
                self._move_to_thread()

    def _move_to_thread(self) -> None:
        log.info("decoding takes %.1f ms a frame: moving it to a thread", 1e3 * self.mean_seconds)
        self._queue = queue.Queue()
        args = (asyncio.get_running_loop(), self._queue, self._output, self._error)
        self.thread = threading.Thread(
            target=_decode_loop,
            args=(*args, self._decoder),
            name="video-decoder",
            daemon=True,
        )
        self.thread.start()
