"""The screen as a video source: PyAV's x11grab of $DISPLAY, read by a thread this class owns.

ScreenCapture is a FrameSource for VideoFeed (``paced = False``: ``next_frame()`` returns the
newest grabbed picture at once). The grab thread opens the display, converts each picture to
yuv420p no wider than ``max_width`` (a 4K screen would swamp the encoder), keeps only the newest,
and closes the display when ``close()`` stops it.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import av

from app.errors import MediaError, os_reason

log = logging.getLogger(__name__)
OPEN_TIMEOUT_S = 5.0
#: part of the X screen: x, y, width, height in pixels (one monitor of several)
Region = tuple[int, int, int, int]


def screen_available(display: str = "") -> str | None:
    """None if screen sharing can work here, else what a person reads (what is wrong, what to do).

    ``display`` names an X display explicitly (then the desktop session type does not matter).
    """
    wayland = os.environ.get("XDG_SESSION_TYPE") == "wayland" or (
        os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY")
    )
    if wayland and not display:
        return (
            "Screen sharing is not available in a Wayland session yet. "
            "Log in with an X11 (Xorg) session to share your screen."
        )
    if not (display or os.environ.get("DISPLAY")):
        return "Screen sharing needs an X11 desktop, and $DISPLAY is not set."
    if "x11grab" not in av.formats_available:
        return (
            "This PyAV build cannot capture the screen (no x11grab). "
            "Install PyAV from PyPI (pip install av), which includes it."
        )
    return None


def even_size(width: int, height: int, max_width: int) -> tuple[int, int]:
    """Scaled to at most max_width wide, aspect kept, both even (yuv420p needs it)."""
    if width > max_width:
        height = round(height * max_width / width)
        width = max_width
    return max(2, width // 2 * 2), max(2, height // 2 * 2)


class ScreenCapture:
    paced = False  # next_frame() returns at once; the VideoFeed sets the sending rate
    noisy = False  # rendered pixels: no denoiser

    def __init__(
        self,
        display: str | None = None,
        fps: float = 10,
        max_width: int = 1280,
        region: Region | None = None,
    ) -> None:
        """``region``: only that part of the screen (a monitor); None: all of it."""
        self.display = display or ""  # "" means $DISPLAY, read when opening
        self.fps, self.max_width, self.region = fps, max_width, region
        self.width, self.height = 0, 0  # known once open() returns
        self.frames = 0
        self._latest: av.VideoFrame | None = None
        self._error: str | None = None
        self._first = threading.Event()  # first frame grabbed, or opening failed
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def open(self, timeout: float = OPEN_TIMEOUT_S) -> None:
        """Start grabbing and wait for the first picture (blocks; call it off the event loop).

        Raises MediaError saying what went wrong and what to do.
        """
        if self._thread is None:
            problem = screen_available(self.display)
            if problem:
                raise MediaError(problem)
            self.display = self.display or os.environ.get("DISPLAY", "")
            self._thread = threading.Thread(target=self._run, name="peermeet-screen", daemon=True)
            self._thread.start()
        if not self._first.wait(timeout):
            self.close()
            raise MediaError(
                f"The screen ({self.display}) sent no picture within {timeout:.0f} s. "
                "Try sharing again; if it keeps failing, restart the desktop session."
            )
        if self._error:
            self.close()
            raise MediaError(self._error)

    def next_frame(self) -> av.VideoFrame:
        """The newest screen picture (opening first if needed)."""
        if self._latest is None:
            self.open()
        with self._lock:
            frame = self._latest
        if self._error or frame is None:
            raise MediaError(self._error or "Screen capture stopped. Share your screen again.")
        return frame

    def close(self) -> None:
        """Stop the grab thread (waits up to a second) and release the display. Idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0 + 2 / self.fps)
            if thread.is_alive():
                log.warning("screen capture thread did not stop in time")

    # --- grab thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        options = {"framerate": f"{self.fps:g}", "draw_mouse": "1"}
        if self.region is not None:
            x, y, width, height = self.region
            options |= {"grab_x": str(x), "grab_y": str(y), "video_size": f"{width}x{height}"}
        try:
            container: Any = av.open(self.display, format="x11grab", options=options)
        except (OSError, av.FFmpegError) as exc:
            why = os_reason(exc) if isinstance(exc, OSError) else str(exc)
            self._fail(
                f"Could not capture the screen of display {self.display} ({why}). "
                "Check that you are logged in to an X11 desktop, then try again."
            )
            return
        try:
            stream = container.streams.video[0]
            self.width, self.height = even_size(stream.width, stream.height, self.max_width)
            for frame in container.decode(stream):
                if self._stop.is_set():
                    break
                picture = frame.reformat(self.width, self.height, "yuv420p", threads=1)
                with self._lock:
                    self._latest = picture
                self.frames += 1
                self._first.set()
        except (OSError, av.FFmpegError, IndexError) as exc:
            log.warning("screen capture of %s stopped: %s", self.display, exc)
            self._fail(
                f"Screen sharing stopped: the screen (display {self.display}) could no longer "
                "be captured. Share your screen again."
            )
        finally:
            container.close()

    def _fail(self, message: str) -> None:
        log.warning("screen capture: %s", message)
        self._error = message
        self._first.set()
