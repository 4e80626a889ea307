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


@pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb")
def test_the_display_going_away_stops_the_app_cleanly(tmp_path: Path) -> None:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    env = os.environ | {
        "DISPLAY": display,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "LOGNAME": f"pm-display-gone-{os.getpid()}",  # (one PeerMeet per user: its own)
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "run"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(6)  # up and running
        assert app.poll() is None, app.communicate()[1]
        xvfb.kill()
        _, err = app.communicate(timeout=20)
    finally:
        xvfb.kill()
        app.kill()
    assert app.returncode == 1, err
    assert "the window system went away" in err, err
    assert "Traceback" not in err and "Task was destroyed" not in err, err
