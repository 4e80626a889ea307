"""PulseAudio devices as PeerMeet's PcmSource/PcmSink, through ``parec``/``pacat`` (libpulse
clients, like the app's Qt audio): for bench/audio_latency.py's mouth-to-ear measurement.

Each owns one child process (and, for the source, one reader thread); ``close()`` is idempotent.
"""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from app.media.audio import PcmRing
from app.media.pcm import FRAME_BYTES
from tests.pulse import stop_process as _stop

PCM = ["--raw", "--format=s16le", "--rate=48000"]


class ParecSource:
    """A microphone: mono s16 48 kHz recorded from ``device`` at ``latency_ms``."""

    def __init__(self, device: str, env: dict[str, str], latency_ms: int = 10) -> None:
        self.ring = PcmRing(200)
        self._proc = subprocess.Popen(
            ["parec", *PCM, "--channels=1", f"--latency-msec={latency_ms}", f"--device={device}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._thread = threading.Thread(target=self._read, name="bench-parec", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while True:
            chunk = self._proc.stdout.read1(FRAME_BYTES)  # type: ignore[attr-defined]
            if not chunk:
                return
            self.ring.push(chunk)

    def read_frame(self) -> bytes | None:
        return self.ring.read_frame()

    def close(self) -> None:
        _stop(self._proc)
        self._thread.join(3)
        self.ring.close()


class PacatSink:
    """A speaker: mono s16 48 kHz played to ``device`` at ``latency_ms``."""

    def __init__(self, device: str, env: dict[str, str], latency_ms: int = 10) -> None:
        self._proc = subprocess.Popen(
            ["pacat", "--playback", *PCM, "--channels=1", f"--latency-msec={latency_ms}",
             f"--device={device}"],
            env=env,
            stdin=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def write(self, pcm: bytes) -> None:
        stdin: Any = self._proc.stdin
        if stdin is not None and self._proc.poll() is None:
            stdin.write(pcm)
            stdin.flush()

    def close(self) -> None:
        _stop(self._proc)


class Recorder:
    """Records ``channels`` of ``device`` into memory (s16le), from a reader thread."""

    def __init__(self, device: str, env: dict[str, str], channels: int, latency_ms: int = 5):
        self.data = bytearray()
        self._proc = subprocess.Popen(
            ["parec", *PCM, f"--channels={channels}", f"--latency-msec={latency_ms}",
             f"--device={device}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, name="bench-recorder", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        while chunk := self._proc.stdout.read1(4096):  # type: ignore[attr-defined]
            self.data += chunk

    def close(self) -> bytes:
        _stop(self._proc)
        self._thread.join(3)
        return bytes(self.data)
