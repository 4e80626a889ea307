"""Headless peers as separate processes over loopback, through a real rendezvous."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    MEDIA,
    PY,
    finish,
    first_line,
    leave,
    peermeet,
    rendezvous,
    stats,
    stop_mid_call,
)

SECRET = "AAECAwQFBgcICQoLDA0ODw"


def test_three_peers_exchange_video_audio_and_chat(tmp_path: Path) -> None:
    """A host and two guests; bob listens with his microphone muted."""
    host = peermeet(
        "host",
        "--headless",
        "--name",
        "E2E Call",
        "--bind",
        "127.0.0.1",
        *MEDIA,
        "--seconds",
        "90",  # (it leaves once both guests have)
        "--stats-json",
        str(tmp_path / "host.json"),
        "--chat",
        "hi from host",
    )
    link = first_line(host)
    assert link.startswith("peermeet://127.0.0.1:") and "/e2e-call#k=" in link
    guests = [
        peermeet(
            "join",
            link,
            "--headless",
            *MEDIA,
            "--display-name",
            name,
            "--seconds",
            "8",  # ≥ 5 s of media once connected, even under load
            "--stats-json",
            str(tmp_path / f"{name}.json"),
            "--chat",
            f"hi from {name}",
            *(["--muted"] if name == "bob" else []),
        )
        for name in ("alice", "bob")
    ]
    results = [finish(g) for g in guests] + [leave(host)]
    for code, err in results:
        assert code == 0, err
    names = {"host": "host", "alice": "alice", "bob": "bob"}
    for me in names:
        data = stats(tmp_path / f"{me}.json")
        others = {row["name"]: row for row in data["peers"].values()}
        assert set(others) == set(names) - {me}, data
        for row in others.values():
            assert row["video_frames"] > 30, (me, row)
            assert row["audio_frames"] > 100 or row["name"] == "bob", (me, row)
            assert row["path"] == "host"
            assert len(row["safety_code"]) == 9
        if me != "bob":  # bob joined --muted: after 200 ms of silence, a keep-alive every 0.4 s
            assert (
                0
                < others["bob"]["audio_frames"]
                < others["alice" if me == "host" else "host"]["audio_frames"] / 2
            ), (me, others)
        chats = {c["text"] for c in data["chat_received"]}
        assert chats == {f"hi from {o}" for o in names if o != me}, data
        assert data["outcome"] == "left" and "error" not in data
    # both ends of one connection show the same safety code
    host_view = {r["name"]: r for r in stats(tmp_path / "host.json")["peers"].values()}
    alice_view = {r["name"]: r for r in stats(tmp_path / "alice.json")["peers"].values()}
    assert host_view["alice"]["safety_code"] == alice_view["host"]["safety_code"]
    _, host_err = results[-1]
    assert "[4/5] secure handshake" in host_err


def test_media_survives_rendezvous_loss(tmp_path: Path) -> None:
    server = rendezvous("--host", "127.0.0.1", "--port", "0")
    port = first_line(server).rsplit(":", 1)[1]
    host = peermeet(
        "host",
        "--headless",
        "--name",
        "survivor",
        "--rendezvous",
        f"peermeet://127.0.0.1:{port}",
        *MEDIA,
        "--seconds",
        "90",  # (it leaves after the guest)
        "--stats-json",
        str(tmp_path / "host.json"),
    )
    link = first_line(host)
    assert f"127.0.0.1:{port}/survivor#k=" in link
    guest = peermeet(
        "join",
        link,
        "--headless",
        *MEDIA,
        "--seconds",
        "90",  # (it leaves 7 s after the loss)
        "--stats-json",
        str(tmp_path / "guest.json"),
    )
    stop_mid_call(guest, server)
    time.sleep(7.0)  # the call goes on without the rendezvous: ≥ 4 s of video are asked for
    code, err = leave(guest)
    assert code == 0, err
    leave(host)
    (row,) = stats(tmp_path / "guest.json")["peers"].values()
    lost_at = row["video_frames_at_rendezvous_lost"]
    assert row["video_frames"] - lost_at > 60, row  # ≥ 4 s more of 15 fps after the loss


def test_bad_link_exits_2_with_one_line_reason() -> None:
    code, err = finish(peermeet("join", "peermeet://127.0.0.1:9/room", "--headless"))
    assert code == 2
    assert err.strip().count("\n") == 0 and "secret" in err


def test_unreachable_host_exits_3_quickly(tmp_path: Path) -> None:
    start = time.monotonic()
    link = "peermeet://127.0.0.1:1/room#k=AAECAwQFBgcICQoLDA0ODw"
    out = tmp_path / "stats.json"
    code, err = finish(peermeet("join", link, "--headless", "--stats-json", str(out)))
    assert code == 3, err
    assert time.monotonic() - start <= 10
    assert (  # (a sentence: it read "… host at 127.0.0.1:1 (connection refused)")
        "Cannot reach the meeting host: nothing is answering at 127.0.0.1:1 (connection refused). "
        "Check the link" in err
    ), err
    assert "call ended" not in err  # no call was ever under way
    data = stats(out)  # the stats say why there was no call, as the exit status does
    assert (data["outcome"], data["exit_status"], data["peers"]) == ("failed", 3, {})
    assert "127.0.0.1:1" in data["error"]
    out.unlink()  # a host whose rendezvous is not there: it fails before its call exists
    rv = ["--rendezvous", "peermeet://127.0.0.1:1", "--stats-json", str(out)]
    code, err = finish(peermeet("host", "--headless", "--name", "x", *rv))
    assert code == 3 and stats(out)["outcome"] == "failed", err


def test_a_link_piped_in_is_joined_and_kept_out_of_the_process_list() -> None:
    """`peermeet join -` reads the link from standard input: on the command line, other users
    of the computer could read its secret with `ps`."""
    link = f"peermeet://127.0.0.1:1/room#k={SECRET}"
    joining = [PY, "-m", "app", "join", "-", "--headless"]
    done = subprocess.run(joining, input=link + "\n", capture_output=True, text=True, timeout=30)
    assert done.returncode == 3 and "127.0.0.1:1" in done.stderr, done.stderr  # (it tried)
    done = subprocess.run(joining, input="", capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "no link came on standard input" in done.stderr


def test_join_without_a_display_says_to_add_headless() -> None:
    """Not a demo meeting in its place: the link is checked, then the way to join is said."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    link = "peermeet://127.0.0.1:1/room#k=AAECAwQFBgcICQoLDA0ODw"
    code, err = finish(peermeet("join", link, env=env))
    assert code == 1 and "--headless" in err and "demo" not in err, err
    code, err = finish(peermeet("join", "peermeet://127.0.0.1:1/room", env=env))
    assert code == 2 and "secret" in err, err


