"""One video capture shared by every peer in a meeting.

A single thread owned by VideoFeed reads the camera (or renders the test pattern) off the event
loop and hands only the newest picture to the loop. Each remote peer gets its own track that
sends each picture at most once and never queues old ones, so a slow peer drops frames instead
of falling behind, and one camera serves any number of peers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Protocol, cast

import av
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from app.errors import MediaError
from app.media.synthetic import BLACK, SyntheticCamera

log = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000  # RTP video clock (Hz)
TIME_BASE = Fraction(1, VIDEO_CLOCK)
BLACK_INTERVAL = 1.0  # camera off: one black frame per second keeps the stream (and NAT) alive
#: aiortc's receiver hands a frame on only when the next frame's first packet arrives, so the
#: first black frame is chased by a second one soon after; else the peer sees black a second late
BLACK_FLUSH = 0.1
JOIN_TIMEOUT = 3.0  # a camera read normally returns within a frame period


class FrameSource(Protocol):
    """What VideoFeed reads from: SyntheticCamera or CameraCapture. Called from the feed thread."""

    width: int
    height: int
    fps: float
    #: True if next_frame blocks until a frame is due (a camera); False if it returns at once and
    #: the feed must pace it (the test pattern)
    paced: bool

    def next_frame(self) -> av.VideoFrame: ...

    def close(self) -> None: ...


class VideoFeed:
    """Owns one capture thread and one source; serves the newest frame to any number of tracks.

    Create it with the asyncio loop running (or pass ``loop``); all methods except the
    constructor's thread are for the loop thread. The feed owns every source given to it and
    closes it. Call close() when the meeting ends.
    """

    def __init__(
        self,
        source: FrameSource,
        fps: float | None = None,
        *,
        label: str = "",
        loop: asyncio.AbstractEventLoop | None = None,
        enabled: bool = True,
        blank_on_failure: bool = False,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        """``enabled=False``: start with the camera off (the device is not even opened).
        ``blank_on_failure``: a camera that fails is followed by black, not the test pattern
        (the desktop app then turns the video off and says why).
        ``on_failure``: a source that fails ends the feed instead (nothing more is sent, not
        even black: a shared screen); called on the loop with what went wrong."""
        self.fps = float(fps or source.fps)
        self.label = label  # shown by the test pattern we fall back to
        self.frames_captured = 0  # frames sent on from a source (not the camera-off black ones)
        #: why the source failed (what replaced it since: the pattern, or black); None once
        #: another source is chosen
        self.last_error: str | None = None
        self._blank_on_failure, self._on_failure = blank_on_failure, on_failure
        self._loop = loop or asyncio.get_running_loop()
        self._source = source
        self._next_source: FrameSource | None = None
        self._enabled = enabled
        self._closed = False
        self._stop = threading.Event()
        self._wake = threading.Event()  # state changed: stop waiting for the next frame time
        self._lock = threading.Lock()  # guards the handoff slot between thread and loop
        self._handoff: tuple[npt.NDArray[np.uint8], int] | None = None
        self._scheduled = False
        self._latest: tuple[npt.NDArray[np.uint8], int] | None = None
        self._seq = 0
        self._tracks: set[_FeedTrack] = set()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="peermeet-video-feed", daemon=True)
        self._thread.start()

    # -- loop side -------------------------------------------------------------------------------

    def new_track(self) -> MediaStreamTrack:
        """A video track for one more peer; it ends when the feed closes or it is stopped."""
        if self._closed:
            raise MediaError("The video feed is closed.")
        track = _FeedTrack(self)
        self._tracks.add(track)
        return track

    def set_enabled(self, enabled: bool) -> None:
        """Camera on/off. Off releases the camera and sends one black frame per second."""
        if enabled and not self._enabled:
            self._latest = None  # (black): the self-view's next frame is the camera's
        self._enabled = enabled
        self._wake.set()

    @property
    def enabled(self) -> bool:
        return self._enabled

    def set_source(self, source: FrameSource) -> None:
        """Switch cameras without renegotiating: tracks carry on with the new source's frames.
        Safe from any thread (the capture thread takes it at its next frame)."""
        if self._closed:
            source.close()
            return
        with self._lock:
            replaced, self._next_source = self._next_source, source
            self.last_error = None  # a fresh choice: whatever failed before is not it
        if replaced is not None:
            replaced.close()  # never handed to the thread, so closing it here is safe
        self._wake.set()

    @property
    def source(self) -> FrameSource:
        """The source frames come from now (a SyntheticCamera after a camera failed)."""
        return self._source

    @property
    def latest(self) -> av.VideoFrame | None:
        """The newest frame (for the self-view), or None before the first one.

        A fresh VideoFrame each time, sharing pixels with what peers are sent: read, don't write.
        """
        return None if self._latest is None else _wrap(*self._latest)

    def close(self) -> None:
        """Stop the thread (waits for it), release the source and end every track. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join(JOIN_TIMEOUT)
        if self._thread.is_alive():
            log.warning("video capture thread did not stop within %.0f s", JOIN_TIMEOUT)
        for track in list(self._tracks):
            track.stop()

    def _newer_than(self, seq: int) -> tuple[int, av.VideoFrame] | None:
        if self._latest is None or self._seq <= seq:
            return None
        return self._seq, _wrap(*self._latest)

    def _deliver(self) -> None:
        with self._lock:
            item, self._handoff, self._scheduled = self._handoff, None, False
        if item is None or self._closed:
            return
        self._latest = item
        self._seq += 1
        for track in self._tracks:
            track.wake.set()

    # -- capture thread --------------------------------------------------------------------------

    def _run(self) -> None:
        source = self._source
        period = 1.0 / self.fps
        due, black_due, blacks = time.monotonic(), 0.0, 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    new, self._next_source = self._next_source, None
                if new is not None:
                    source.close()
                    source = self._source = new
                if not self._enabled:
                    source.close()  # release the device: the camera light goes off
                    now = time.monotonic()
                    if now >= black_due:
                        self._hand_over(_black(source.width, source.height), now)
                        black_due = now + (BLACK_FLUSH if blacks == 0 else BLACK_INTERVAL)
                        blacks += 1
                    self._sleep(black_due - now)
                    due = time.monotonic()
                    continue
                black_due, blacks = 0.0, 0  # when switched off, send black at once
                if not source.paced and self._sleep(due - time.monotonic()):
                    continue  # woken early: something changed, look again
                try:
                    frame = source.next_frame()
                except Exception as exc:  # never let a broken camera end the call
                    source = self._source = self._fall_back(source, exc)
                    continue
                now = time.monotonic()
                if source.paced and now < due - period / 2:
                    continue  # the camera runs faster than we send: drop this one
                due = due + period if due + period > now else now + period
                self.frames_captured += 1
                self._hand_over(_contiguous(frame), now)
        finally:
            source.close()
            with self._lock:
                pending, self._next_source = self._next_source, None
            if pending is not None:
                pending.close()

    def _sleep(self, seconds: float) -> bool:
        """Wait, but wake early on set_enabled/set_source/close; True if woken early."""
        if seconds <= 0:
            return False
        if self._wake.wait(seconds):
            self._wake.clear()
            return True
        return False

    def _hand_over(self, picture: npt.NDArray[np.uint8], now: float) -> None:
        pts = round((now - self._t0) * VIDEO_CLOCK)
        with self._lock:
            self._handoff = (picture, pts)
            if self._scheduled:
                return  # the loop has not taken the previous one yet: it gets this one instead
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self._stop.set()

    def _failed(self, message: str) -> None:
        """Say why the source failed, unless a newer choice already waits (not its failure)."""
        with self._lock:
            if self._next_source is None:
                self.last_error = message

    def _fall_back(self, failed: FrameSource, exc: Exception) -> FrameSource:
        message = str(exc) if isinstance(exc, MediaError) else f"The video source failed: {exc!r}"
        log.warning("video source failed: %s", message)
        failed.close()
        if self._on_failure is not None:
            self._failed(message)
            self._stop.set()  # (the thread ends; the loop is told)
            with contextlib.suppress(RuntimeError):  # (the loop is closed: nobody listens)
                self._loop.call_soon_threadsafe(self._on_failure, message)
            return failed
        if isinstance(failed, SyntheticCamera):  # the pattern itself broke: a bug, don't spin
            self._failed(message)
            self._stop.wait(1.0)
            return failed
        if self._blank_on_failure:
            self._failed(message)
            return Blank(failed.width, failed.height, self.fps)
        if "test pattern" not in message:
            message += " PeerMeet is sending a test pattern instead."
        self._failed(message)
        try:
            return SyntheticCamera(failed.width, failed.height, self.fps, self.label)
        except ValueError:  # odd camera size the pattern cannot draw
            return SyntheticCamera(640, 480, self.fps, self.label)


