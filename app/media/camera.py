"""Real cameras through PyAV's video4linux2 demuxer (Linux).

A CameraCapture does blocking I/O, so it lives in the thread of whoever reads it (the VideoFeed's
capture thread): opening, reading and closing all happen there, never on the event loop.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import re
import struct
from collections.abc import Iterator
from typing import Any

import av

from app.errors import MediaError

#: (what is sent instead, the test pattern or nothing, is the feed's to say: app.media.video)
_PICK_ANOTHER = "Plug in a camera, or pick another one in Settings."


def list_cameras(dev_dir: str = "/dev") -> list[str]:
    """Camera device paths, in numeric order (/dev/video2 before /dev/video10).

    Linux gives many webcams a second node for metadata only; those are left out when the
    driver says so. A node we may not query stays in, so picking it explains the problem.
    """
    paths = [p for p in glob.glob(os.path.join(dev_dir, "video*")) if _number(p) >= 0]
    return sorted((p for p in paths if _can_capture(p)), key=_number)


def camera_name(device: str) -> str:
    """The human name the driver reports (e.g. "HD Pro Webcam C920"), or the path itself."""
    try:
        with open(f"/sys/class/video4linux/{os.path.basename(device)}/name") as f:
            return f.read().strip() or device
    except OSError:
        return device


def _number(path: str) -> int:
    match = re.fullmatch(r"video(\d+)", os.path.basename(path))
    return int(match.group(1)) if match else -1


_VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
_CAP_VIDEO_CAPTURE, _CAP_VIDEO_CAPTURE_MPLANE, _CAP_DEVICE_CAPS = 0x1, 0x1000, 0x80000000


def _can_capture(path: str) -> bool:
    """False only when the driver says this node cannot capture video (a metadata node)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return True
    try:
        caps = bytearray(104)
        fcntl.ioctl(fd, _VIDIOC_QUERYCAP, caps)
    except OSError:
        return True
    finally:
        os.close(fd)
    capabilities, device_caps = struct.unpack_from("<II", caps, 84)
    if capabilities & _CAP_DEVICE_CAPS:  # the node's own caps, not the whole device's
        capabilities = device_caps
    return bool(capabilities & (_CAP_VIDEO_CAPTURE | _CAP_VIDEO_CAPTURE_MPLANE))


class CameraCapture:
    """One V4L2 camera, opened lazily and released by close() (so the LED goes off).

    Not thread-safe: open, next_frame and close must be called from the same thread. Frames come
    out as yuv420p at the requested size, converted once here rather than once per peer encoder.
    """

    paced = True  # next_frame() blocks until the camera delivers, so the camera sets the rate
    noisy = True  # sensor noise: the encoder runs its denoiser

    def __init__(
        self,
        device: str = "/dev/video0",
        width: int = 640,
        height: int = 480,
        fps: float = 30,
        input_format: str | None = None,
    ) -> None:
        self.device, self.width, self.height, self.fps = device, width, height, fps
        #: e.g. "mjpeg": many webcams only reach 720p/30 fps in MJPEG, YUYV is the driver default
        self.input_format = input_format
        self._container: Any = None
        self._frames: Iterator[av.VideoFrame] | None = None

    @property
    def is_open(self) -> bool:
        return self._container is not None

    def open(self) -> None:
        """Open the device (blocks up to about a second); raise MediaError saying what to do."""
        if self._container is not None:
            return
        options = {"video_size": f"{self.width}x{self.height}", "framerate": f"{self.fps:g}"}
        if self.input_format:
            options["input_format"] = self.input_format
        try:
            container = av.open(self.device, format="video4linux2", options=options)
        except (OSError, av.FFmpegError) as exc:
            raise MediaError(self._explain(exc)) from exc
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # MJPEG decoding may use a second core
            self._frames = container.decode(stream)
        except (IndexError, av.FFmpegError) as exc:
            container.close()
            raise MediaError(f"{self.device} is not a video camera. {_PICK_ANOTHER}") from exc
        self._container = container

    def next_frame(self) -> av.VideoFrame:
        """The next frame from the camera (opening it first if needed); blocks until it arrives.

        Raises MediaError if the camera fails or vanishes mid-call (e.g. unplugged).
        """
        self.open()
        assert self._frames is not None
        try:
            frame = next(self._frames)
        except StopIteration:
            self.close()
            raise MediaError(f"The camera at {self.device} stopped sending video.") from None
        except (OSError, av.FFmpegError) as exc:
            self.close()
            raise MediaError(f"The camera at {self.device} stopped working ({exc}).") from exc
        if (frame.format.name, frame.width, frame.height) != ("yuv420p", self.width, self.height):
            frame = frame.reformat(  # threads=1: else a thread per CPU core for every frame
                width=self.width, height=self.height, format="yuv420p", threads=1
            )
        return frame

    def close(self) -> None:
        """Release the device. Idempotent; the next next_frame() opens it again."""
        container, self._container, self._frames = self._container, None, None
        if container is not None:
            with contextlib.suppress(OSError, av.FFmpegError):  # device gone: nothing to release
                container.close()

    def _explain(self, exc: BaseException) -> str:
        code = getattr(exc, "errno", None)
        where = self.device
        if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or not os.path.exists(where):
            return f"No camera found at {where}. {_PICK_ANOTHER}"
        if code in (errno.EACCES, errno.EPERM):
            return (
                f"PeerMeet may not use the camera at {where} (permission denied). Add yourself to "
                "the 'video' group (sudo usermod -aG video $USER), log out and in again, "
                "or pick another camera in Settings."
            )
        if code == errno.EBUSY:
            return (
                f"The camera at {where} is in use by another program. Close that program "
                "(another call, the camera app, a browser tab), or pick another camera in Settings."
            )
        if code in (errno.ENOTTY, errno.EINVAL):
            return f"{where} is not a video camera (or not in a mode PeerMeet can use). " + (
                _PICK_ANOTHER
            )
        return f"Could not open the camera at {where}: {exc}. {_PICK_ANOTHER}"
