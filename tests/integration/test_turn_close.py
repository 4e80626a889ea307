"""Closing a connection whose TURN server stopped answering (app.net.turnclose): a real coturn
on 127.0.0.1, frozen (SIGSTOP) once the allocation is made, and a real aiortc connection."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection

from app.net import turnclose

pytestmark = pytest.mark.skipif(shutil.which("turnserver") is None, reason="needs coturn")


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = _free_udp_port()
    proc = subprocess.Popen(
        ["turnserver", "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
         "--listening-port", str(port), "--lt-cred-mech", "--user", "ada:pw", "--realm", "test",
         "--no-tls", "--no-dtls", "--no-cli", "--fingerprint", "--simple-log",
         "--log-file", str(tmp_path / "coturn.log"), "--pidfile", str(tmp_path / "coturn.pid"),
         "--userdb", str(tmp_path / "turndb")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield proc, f"turn:127.0.0.1:{port}?transport=udp"
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


async def test_a_connection_closes_soon_when_its_turn_server_no_longer_answers(
    coturn: tuple[subprocess.Popen[bytes], str],
) -> None:
    """Before, aioice waited for the deletion of the allocation with STUN's retransmissions,
    31.5 s, and a rebuild or a leave waited with it."""
    proc, url = coturn
    turnclose.patch()
    server = RTCIceServer(urls=url, username="ada", credential="pw")
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[server]))
    try:
        pc.createDataChannel("chat")
        for _ in range(50):  # (coturn may take a moment to listen)
            await pc.setLocalDescription(await pc.createOffer())
            if "typ relay" in pc.localDescription.sdp:
                break
            await pc.close()
            await asyncio.sleep(0.1)
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[server]))
            pc.createDataChannel("chat")
        assert "typ relay" in pc.localDescription.sdp, "no TURN allocation was made"
        os.kill(proc.pid, signal.SIGSTOP)  # the TURN server is there, and answers nothing
        started = time.monotonic()
        await pc.close()
        took = time.monotonic() - started
        assert took < turnclose.DELETE_S + 1.5, f"closing took {took:.1f} s"
    finally:
        await pc.close()
