"""A cheaper hand-over of decoded frames from aiortc's decoder threads to the event loop.

aiortc 1.16 runs one decoder thread per receiver (``rtcrtpreceiver.decoder_worker``) and hands
every decoded frame to the loop with ``asyncio.run_coroutine_threadsafe(queue.put(frame))``:
per frame a coroutine, a Task, a concurrent Future and the chaining between them, five loop
callbacks for what one ``queue.put_nowait`` does (the track's queue is unbounded). With three
or more peers at 30 fps that is measurable event-loop time. ``install()`` (idempotent,
process-wide) swaps in a worker that decodes the same way and hands frames over with a single
``loop.call_soon_threadsafe(queue.put_nowait, frame)``; the benchmark's stock-aiortc baseline
does not call it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from typing import Any

import av
from aiortc import rtcrtpreceiver
from aiortc.codecs import get_decoder

log = logging.getLogger(__name__)
_STOCK = rtcrtpreceiver.decoder_worker


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
    codec_name = None
    decoder: Any = None
    while True:
        task = input_q.get()
        if task is None:  # the receiver stopped: tell the track it has ended
            _hand_over(loop, output_q, None)
            break
        codec, encoded_frame = task
        if codec.name != codec_name:
            decoder, codec_name = get_decoder(codec), codec.name
        try:
            frames = decoder.decode(encoded_frame)
        except av.FFmpegError as exc:  # keep the decoder: a reset breaks frames until a keyframe
            log.warning("failed to decode a %s frame: %s", codec.name, exc)
            decode_error.set()
            continue
        for frame in frames:
            if not _hand_over(loop, output_q, frame):
                return
