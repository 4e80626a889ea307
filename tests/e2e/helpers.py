"""Run `peermeet` as separate processes, the way a person or a bot would."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

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


def leave(proc: subprocess.Popen[str], timeout: float = 30.0) -> tuple[int, str]:
    """SIGTERM: the peer leaves the call cleanly, as at the end of ``--seconds``. Not for a
    process whose stderr a ``Said`` reads."""
    proc.terminate()
    return finish(proc, timeout)


class Said:
    """A process's stderr lines, read as they come (by a thread), to wait for one of them."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, needle: str, timeout: float) -> bool:
        """Whether a line containing ``needle`` came within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.lines):
            if time.monotonic() > deadline or not self._thread.is_alive():
                return any(needle in line for line in self.lines)
            time.sleep(0.05)
        return True

    def text(self, timeout: float = 30.0) -> str:
        """All of it, once the process has closed its stderr."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "stderr still open"
        return "".join(self.lines)


def stats(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data
