"""Which path a call takes through NATs: direct via STUN, TURN/UDP, TURN/TCP, a small path MTU.

Each test is one headless call (host in "a", guest in "b", the CLI as processes) through the
lab's routers; the rendezvous in "srv" hands out short-lived TURN credentials for its coturn.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import pytest

from app.net.iceservers import rest_credentials
from app.ui.peer_panel import PATHS
from tests.net import calls
from tests.net.conftest import Figure
from tests.net.lab import Lab, skip_reason

pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]
STUN = ("--stun", calls.STUN)


def _check_media(call: calls.Call, min_fps: float = 12.0) -> float:
    """Both sides received steady video and audio; returns the guest's video fps."""
    fps = 0.0
    for side, seen in (("guest", call.guest), ("host", call.host)):
        first = seen.first_video_at()
        assert first is not None, f"{side} received no video: {seen.row}"
        video, audio = seen.fps(first + 1.0, first + 60.0)
        assert video >= min_fps and audio >= 40, (side, video, audio, seen.row)
        fps = video if side == "guest" else fps
    return fps


def test_cone_to_cone_with_stun_goes_direct(tmp_path: Path, figure: Figure) -> None:
    with calls.lab_with_services(tmp_path, "cone", "cone", turn=False) as lab:
        call = calls.run_call(lab, 7, host_args=STUN, guest_args=STUN)
    assert call.guest.row["path"] == call.host.row["path"] == "srflx", call.guest.row
    fps = _check_media(call)
    figure(path="direct (srflx)", connect_ms=call.guest.row["connect_ms"], fps=round(fps, 1))


def test_symmetric_to_symmetric_relays_over_turn_udp(tmp_path: Path, figure: Figure) -> None:
    """No --turn flag: the TURN server and its credentials come from the rendezvous."""
    with calls.lab_with_services(tmp_path, "symmetric", "symmetric") as lab:
        call = calls.run_call(lab, 7, host_args=STUN, guest_args=STUN)
        coturn_log = (tmp_path / "coturn.log").read_text(errors="replace")
    assert call.guest.row["path"] == call.host.row["path"] == "relay", call.guest.row
    assert "ALLOCATE processed, success" in coturn_log
    fps = _check_media(call)
    figure(path="relay (TURN/UDP)", connect_ms=call.guest.row["connect_ms"], fps=round(fps, 1))


def test_udp_blocked_relays_over_turn_tcp(tmp_path: Path, figure: Figure) -> None:
    """The host's network lets no UDP out: it reaches coturn over TCP, with credentials given
    on the command line (made the way a rendezvous makes them)."""
    user, password = rest_credentials(calls.SECRET, "lab-host", int(time.time()) + 3600)
    tcp = ("--turn", calls.TURN_TCP, "--turn-user", user, "--turn-pass", password)
    with calls.lab_with_services(tmp_path, "blockudp", "cone") as lab:
        # 12 s: the host first waits 5 s for STUN answers that cannot come (aioice's limit)
        call = calls.run_call(lab, 12, host_args=(*STUN, *tcp), guest_args=STUN)
    assert call.guest.row["path"] == call.host.row["path"] == "relay", call.guest.row
    fps = _check_media(call)
    figure(path="relay (TURN/TCP)", connect_ms=call.guest.row["connect_ms"], fps=round(fps, 1))


def test_path_mtu_1280(tmp_path: Path, figure: Figure) -> None:
    with calls.lab_with_services(tmp_path, "cone", "cone", turn=False) as lab:
        lab.wan_mtu(1280)
        call = calls.run_call(lab, 7, host_args=STUN, guest_args=STUN)
    assert call.guest.row["path"] == "srflx", call.guest.row
    fps = _check_media(call)
    figure(path=call.guest.row["path"], connect_ms=call.guest.row["connect_ms"], fps=round(fps, 1))


def _public_call(lab: Lab, tmp_path: Path, host_ip: str) -> dict[str, Any]:
    """A headless call, host in "a" bound to ``host_ip``, guest in "b": the guest's row."""
    lab.spawn("a", [
        calls.PY, "-m", "app", "host", "--headless", "--name", "public", "--bind", host_ip,
        "--synthetic", "--res", "160x120", "--fps", "10", "--seconds", "40",
    ], "host")  # fmt: skip
    link = lab.wait_output("host", "#k=", 30).strip().splitlines()[0]
    stats = tmp_path / "guest.json"
    lab.spawn("b", [
        calls.PY, "-m", "app", "join", link, "--headless", "--synthetic", "--res", "160x120",
        "--fps", "10", "--seconds", "4", "--stats-json", str(stats),
    ], "guest")  # fmt: skip
    assert lab.proc("guest").wait(timeout=60) == 0, lab.output("guest", "err")
    (row,) = json.loads(stats.read_text())["peers"].values()
    assert row["video_frames"] > 10, row
    return cast(dict[str, Any], row)


def test_two_public_addresses_on_different_networks_say_internet_not_lan(
    tmp_path: Path,
) -> None:
    """Peers with public addresses and no NAT between them (IPv6, a server, a university
    network), on different networks joined by a router, connect host to host, and that is the
    internet, not "Local network"."""
    with Lab(tmp_path) as lab:
        for side, net, far in (
            ("a", "93.184.216", "198.51.100"),
            ("b", "198.51.100", "93.184.216"),
        ):
            lab._veth(side, "pub0", "ra", f"pub{side}")  # (the router: no NAT on these)
            lab._addr("ra", f"pub{side}", f"{net}.1/24")
            lab._addr(side, "pub0", f"{net}.{10 if side == 'a' else 20}/24")
            lab.x(side, "ip", "route", "add", f"{far}.0/24", "via", f"{net}.1")
        row = _public_call(lab, tmp_path, "93.184.216.10")
    assert row["path"] == "direct", row
    assert PATHS[row["path"]] == "Internet (direct)"


def test_public_addresses_on_one_network_are_the_local_network(tmp_path: Path) -> None:
    """Two computers on the same network with public addresses (IPv6 at home gives every one
    a public address) talk over that network: "Local network", not "Internet"."""
    with Lab(tmp_path) as lab:
        lab._veth("a", "pub0", "b", "pub0")  # (a cable between the two, nothing else)
        lab._addr("a", "pub0", "93.184.216.10/24")
        lab._addr("b", "pub0", "93.184.216.20/24")
        row = _public_call(lab, tmp_path, "93.184.216.10")
    assert row["path"] == "host", row
    assert PATHS[row["path"]] == "Local network (direct)"
