"""The standalone rendezvous' process set-up: descriptor limit, and a log that does not flood
when accept() fails (out of descriptors)."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket

import pytest

from app.cli import rendezvous_main
from app.net import serverproc


def test_the_open_file_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        now = serverproc.raise_fd_limit()
        assert now == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        assert now == (65_536 if hard == resource.RLIM_INFINITY else hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_accept_failures_are_logged_once_per_quiet_period(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    loop = asyncio.new_event_loop()
    try:
        serverproc.quiet_accept_errors(loop, clock=lambda: now[0])
        failure = {
            "message": "socket.accept() out of system resource",
            "exception": OSError(errno.EMFILE, "Too many open files"),
        }
        with caplog.at_level(logging.ERROR):
            for _ in range(1000):  # asyncio says it on every loop turn
                loop.call_exception_handler(failure)
            now[0] += serverproc.QUIET_S
            loop.call_exception_handler(failure)
            loop.call_exception_handler({"message": "something else entirely"})
        said = [r.getMessage() for r in caplog.records]
        assert len([s for s in said if "cannot accept" in s]) == 2
        assert "999 more like it not logged" in said[1]
        assert any("something else entirely" in s for s in said)  # others as before
    finally:
        loop.close()


def test_a_port_that_is_taken_or_an_address_not_ours_is_said_with_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert rendezvous_main(["--host", "127.0.0.1", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"peermeet-rendezvous: cannot listen on 127.0.0.1:{port}: "), err
    assert "Address already in use. Another program" in err and "another --port" in err, err
    assert "Errno" not in err and "('127.0.0.1'" not in err, err
    # (a documentation address: no computer has it, and nothing is sent)
    assert rendezvous_main(["--host", "192.0.2.7", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "This computer has no address 192.0.2.7" in err and "0.0.0.0" in err, err
