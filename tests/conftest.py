from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import av
import pytest

from app.net.peers import set_loopback_only


@pytest.fixture
def loopback() -> Iterator[None]:
    """Keep every ICE candidate on 127.0.0.1 (tests never send traffic elsewhere)."""
    set_loopback_only(True)
    yield
    set_loopback_only(False)


@dataclass
class SpareDisplay:
    name: str  # e.g. ":3"
    xvfb: subprocess.Popen[bytes]

    def take_away(self) -> None:
        """The display is gone (a screen unplugged, a desktop session ended)."""
        self.xvfb.kill()
        self.xvfb.wait()


@pytest.fixture
def spare_display() -> Iterator[SpareDisplay]:
    """An X display of its own (an Xvfb), to take away in the middle of a share."""
    if shutil.which("Xvfb") is None or "x11grab" not in av.formats_available:
        pytest.skip("needs Xvfb and PyAV's x11grab")
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "640x400x24"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        display = SpareDisplay(":" + pipe.readline().strip(), xvfb)
    yield display
    display.take_away()
