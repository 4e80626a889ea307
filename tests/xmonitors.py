"""Splits an X display's screen into monitors, as ``xrandr --setmonitor`` does (RandR 1.5),
through libXrandr itself: Xvfb has one screen, and no xrandr tool is needed."""

from __future__ import annotations

import ctypes
from collections.abc import Callable


class _MonitorInfo(ctypes.Structure):  # XRRMonitorInfo
    _fields_ = [
        ("name", ctypes.c_ulong), ("primary", ctypes.c_int), ("automatic", ctypes.c_int),
        ("noutput", ctypes.c_int), ("x", ctypes.c_int), ("y", ctypes.c_int),
        ("width", ctypes.c_int), ("height", ctypes.c_int), ("mwidth", ctypes.c_int),
        ("mheight", ctypes.c_int), ("outputs", ctypes.c_void_p),
    ]  # fmt: skip


def set_monitors(
    display: str, monitors: list[tuple[str, int, int, int, int]]
) -> Callable[[], None]:
    """(name, x, y, width, height) monitors on ``display`` (e.g. ":3"), the first primary,
    until the function returned is called (it disconnects: an Xvfb with no client left
    resets, and forgets them)."""
    x11, xrr = ctypes.CDLL("libX11.so.6"), ctypes.CDLL("libXrandr.so.2")
    x11.XOpenDisplay.restype, x11.XOpenDisplay.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xrr.XRRAllocateMonitor.restype = ctypes.POINTER(_MonitorInfo)
    xrr.XRRAllocateMonitor.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xrr.XRRSetMonitor.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(_MonitorInfo)]
    dpy = x11.XOpenDisplay(display.encode())
    if not dpy:
        raise OSError(f"cannot open X display {display}")
    root = x11.XDefaultRootWindow(dpy)
    for i, (name, x, y, width, height) in enumerate(monitors):
        info = xrr.XRRAllocateMonitor(dpy, 0).contents
        info.name = x11.XInternAtom(dpy, name.encode(), 0)
        info.primary, info.automatic, info.noutput = int(i == 0), 0, 0
        info.x, info.y, info.width, info.height = x, y, width, height
        info.mwidth, info.mheight = width // 4, height // 4  # (mm: about 100 dpi)
        xrr.XRRSetMonitor(dpy, root, ctypes.byref(info))
    x11.XSync(dpy, 0)
    return lambda: x11.XCloseDisplay(dpy)
