"""Decoded video -> paintable image, off the GUI thread.

Each tile owns one FrameConverter, which owns one worker thread. The GUI thread only hands over
a reference to the newest frame and the size to show it at (a lock and a notify); the worker
scales and converts yuv420p to 32-bit RGB with swscale, which runs without the GIL. There is one
pending slot: a frame that arrives while the worker is busy replaces the one waiting, so a slow
conversion drops stale frames and never queues them. The GUI thread then wraps the result in a
QImage without copying (the Converted keeps the buffer alive) and paints it 1:1.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from av.video.reformatter import VideoReformatter
from PySide6.QtGui import QImage

log = logging.getLogger(__name__)

#: swscale format whose bytes match QImage's 32-bit formats (0xAARRGGBB in native byte order);
#: swscale sets alpha to 255, so the picture is also valid premultiplied ARGB
RGB32 = "bgra" if sys.byteorder == "little" else "argb"


@dataclass(frozen=True)
class Converted:
    data: Any  # bytes-like; keep this object alive while an image uses it
    width: int
    height: int
    stride: int
    convert_s: float  # worker time spent on it

    def image(self) -> QImage:
        """A QImage over ``data`` (no copy). Keep this Converted as long as the image lives."""
        fmt = QImage.Format.Format_ARGB32_Premultiplied  # = the backing store's: a plain copy
        return QImage(self.data, self.width, self.height, self.stride, fmt)


def cover_size(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The scaled size that fills the box completely, keeping the aspect (the rest is cropped).

    The width is even (rounded up: one more column to crop). swscale scales to an odd width on
    its slow path: 2.4 ms instead of 0.47 ms for a 640x480 frame to 619 against 620 columns.
    """
    scale = max(box_w / max(src_w, 1), box_h / max(src_h, 1))
    width = max(2, round(src_w * scale))
    return width + width % 2, max(2, round(src_h * scale))


def fit_size(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The scaled size that fits inside the box, keeping the aspect (letterboxed).

    The width is even (rounded down, so it still fits), as for cover_size.
    """
    scale = min(box_w / max(src_w, 1), box_h / max(src_h, 1))
    width = max(2, round(src_w * scale))
    return width - width % 2, max(2, round(src_h * scale))


def frame_key(frame: Any) -> object:
    """Identifies a picture across calls (a feed may wrap the same picture in a new object)."""
    pts = getattr(frame, "pts", None)
    return (pts, frame.width, frame.height) if pts is not None else id(frame)


def convert(
    frame: Any,
    width: int,
    height: int,
    mirror: bool = False,
    reformatter: VideoReformatter | None = None,
) -> Converted:
    """Scale and convert one av.VideoFrame to RGB32 (runs on the worker thread).

    Not ``frame.reformat``: PyAV caches one swscale context *on the frame*, and one frame may be
    shown by several tiles at once (the same person in two windows, the self-view), each
    converting on its own thread: two threads in one swscale context crash. Each converter
    has its own ``reformatter``, whose context is also reused from frame to frame."""
    t0 = time.perf_counter()
    scaler = reformatter if reformatter is not None else VideoReformatter()
    out: Any = scaler.reformat(frame, width=width, height=height, format=RGB32, threads=1)
    plane = out.planes[0]
    data: Any = plane
    stride = plane.line_size
    if mirror:  # the self-view, like a mirror; small, so a numpy copy is fine
        rows = np.frombuffer(plane, np.uint8).reshape(height, stride)[:, : width * 4]
        data = np.ascontiguousarray(rows.reshape(height, width, 4)[:, ::-1])
        stride = width * 4
    return Converted(data, width, height, stride, time.perf_counter() - t0)


class FrameConverter:
    """One worker thread converting only the newest submitted frame. ``close()`` joins it."""

    def __init__(self, on_ready: Callable[[], None], mirror: bool = False, name: str = "") -> None:
        self._on_ready = on_ready  # called on the worker thread after each conversion
        self._mirror = mirror
        self._reformatter = VideoReformatter()  # this worker's own swscale context
        self._name = f"peermeet-frames-{name}" if name else "peermeet-frames"
        self._cond = threading.Condition()
        self._pending: tuple[Any, int, int] | None = None
        self._result: Converted | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self.converted = 0  # frames converted
        self.dropped = 0  # frames replaced before the worker got to them

    def submit(self, frame: Any, width: int, height: int) -> None:
        """Convert ``frame`` to width x height soon; replaces any frame still waiting."""
        with self._cond:
            if self._closed:
                return
            if self._pending is not None:
                self.dropped += 1
            self._pending = (frame, width, height)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()

    def take(self) -> Converted | None:
        """The newest conversion not yet taken, or None."""
        with self._cond:
            result, self._result = self._result, None
        return result

    def close(self) -> None:
        """Stop the worker and wait for it (at most one conversion). Idempotent."""
        with self._cond:
            self._closed = True
            self._pending = None
            thread, self._thread = self._thread, None
            self._cond.notify()
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                assert self._pending is not None
                frame, width, height = self._pending
                self._pending = None
            try:
                result = convert(frame, width, height, self._mirror, self._reformatter)
            except Exception:  # a damaged frame must not end the tile's video
                log.exception("could not convert a video frame for display")
                continue
            with self._cond:
                if self._closed:
                    return
                self._result = result
                self.converted += 1
            self._on_ready()
