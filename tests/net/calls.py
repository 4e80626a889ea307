"""Services and headless calls inside a Lab: coturn and the rendezvous in "srv", the host of a
meeting in "a", the guest in "b" - each the real CLI, as a process, through the NATs."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.net.lab import RENDEZVOUS_PORT, SRV_IP, TURN_PORT, Lab

PY = sys.executable
SECRET = "lab-turn-secret-" + "x" * 16
STUN = f"stun:{SRV_IP}:{TURN_PORT}"
TURN_UDP = f"turn:{SRV_IP}:{TURN_PORT}?transport=udp"
TURN_TCP = f"turn:{SRV_IP}:{TURN_PORT}?transport=tcp"
MEDIA = ["--synthetic", "--res", "320x240", "--fps", "15"]
RENDEZVOUS_MAIN = "import sys; from app.cli import rendezvous_main; sys.exit(rendezvous_main())"


def start_coturn(lab: Lab) -> None:
    """coturn with the TURN REST scheme (``use-auth-secret``) the rendezvous hands out."""
    lab.spawn("srv", [
        "turnserver", "-n", "--listening-ip", SRV_IP, "--relay-ip", SRV_IP,
        "--listening-port", str(TURN_PORT), "--min-port", "49160", "--max-port", "49999",
        "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm", "peermeet.test",
        "--fingerprint", "--no-tls", "--no-dtls", "--no-cli", "--no-multicast-peers", "--verbose",
        "--denied-peer-ip", "127.0.0.0-127.255.255.255", "--simple-log",
        "--log-file", str(lab.workdir / "coturn.log"),
        "--pidfile", str(lab.workdir / "turnserver.pid"), "--userdb", str(lab.workdir / "turndb"),
    ], "coturn")  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if f"{SRV_IP}:{TURN_PORT}" in lab.x("srv", "ss", "-ltn").stdout:
            return
        time.sleep(0.1)
    raise RuntimeError(f"coturn did not start:\n{lab.output('coturn')[-2000:]}")


def start_rendezvous(lab: Lab, turn_urls: tuple[str, ...] = ()) -> None:
    args = ["--host", SRV_IP, "--port", str(RENDEZVOUS_PORT)]
    for url in turn_urls:
        args += ["--turn-url", url]
    env = {"PEERMEET_TURN_SECRET": SECRET} if turn_urls else {}
    lab.spawn("srv", [PY, "-c", RENDEZVOUS_MAIN, *args], "rendezvous", env)
    lab.wait_output("rendezvous", "listening", 20)


@contextlib.contextmanager
def lab_with_services(
    workdir: Path, nat_a: str = "cone", nat_b: str = "cone", *, turn: bool = True
) -> Iterator[Lab]:
    """A lab with coturn (STUN and TURN) and a rendezvous that, with ``turn``, hands out
    credentials for it; closed on exit. Without TURN a call can only go direct."""
    with Lab(workdir, nat_a=nat_a, nat_b=nat_b) as lab:
        start_coturn(lab)
        start_rendezvous(lab, (TURN_UDP,) if turn else ())
        yield lab


@dataclass
class Result:
    """What one side saw of the other: its stats row and its frame timeline."""

    row: dict[str, Any]
    frames: list[tuple[float, int, int]]  # (unix time, video frames, audio frames)
    events: list[list[Any]]

    @classmethod
    def load(cls, path: Path) -> Result:
        data = json.loads(path.read_text())
        assert len(data["peers"]) == 1, data["peers"]
        (peer_id, row), = data["peers"].items()  # fmt: skip
        timeline = data.get("timeline", {})
        rows = [tuple(r) for r in timeline.get("frames", {}).get(peer_id, [])]
        return cls(row, rows, timeline.get("events", []))  # type: ignore[arg-type]

    def fps(self, start: float, end: float) -> tuple[float, float]:
        """(video, audio) frames per second between two unix times, from the timeline."""
        inside = [r for r in self.frames if start <= r[0] <= end]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return 0.0, 0.0
        span = inside[-1][0] - inside[0][0]
        return (inside[-1][1] - inside[0][1]) / span, (inside[-1][2] - inside[0][2]) / span

    def first_video_at(self) -> float | None:
        return next((r[0] for r in self.frames if r[1] > 0), None)

    def resumed_after(self, when: float) -> float | None:
        """Seconds from ``when`` to the first sample after it showing new video frames."""
        before = [r for r in self.frames if r[0] <= when]
        last = before[-1][1] if before else 0
        for row in self.frames:
            if row[0] > when and row[1] > last:
                return row[0] - when
        return None


@dataclass
class Call:
    guest: Result  # what the guest (in "b") received from the host
    host: Result  # what the host (in "a") received from the guest
    started: float  # unix time the guest process started


def run_call(
    lab: Lab,
    guest_seconds: float,
    *,
    host_args: tuple[str, ...] = (),
    guest_args: tuple[str, ...] = (),
    during: Callable[[float], None] | None = None,
) -> Call:
    """Host in "a" on the outside rendezvous, guest in "b" joins by the link for
    ``guest_seconds``; ``during(started)`` runs meanwhile (outages ...). Both leave cleanly."""
    work = lab.workdir
    lab.spawn("a", [
        PY, "-m", "app", "host", "--headless", "--name", "lab call",
        "--rendezvous", f"peermeet://{SRV_IP}:{RENDEZVOUS_PORT}", *MEDIA, "--seconds", "900",
        "--stats-json", str(work / "host.json"), *host_args,
    ], "host")  # fmt: skip
    link = lab.wait_output("host", "peermeet://", 30)
    started = time.time()
    lab.spawn("b", [
        PY, "-m", "app", "join", link, "--headless", *MEDIA, "--seconds", str(guest_seconds),
        "--stats-json", str(work / "guest.json"), *guest_args,
    ], "guest")  # fmt: skip
    if during is not None:
        during(started)
    guest = lab.proc("guest")
    guest.wait(timeout=guest_seconds + 60)
    lab.stop("host")
    for name in ("guest", "host"):
        assert lab.proc(name).returncode == 0, f"{name} failed:\n{lab.output(name, 'err')}"
    return Call(Result.load(work / "guest.json"), Result.load(work / "host.json"), started)
