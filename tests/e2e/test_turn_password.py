"""``--turn-pass`` shows in the process list; ``PEERMEET_TURN_PASS`` does not, and is used the
same way: a real call through a real coturn that knows only that password."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import MEDIA, finish, first_line, peermeet, stats

PASSWORD = "env-only-" + secrets.token_hex(4)


def _answers(port: int) -> bool:
    """Whether a STUN binding request to 127.0.0.1:``port`` gets an answer."""
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        sock.sendto(request, ("127.0.0.1", port))
        try:
            return sock.recv(2048)[8:20] == request[8:20]
        except OSError:
            return False


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[str]:
    """A coturn on 127.0.0.1 with one user, ``u``, whose password is PASSWORD; its URL."""
    if shutil.which("turnserver") is None:
        pytest.skip("needs coturn (turnserver): tools/bootstrap.sh installs it")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            "turnserver", "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
            "--listening-port", str(port), "--min-port", "49160", "--max-port", "49999",
            "--lt-cred-mech", "--user", f"u:{PASSWORD}", "--realm", "peermeet.test",
            "--fingerprint", "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
            "--log-file", "stdout", "--pidfile", str(tmp_path / "turnserver.pid"),
            "--userdb", str(tmp_path / "turndb"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not _answers(port):
            assert server.poll() is None and time.monotonic() < deadline, "coturn did not start"
        yield f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_turn_password_from_the_environment_is_used(coturn: str, tmp_path: Path) -> None:
    # relay-only: the host's media can only go through coturn, which lets it allocate only
    # with the right password; before PEERMEET_TURN_PASS, no --turn-pass was "needs a user
    # name and a password" (exit 2)
    env = os.environ | {"PEERMEET_TURN_PASS": PASSWORD}
    host = peermeet(
        "host", "--headless", "--name", "relayed", "--bind", "127.0.0.1", *MEDIA,
        "--relay-only", "--turn", coturn, "--turn-user", "u", "--seconds", "20", env=env,
    )  # fmt: skip
    try:
        link = first_line(host)
        out = tmp_path / "guest.json"
        guest = peermeet(
            "join", link, "--headless", *MEDIA, "--seconds", "3", "--stats-json", str(out)
        )
        code, err = finish(guest)
        assert code == 0, err
        (row,) = stats(out)["peers"].values()
        assert row["path"] == "relay" and row["video_frames"] > 5, row
    finally:
        host.terminate()
        _, err = host.communicate(timeout=20)
    assert PASSWORD not in err and "gave no relay address" not in err, err
