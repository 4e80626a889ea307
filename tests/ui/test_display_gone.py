"""The window system going away (X server gone, session ended) stops PeerMeet with a word,
not a traceback and a list of destroyed tasks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("display_gone_child.py")
pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")


def x_server() -> tuple[subprocess.Popen[bytes], str]:
    """An X server of its own, on a display number free now (Xvfb picks it)."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        return xvfb, ":" + pipe.readline().strip()


def app_env(display: str, tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "DISPLAY": display,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "LOGNAME": f"pm-display-gone-{os.getpid()}",  # (one PeerMeet per user: its own)
    }


def said_cleanly(returncode: int, err: str) -> None:
    assert returncode == 1, err
    assert "the window system went away" in err, err
    for trace in ("Traceback", "Task was destroyed", "never retrieved", "Exception ignored"):
        assert trace not in err, err


def test_the_display_going_away_stops_the_app_cleanly(tmp_path: Path) -> None:
    xvfb, display = x_server()
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "run"],
        env=app_env(display, tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(6)  # up and running
        assert app.poll() is None, app.communicate()[1]
        xvfb.kill()
        _, err = app.communicate(timeout=20)
    finally:
        xvfb.kill()
        app.kill()
    said_cleanly(app.returncode, err)


def test_the_display_going_away_as_the_window_shows_stops_the_app_cleanly(
    tmp_path: Path,
) -> None:
    """Gone the moment the home window showed, while LAN discovery was starting: Qt's loop,
    started again for the clean-up, stopped again at once (1 ms: nothing was cleaned up), a
    task woken after it stopped ran with no running loop ("no running event loop", its
    exception logged at exit), and the coroutines left half run, finalised by the garbage
    collector after the loop was closed, scheduled on its destroyed Qt timer: "Internal C++
    object (_SimpleTimer) already deleted"."""
    xvfb, display = x_server()
    try:
        done = subprocess.run(
            [sys.executable, str(CHILD), str(xvfb.pid)],
            env=app_env(display, tmp_path), capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    finally:
        xvfb.kill()
        xvfb.wait()
    said_cleanly(done.returncode, done.stderr)
