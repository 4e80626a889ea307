"""Run `peermeet` as separate processes, the way a person or a bot would."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PY = sys.executable
MEDIA = ["--synthetic", "--res", "320x240", "--fps", "15"]


def peermeet(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PY, "-m", "app", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def rendezvous(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """The standalone server, as `peermeet-rendezvous` runs it."""
    code = "import sys; from app.cli import rendezvous_main; sys.exit(rendezvous_main())"
    return subprocess.Popen(
        [PY, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def first_line(proc: subprocess.Popen[str], timeout: float = 20.0) -> str:
    """The first stdout line (the share link for `host`)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    assert line, f"no output; stderr:\n{proc.stderr.read() if proc.stderr else ''}"
    assert time.monotonic() < deadline
    return line.strip()


def stop_mid_call(guest: subprocess.Popen[str], server: subprocess.Popen[str]) -> None:
    """Once the guest says media flows (or 15 s passed), a second of it, then the rendezvous
    ``server`` stops. The guest's stderr lines up to there are used up."""
    assert guest.stderr is not None
    deadline = time.monotonic() + 15
    for line in guest.stderr:
        if "media flowing" in line or time.monotonic() > deadline:
            break
    time.sleep(1.0)
    server.terminate()
    server.communicate(timeout=10)


def finish(proc: subprocess.Popen[str], timeout: float = 60.0) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


def stats(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
