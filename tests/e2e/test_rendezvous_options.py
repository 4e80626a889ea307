"""``peermeet-rendezvous`` options as an operator meets them, one process each: a wrong option
stops the start with exit status 2 and what to give instead (as ``peermeet host`` does), a
server that cannot serve with 1, and --help shows examples and the exit statuses."""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.certs import make
from tests.e2e.helpers import finish, first_line, rendezvous

SECRET_ENV = "PEERMEET_TURN_SECRET"
CLEAN = {k: v for k, v in os.environ.items() if k != SECRET_ENV}


def refused(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a server that should not start; one that does start
    (an option let through) is stopped after 15 s and fails the test."""
    server = rendezvous("--host", "127.0.0.1", "--port", "0", *args, env=env or CLEAN)
    try:
        out, err = server.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
        pytest.fail(f"it started with {args}:\n{out}{err}")
    assert "Traceback" not in err and "listening" not in out, (out, err)
    return server.returncode, out, err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (("--turn-url", "turn:t.example:3478"), "--turn-url needs the TURN secret"),
        (("--turn-secret", "s"), "--turn-secret needs at least one --turn-url"),
        (("--turn-secret", "s", "--turn-url", "http://t"), "is not a STUN/TURN address"),
        (("--turn-secret", "s", "--turn-url", "stun:t.example"), "is a STUN address: give a TURN"),
        (("--turn-secret", "s", "--turn-url", "turn:t", "--turn-ttl", "5"), "give 60 (a minute)"),
        (("--turn-ttl", "999999999"), "to 604800 (7 days)"),
        (("--turn-ttl", "1h"), "'1h' is not a whole number of seconds"),
        (("--state", "/proc/rooms.json"), "cannot write in the folder /proc"),
        (("--state", "/nonexistent-folder/rooms.json"), "folder /nonexistent-folder does not"),
        (("--state", "/tmp"), "/tmp is a folder: give a file in it"),
        (("--trusted-proxy", "proxy.local"), "'proxy.local' is not an IP address"),
        (("--port", "99999"), "99999 is not a port"),
    ],
)
def test_a_wrong_option_exits_2_and_says_what_to_give(argv: tuple[str, ...], said: str) -> None:
    code, _, err = refused(*argv)
    assert code == 2 and said in err, err


def test_a_turn_secret_from_the_environment_without_a_url_says_where_it_came_from() -> None:
    code, _, err = refused(env=CLEAN | {SECRET_ENV: "s3cret"})
    assert code == 2 and f"{SECRET_ENV} is set" in err and f"unset {SECRET_ENV}" in err, err
    assert "s3cret" not in err, err


def test_wrong_tls_files_exit_2_and_say_which(tmp_path: Path) -> None:
    cert, key, _ = make(tmp_path)
    (tmp_path / "other").mkdir()
    other_key = make(tmp_path / "other")[1]  # (a certificate of its own)
    for argv, said in (
        (("--tls-cert", str(cert)), "--tls-cert needs --tls-key too"),
        (("--tls-key", str(key)), "--tls-key needs --tls-cert too"),
        (("--tls-cert", str(tmp_path / "gone.pem"), "--tls-key", str(key)), "does not exist"),
        (("--tls-cert", str(tmp_path), "--tls-key", str(key)), "is a folder"),
        (("--tls-cert", str(key), "--tls-key", str(cert)), "are swapped"),
        (("--tls-cert", str(cert), "--tls-key", str(cert)), "is not a private key in PEM"),
        (("--tls-cert", str(cert), "--tls-key", str(other_key)), "does not belong to"),
    ):
        code, _, err = refused(*argv)
        assert code == 2 and said in err, (argv, err)


def test_a_server_that_cannot_listen_exits_1_and_says_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        server = rendezvous("--host", "127.0.0.1", "--port", port, env=CLEAN)
        code, err = finish(server, timeout=15)
    assert code == 1 and "Address already in use" in err and "another --port" in err, err
    # (a documentation address: no computer has it, and nothing is sent)
    code, err = finish(rendezvous("--host", "192.0.2.7", "--port", "0", env=CLEAN), timeout=15)
    assert code == 1 and "has no address 192.0.2.7: give one of its own with --host" in err, err


def test_a_taken_port_on_colon_colon_is_said_with_the_address_in_brackets() -> None:
    # it said "cannot listen on :::8765", where the port is hard to tell from the address
    with socket.socket(socket.AF_INET6) as taken:
        taken.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        taken.bind(("::", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, err = finish(rendezvous("--host", "::", "--port", port, env=CLEAN), timeout=15)
    assert code == 1 and f"cannot listen on [::]:{port}: " in err, err


def test_help_gives_examples_and_the_exit_statuses() -> None:
    server = rendezvous("--help", env=CLEAN)
    out, _ = server.communicate(timeout=15)
    assert server.returncode == 0
    text = " ".join(out.split())
    assert "examples: peermeet-rendezvous --host 0.0.0.0 --port 8765 --state rooms.json" in text
    assert f"{SECRET_ENV}=… peermeet-rendezvous --turn-url turn:" in text, text
    assert "exit status: 0 stopped by Ctrl+C or SIGTERM; 2 a wrong option" in text, text
    assert "1 it cannot serve: the port is taken" in text, text


def test_listening_on_colon_colon_takes_ipv4_clients_too() -> None:
    # --help says ":: every IPv4 and IPv6 one"; one "::" socket is IPv6 only (asyncio sets
    # IPV6_V6ONLY), so IPv4 clients were refused while the address to give was an IPv4 one
    server = rendezvous("--host", "::", "--port", "0", env=CLEAN)
    try:
        listening = first_line(server)
        port = listening.rpartition(":")[2]
        # (it said "listening on :::8765": which colon is the port's?)
        assert listening == f"peermeet-rendezvous listening on [::]:{port}", listening
        addresses = ["127.0.0.1"]
        with socket.socket(socket.AF_INET6) as probe:
            try:
                probe.bind(("::1", 0))
                addresses.append("[::1]")
            except OSError:  # (no IPv6 loopback here)
                pass
        for address in addresses:
            with urllib.request.urlopen(f"http://{address}:{port}/", timeout=5) as answer:
                assert answer.read() == b"PeerMeet rendezvous\n", address
    finally:
        server.terminate()
        code, err = finish(server, timeout=20)
    assert code == 0 and "peermeet-rendezvous stopped" in err, err