@pytest.mark.parametrize(
    ("command", "sig"),
    [("join", signal.SIGINT), ("join", signal.SIGTERM), ("host", signal.SIGINT)],
)
def test_ctrl_c_while_connecting_stops_at_once(command: str, sig: signal.Signals) -> None:
    """A rendezvous that takes the connection but never answers: Ctrl-C (or SIGTERM) stops the
    join (or the host's create) now, with a word and no traceback, instead of at the connect
    timeout with its message."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connections; nobody ever answers them
        port = silent.getsockname()[1]
        if command == "join":
            proc = peermeet("join", f"peermeet://127.0.0.1:{port}/room#k={SECRET}", "--headless")
        else:
            rv = f"peermeet://127.0.0.1:{port}"
            proc = peermeet("host", "--headless", "--name", "x", "--rendezvous", rv)
        silent.settimeout(30)
        conn, _ = silent.accept()  # it connected: its Ctrl-C handling is in place
        with conn:
            time.sleep(0.5)  # (waiting for the answer to "join" / "create")
            stopped = time.monotonic()
            proc.send_signal(sig)
            code, err = finish(proc, timeout=10)
    assert time.monotonic() - stopped < 3, err
    assert code == 128 + sig, err  # 130 for Ctrl-C, 143 for SIGTERM
    assert "stopped before the call started" in err and "Traceback" not in err, err
    assert "Cannot reach" not in err, err


def test_a_port_that_is_taken_is_said_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, err = finish(
            peermeet("host", "--headless", "--name", "x", "--bind", "127.0.0.1", "--port", port)
        )
    assert code == 1, err
    assert "Traceback" not in err and f"cannot listen on 127.0.0.1:{port}" in err, err
    assert "Address already in use" in err, err


@pytest.mark.parametrize(
    "bad",
    [
        ["--fps", "0"],
        ["--fps", "-3"],
        ["--res", "100000x100000"],
        ["--res", "640x"],
        ["--res", "641x480"],
        ["--knock-timeout", "-5"],
        ["--knock-timeout", "nan"],
        ["--lifetime", "bogus"],
        ["--lifetime", "2d"],
        ["--lifetime", "10s"],
    ],
)
def test_bad_options_are_refused_before_anything_starts(bad: list[str]) -> None:
    code, err = finish(peermeet("host", "--headless", "--name", "x", *bad))
    assert code == 2 and bad[0] in err and "Traceback" not in err, err