class _FeedTrack(MediaStreamTrack):
    """One peer's view of the feed: sends each new frame once, skipping any it was too slow for."""

    kind = "video"

    def __init__(self, feed: VideoFeed) -> None:
        super().__init__()
        self._feed = feed
        self._sent = 0
        self.wake = asyncio.Event()

    async def recv(self) -> av.VideoFrame:
        while self.readyState == "live":
            newer = self._feed._newer_than(self._sent)
            if newer is not None:
                self._sent, frame = newer
                return frame
            self.wake.clear()
            await self.wake.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._feed._tracks.discard(self)
        self.wake.set()


def _contiguous(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """Copy a frame into one yuv420p array that is never written again.

    Every track wraps it in its own VideoFrame (no copy), because aiortc's encoders set
    pict_type on the frame they are given: one shared frame would leak one peer's keyframe
    request into the others' encoders, which run concurrently in executor threads.
    """
    if frame.format.name != "yuv420p":  # (threads=1: no thread per CPU core per frame)
        frame = frame.reformat(format="yuv420p", threads=1)
    return cast(npt.NDArray[np.uint8], frame.to_ndarray())


def _wrap(picture: npt.NDArray[np.uint8], pts: int) -> av.VideoFrame:
    if picture.shape[0] % 6 == 0:
        frame = av.VideoFrame.from_numpy_buffer(picture, format="yuv420p")
    else:  # from_numpy_buffer miscomputes heights that are not a multiple of 4 (PyAV 18)
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
    frame.pts = pts
    frame.time_base = TIME_BASE
    return frame


class Blank:
    """A FrameSource of black pictures: what follows a failed camera in the desktop app."""

    paced = False

    def __init__(self, width: int, height: int, fps: float) -> None:
        self.width, self.height, self.fps = width, height, fps

    def next_frame(self) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(_black(self.width, self.height), format="yuv420p")

    def close(self) -> None:
        pass


_black_cache: dict[tuple[int, int], npt.NDArray[np.uint8]] = {}


def _black(width: int, height: int) -> npt.NDArray[np.uint8]:
    """A black yuv420p picture (video-range black, neutral chroma), built once per size."""
    picture = _black_cache.get((width, height))
    if picture is None:
        picture = np.full((height * 3 // 2, width), 128, np.uint8)
        picture[:height] = BLACK
        _black_cache[(width, height)] = picture
    return picture
