"""A private PulseAudio server for tests, with virtual speakers and microphones.

The server lives in its own temporary directory (socket, runtime, state, HOME) and is reached
only through ``PulseServer.env`` (PULSE_SERVER=unix:<dir>/native, autospawn off), so it never
touches a desktop's sound server. Works as root without ``--system``.

    # in tests/conftest.py or a test module (the fixture's name is "pulse"):
    from tests.pulse import PulseServer, pulse_server  # noqa: F401

    def test_x(pulse: PulseServer) -> None:
        pulse.add_sink("spk")                          # a null sink: a virtual speaker
        pulse.add_source("mic", master="spk.monitor")  # what is played into spk is heard on mic
        tone = pulse.play_tone("spk", 440.0, seconds=3)
        pcm = pulse.record("mic", seconds=1)           # s16le mono 48 kHz bytes
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

RATE = 48_000
PCM_ARGS = ["--raw", "--format=s16le", f"--rate={RATE}", "--channels=1"]
KEEPER = "--client-name=pm-keeper"  # see add_sink
MISSING = "PulseAudio is not installed (apt-get install pulseaudio pulseaudio-utils)"


def pulse_missing() -> str | None:
    """Why a PulseAudio server cannot be started here, or None if it can."""
    tools = ("pulseaudio", "pactl", "pacat", "parec")
    absent = [t for t in tools if shutil.which(t) is None]
    return f"{MISSING}; missing: {', '.join(absent)}" if absent else None


class PulseServer:
    """One private ``pulseaudio`` process; ``close()`` (idempotent) stops it and its helpers."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pm-pulse-"))  # short: socket paths <= 108
        self.socket = self.root / "native"
        client_conf = self.root / "client.conf"
        client_conf.write_text("autospawn = no\n")
        #: environment for libpulse clients (pactl, Qt, ...): merge into os.environ or a child's
        self.env = {"PULSE_SERVER": f"unix:{self.socket}", "PULSE_CLIENTCONFIG": str(client_conf)}
        self._modules: dict[str, str] = {}  # device name -> module index
        self._children: list[subprocess.Popen[bytes]] = []
        self._keepers: dict[str, subprocess.Popen[bytes]] = {}  # sink name -> its keeper
        self._closed = False
        self._daemon_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DBUS"))
        }
        self._daemon_env.pop("DISPLAY", None)  # no X11 dbus autolaunch, no X11 bell/cookie
        self._daemon_env.update(
            HOME=str(self.root),
            XDG_RUNTIME_DIR=str(self.root),
            XDG_CONFIG_HOME=str(self.root / "config"),
            PULSE_RUNTIME_PATH=str(self.root / "runtime"),
            PULSE_STATE_PATH=str(self.root / "state"),
        )
        self.log_path = self.root / "pulseaudio.log"
        self._args = [
            "pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "-n",
            "--use-pid-file=no", "--system=no", "--realtime=no", "--high-priority=no",
            "--log-target=stderr", "--log-level=warning",
            "--load", f"module-native-protocol-unix auth-anonymous=1 socket={self.socket}",
            "--load", f"module-cli-protocol-unix socket={self.root / 'cli'}",
        ]  # fmt: skip
        if shutil.which("setpriv"):  # the server ends with us, even if pytest is killed
            self._args = ["setpriv", "--pdeathsig", "TERM", *self._args]
        self._start()

    def _start(self) -> None:
        with open(self.log_path, "ab") as log:
            self._daemon = subprocess.Popen(
                self._args, env=self._daemon_env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        try:
            self._wait_ready()
        except BaseException:
            self.close()
            raise

    def crash(self) -> None:
        """Kill the server (SIGKILL: a crash); its devices are gone with it."""
        self._daemon.kill()
        self._daemon.wait()
        for keeper in self._keepers.values():
            stop_process(keeper)
        self._keepers.clear()
        self._modules.clear()

    def restart(self) -> None:
        """Start the server again after ``crash()``, on the same socket, with no devices."""
        for leftover in (self.socket, self.root / "cli"):
            leftover.unlink(missing_ok=True)  # a killed server leaves its sockets behind
        self._start()

    def _wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._daemon.poll() is not None:
                raise RuntimeError(f"pulseaudio exited: {self.log_path.read_text()[-2000:]}")
            if self.socket.exists() and self._run(["pactl", "info"], check=False).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"pulseaudio not ready within {timeout} s: {self.log_path.read_text()}")

    @property
    def client_env(self) -> dict[str, str]:
        """os.environ plus ``env``: for starting clients (Qt children, pacat ...)."""
        return {**os.environ, **self.env}

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, env=self.client_env, capture_output=True, text=True, timeout=10, check=check
        )

    def pactl(self, *args: str) -> str:
        return self._run(["pactl", *args]).stdout.strip()

    def add_sink(self, name: str, description: str | None = None) -> str:
        """A null sink (virtual speaker, s16 mono 48 kHz); its monitor is ``<name>.monitor``.

        An idle null sink renders in 2 s blocks, and a stream arriving later waits for the
        current block to end: so a low-latency recorder of the monitor is kept running (the
        "keeper") and the sink is suspended/resumed once to restart its clock at 10 ms blocks.
        """
        desc = (description or name).replace(" ", "_")
        self._modules[name] = self.pactl(
            "load-module", "module-null-sink", f"sink_name={name}", "format=s16le",
            f"rate={RATE}", "channels=1", f"sink_properties=device.description={desc}",
        )  # fmt: skip
        before = len(self.pactl("list", "short", "source-outputs").splitlines())
        self._keepers[name] = subprocess.Popen(
            ["parec", *PCM_ARGS, "--latency-msec=10", f"--device={name}.monitor", KEEPER],
            env=self.client_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 5
        while len(self.pactl("list", "short", "source-outputs").splitlines()) <= before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the keeper recorder of {name}.monitor did not connect")
            time.sleep(0.01)
        self.pactl("suspend-sink", name, "1")
        self.pactl("suspend-sink", name, "0")
        return name

    def plug(self, speaker: str, mic: str, *, default: bool = False) -> None:
        """A headset, say: the speaker ``speaker`` and a microphone ``mic`` that hears what it
        plays; with ``default`` both become the system's default devices."""
        self.add_sink(speaker)
        self.add_source(mic, master=f"{speaker}.monitor")
        if default:
            self.set_default_sink(speaker)
            self.set_default_source(mic)

    def add_source(self, name: str, master: str, description: str | None = None) -> str:
        """A virtual microphone remapped from ``master`` (e.g. ``"a_in.monitor"``)."""
        desc = (description or name).replace(" ", "_")
        self._modules[name] = self.pactl(
            "load-module", "module-remap-source", f"source_name={name}", f"master={master}",
            "channels=1", "channel_map=mono", "master_channel_map=mono",
            f"source_properties=device.description={desc}",
        )  # fmt: skip
        return name

    def cli(self, command: str) -> str:
        """One command of the daemon's own command language (what ``pacmd`` speaks)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(5)
            conn.connect(str(self.root / "cli"))
            conn.sendall(command.encode() + b"\n")
            conn.shutdown(socket.SHUT_WR)  # end of input: the daemon answers, then hangs up
            reply = b"".join(iter(lambda: conn.recv(4096), b""))
        return reply.decode(errors="replace").replace(">>> ", "").strip()

    def kill_streams(self, device: str) -> int:
        """Kill every client stream playing to sink ``device`` or recording from source
        ``device`` (as if the device failed under them); returns how many were killed."""
        clients = self.pactl("list", "clients").split("Client #")[1:]
        keepers = {c.split()[0] for c in clients if 'application.name = "pm-keeper"' in c}
        killed = 0
        for kind, parent in (("sink", "sink-inputs"), ("source", "source-outputs")):
            names = {row[0]: row[1] for row in _rows(self.pactl("list", "short", f"{kind}s"))}
            for row in _rows(self.pactl("list", "short", parent)):
                index, on, client = row[0], row[1], row[2]
                if names.get(on) == device and client not in keepers and client != "-":
                    short = "sink-input" if kind == "sink" else "source-output"
                    self.cli(f"kill-{short} {index}")
                    killed += 1
        return killed

    def remove(self, name: str) -> None:
        """Unplug a device made by add_sink/add_source (a sink also loses its monitor)."""
        keeper = self._keepers.pop(name, None)
        if keeper:
            stop_process(keeper)
        self.pactl("unload-module", self._modules.pop(name))

    def set_default_sink(self, name: str) -> None:
        self.pactl("set-default-sink", name)

    def set_default_source(self, name: str) -> None:
        self.pactl("set-default-source", name)

    def play_tone(
        self, sink: str, freq: float, seconds: float, amplitude: float = 0.3
    ) -> subprocess.Popen[bytes]:
        """Start playing a sine into ``sink`` in the background (pacat); returns the process.
        It ends by itself after ``seconds``; ``close()`` stops it early."""
        t = np.arange(int(RATE * seconds)) / RATE
        pcm = (amplitude * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2").tobytes()
        path = self.root / f"tone-{len(self._children)}.raw"
        path.write_bytes(pcm)
        with open(path, "rb") as data:
            proc = subprocess.Popen(
                ["pacat", "--playback", *PCM_ARGS, "--latency-msec=20", f"--device={sink}"],
                env=self.client_env, stdin=data, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        self._children.append(proc)
        return proc

    def record(self, source: str, seconds: float) -> bytes:
        """Record ``seconds`` of s16le mono 48 kHz from ``source`` (blocks that long)."""
        wanted = int(RATE * seconds) * 2
        proc = subprocess.Popen(
            ["parec", *PCM_ARGS, "--latency-msec=20", f"--device={source}"],
            env=self.client_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self._children.append(proc)
        assert proc.stdout is not None
        try:
            data = proc.stdout.read(wanted)  # parec streams in real time; EOF if it fails
        finally:
            stop_process(proc)
            self._children.remove(proc)
        got = len(data)
        if got < wanted:
            raise RuntimeError(f"parec {source}: got {got} of {wanted} bytes")
        return data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in [*self._children, *self._keepers.values()]:
            stop_process(proc)
        stop_process(self._daemon)
        shutil.rmtree(self.root, ignore_errors=True)


def _rows(table: str) -> list[list[str]]:
    return [line.split("\t") for line in table.splitlines() if line.strip()]


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate (then kill) a helper process and close its pipes. Idempotent."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream:
            stream.close()


@pytest.fixture(name="pulse")
def pulse_server() -> Iterator[PulseServer]:
    """A fresh private PulseAudio server for one test (skips if PulseAudio is missing)."""
    reason = pulse_missing()
    if reason:
        pytest.skip(reason)
    server = PulseServer()
    try:
        yield server
    finally:
        server.close()
