"""Two network namespaces joined by a veth pair, with addresses and NO default route: a LAN with
no internet at all. The host announces and auto-admits in one; a guest discovers, knocks and
exchanges video from the other. Needs root and iproute2 (`ip netns`); skipped otherwise."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.net.knock import HostIdentity

pytestmark = pytest.mark.timeout(150)
ROOT = Path(__file__).resolve().parents[2]
MEDIA = ["--synthetic", "--res", "320x240", "--fps", "15"]
HOST_IP, GUEST_IP = "10.77.0.1", "10.77.0.2"


def ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2 (`ip`)"
    try:
        ip("netns", "list")
    except (RuntimeError, OSError) as exc:
        return f"`ip netns` is unavailable: {exc}"
    return None


@pytest.fixture
def lan() -> Iterator[tuple[str, str]]:
    """Namespaces (host, guest) on one /24 with no default route; deleted afterwards."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tag = secrets.token_hex(3)
    host_ns, guest_ns = f"pmt-{tag}-h", f"pmt-{tag}-g"
    made: list[str] = []
    try:
        for ns in (host_ns, guest_ns):
            try:
                ip("netns", "add", ns)
            except RuntimeError as exc:
                pytest.skip(f"cannot create a network namespace: {exc}")
            made.append(ns)
        ip("link", "add", f"pmt{tag}h", "netns", host_ns,
           "type", "veth", "peer", "name", f"pmt{tag}g", "netns", guest_ns)  # fmt: skip
        for ns, dev, addr in ((host_ns, f"pmt{tag}h", HOST_IP), (guest_ns, f"pmt{tag}g", GUEST_IP)):
            ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")
            for family in ("-4", "-6"):
                assert "default" not in ip("-n", ns, family, "route"), f"{ns} has a default route"
        yield host_ns, guest_ns
    finally:
        for ns in made:
            for pid in ip("netns", "pids", ns).split():  # only what this test started in there
                os.kill(int(pid), signal.SIGKILL)
            ip("netns", "del", ns)


def in_ns(ns: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "app", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_discover_knock_and_call_without_any_route_out(
    lan: tuple[str, str], tmp_path: Path
) -> None:
    host_ns, guest_ns = lan
    host = in_ns(
        host_ns, "host", "--headless", "--name", "ns room", "--bind", "0.0.0.0", "--auto-admit",
        "--identity", str(tmp_path / "host.key"), *MEDIA, "--seconds", "90",
        "--stats-json", str(tmp_path / "host.json"),
    )  # fmt: skip
    try:
        assert host.stdout is not None
        link = host.stdout.readline().strip()
        assert link.startswith(f"peermeet://{HOST_IP}:") and "/ns-room#k=" in link, link
        pins = str(tmp_path / "pins.json")
        lister = in_ns(guest_ns, "lan", "list", "--seconds", "3", "--pins", pins)
        out, err = lister.communicate(timeout=30)
        rooms = [json.loads(line) for line in out.splitlines()]
        assert [r["room"] for r in rooms] == ["ns-room"], (out, err)
        assert rooms[0]["addresses"] == [HOST_IP]
        assert (
            rooms[0]["fingerprint"]
            == HostIdentity.load_or_create(tmp_path / "host.key").fingerprint
        )
        guest = in_ns(
            guest_ns, "lan", "knock", "ns-room", "--headless", "--pins", pins,
            "--display-name", "bob", *MEDIA, "--seconds", "6",  # (frames: ~80, asked > 30)
            "--stats-json", str(tmp_path / "bob.json"),
        )  # fmt: skip
        _, guest_err = guest.communicate(timeout=60)
        assert guest.returncode == 0, guest_err
        assert "knock code:" in guest_err and "admitted" in guest_err, guest_err
    finally:
        host.send_signal(signal.SIGTERM)
        _, host_err = host.communicate(timeout=20)
    assert "let bob (10.77.0.2) in to" in host_err, host_err
    for me, other in (("host", "bob"), ("bob", "host")):
        (peer,) = json.loads((tmp_path / f"{me}.json").read_text())["peers"].values()
        assert peer["name"] == other and peer["path"] == "host"
        assert peer["video_frames"] > 30, (me, peer)
