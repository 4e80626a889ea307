"""LAN discovery and knock-to-join between separate `peermeet` processes, on loopback only.

Hosts bind 127.0.0.1 and are told to ``--announce`` (they would not on loopback by default);
guests pass ``--interface 127.0.0.1``, so mDNS never leaves this machine.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.net.knock import HostIdentity
from app.net.pins import PinStore
from tests.e2e.helpers import MEDIA, PY, finish, first_line, peermeet, stats

pytestmark = pytest.mark.timeout(120)
LO = ["--interface", "127.0.0.1"]


def lan_host(tmp: Path, room: str, key: str, *extra: str) -> subprocess.Popen[str]:
    return peermeet(
        "host", "--headless", "--name", room, "--bind", "127.0.0.1", "--announce",
        "--auto-admit", "--identity", str(tmp / key), *MEDIA, "--seconds", "60", *extra,
    )  # fmt: skip


def lan_list(pins: Path, room: str) -> list[dict[str, Any]]:
    """The rooms named ``room`` (listening until one shows up, then a second more for others
    of that name; 10 s at most)."""
    code, out, err = run(
        "lan", "list", "--room", room, "--seconds", "10", *LO, "--pins", str(pins)
    )  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(r["room"] == room for r in rows), rows
    return rows


def run(*args: str, timeout: float = 60) -> tuple[int, str, str]:
    proc = peermeet(*args)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def stop(proc: subprocess.Popen[str]) -> str:
    """SIGTERM (leaves the call cleanly, withdraws the room); its stderr."""
    proc.terminate()
    code, err = finish(proc, 20)
    assert code == 0, err
    return err


def room_name() -> str:
    return f"lan-{uuid.uuid4().hex[:8]}"  # other runs on this machine hear our announcements


def test_knock_admit_then_video_both_ways(tmp_path: Path) -> None:
    room = room_name()
    host = lan_host(tmp_path, room, "host.key", "--stats-json", str(tmp_path / "host.json"))
    try:
        link = first_line(host)
        assert "127.0.0.1:" in link and f"/{room}#k=" in link
        (row,) = lan_list(tmp_path / "pins.json", room)
        fp = HostIdentity.load_or_create(tmp_path / "host.key").fingerprint
        assert row["fingerprint"] == fp and row["host"] == "host" and row["pin"] == "new"
        assert row["people"] == 1 and row["capacity"] == 4 and "#k=" not in json.dumps(row)
        code, _, err = run(
            "lan", "knock", room, "--headless", *LO, "--pins", str(tmp_path / "pins.json"),
            "--display-name", "bob", *MEDIA, "--seconds", "6",  # (frames: ~80, asked > 30)
            "--stats-json", str(tmp_path / "bob.json"),
        )  # fmt: skip
        assert code == 0, err
        guest_code = re.search(r"knock code: (\d \d \d \d)", err)
        assert guest_code, err
        assert "admitted" in err and "media flowing" in err
        (row,) = lan_list(tmp_path / "pins.json", room)
        assert row["pin"] == "known"
    finally:
        host_err = stop(host)
    # the host says who knocked on which room, with which code, and that they were let in
    assert f"bob (127.0.0.1) wants to join “{room}” — code {guest_code.group(1)}" in host_err
    assert f"let bob (127.0.0.1) in to “{room}”" in host_err, host_err
    for me, other in (("host", "bob"), ("bob", "host")):
        (peer,) = stats(tmp_path / f"{me}.json")["peers"].values()
        assert peer["name"] == other
        assert peer["video_frames"] > 30, (me, peer)


def test_forged_announcement_is_flagged_never_followed(tmp_path: Path) -> None:
    room = room_name()
    real_fp = HostIdentity.load_or_create(tmp_path / "real.key").fingerprint
    pins = tmp_path / "pins.json"
    PinStore(pins).remember(room, real_fp)  # we met the real host before
    real = lan_host(tmp_path, room, "real.key")
    forger = lan_host(tmp_path, room, "mallory.key")  # same room name, another key
    try:
        first_line(real), first_line(forger)
        rows = lan_list(pins, room)
        assert sorted(r["pin"] for r in rows) == ["changed", "known"], rows
        # nobody pinned yet: two keys for one name is refused, not guessed
        code, _, err = run("lan", "knock", room, "--headless", *LO, "--pins", str(tmp_path / "x"))
        assert code == 5 and "2 hosts announce" in err and "--fingerprint" in err, err
        # pinned: the real host is chosen, the forgery is named
        code, _, err = run(
            "lan", "knock", room, "--headless", *LO, "--pins", str(pins), *MEDIA, "--seconds", "1"
        )
        assert code == 0, err
        assert "possibly forged" in err and "admitted" in err
        stop(real)
        time.sleep(0.5)  # its goodbye packets
        (row,) = lan_list(pins, room)
        assert row["pin"] == "changed" and "another host key" in str(row["warning"])
        # only the forgery is left: warning and refusal, no silent redirect
        code, _, err = run("lan", "knock", room, "--headless", *LO, "--pins", str(pins))
        assert code == 5, err
        assert "another host key" in err and "--accept-new-key" in err
    finally:
        if real.poll() is None:
            stop(real)
        forger_err = stop(forger)
    assert "wants to join" not in forger_err and "let " not in forger_err, forger_err


def test_unanswered_knock_times_out_and_a_terminal_host_can_deny(tmp_path: Path) -> None:
    room = room_name()
    # no --auto-admit and no terminal: the knock is shown, then times out
    host = peermeet(
        "host", "--headless", "--name", room, "--bind", "127.0.0.1", "--announce",
        "--identity", str(tmp_path / "host.key"), "--knock-timeout", "1.5", *MEDIA,
    )  # fmt: skip
    try:
        first_line(host)
        code, _, err = run("lan", "knock", room, "--headless", *LO, "--pins", str(tmp_path / "p"))
        assert code == 4 and "did not answer your knock in time" in err, err
    finally:
        host_err = stop(host)
    assert f"guest (127.0.0.1) wants to join “{room}” — code " in host_err, host_err
    assert "will time out" in host_err
    # and how it ended: the host running unattended learns of the knock it did not answer
    missed = f"nobody answered guest (127.0.0.1) on “{room}” within 1.5 s: they were told"
    assert missed in host_err, host_err

    # a host on a terminal answers y/n; "n" denies
    leader, follower = pty.openpty()
    host = subprocess.Popen(
        [PY, "-m", "app", "host", "--headless", "--name", room, "--bind", "127.0.0.1",
         "--announce", "--identity", str(tmp_path / "host.key"), *MEDIA],
        stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    os.close(follower)
    said: list[str] = []  # the host's stderr, as read
    try:
        first_line(host)
        assert host.stderr is not None
        # Ctrl-C while waiting withdraws the knock (and the host's prompt) at once
        quitter = peermeet("lan", "knock", room, "--headless", *LO, "--pins", str(tmp_path / "p"))
        for line in host.stderr:
            said.append(line)
            if "admit guest? [y/N]" in line:
                break
        quitter.send_signal(signal.SIGINT)
        code, err = finish(quitter, 5)
        assert code == 130 and "stopped knocking" in err, err
        guest = peermeet("lan", "knock", room, "--headless", *LO, "--pins", str(tmp_path / "p"))
        for line in host.stderr:
            said.append(line)
            if "admit guest? [y/N]" in line:
                break
        os.write(leader, b"n\n")
        _, err = guest.communicate(timeout=30)
        assert guest.returncode == 4 and "did not let you in" in err, err
    finally:
        os.close(leader)
        host.terminate()
        said.append(host.communicate(timeout=20)[1])
    host_err = "".join(said)
    assert f"guest (127.0.0.1) stopped knocking on “{room}”" in host_err, host_err
    assert f"turned guest (127.0.0.1) away from “{room}”\n" in host_err, host_err
