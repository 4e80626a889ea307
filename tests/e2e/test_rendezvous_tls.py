"""``peermeet-rendezvous --tls-cert/--tls-key``: https links and a call through wss, as separate
processes; a client that does not trust the certificate is refused, never stepped around."""

from __future__ import annotations

import os
from pathlib import Path

from tests.certs import make
from tests.e2e.helpers import MEDIA, finish, first_line, peermeet, rendezvous, stats


def test_a_call_through_a_rendezvous_that_serves_https(tmp_path: Path) -> None:
    cert, key, authority = make(tmp_path)
    server = rendezvous(
        "--host", "127.0.0.1", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)
    )  # fmt: skip
    trusting = os.environ | {"SSL_CERT_FILE": str(authority)}  # (as if a public authority)
    host = guest = None
    try:
        listening = first_line(server)
        assert listening.startswith("peermeet-rendezvous listening on 127.0.0.1:"), listening
        assert listening.endswith(" (https)"), listening
        port = listening.split(":")[1].split()[0]
        address = first_line(server).rpartition(": ")[2]  # what to give PeerMeet users
        assert address == f"https://localhost:{port}", address
        host = peermeet(
            "host", "--headless", "--name", "tls-call", "--rendezvous", address, *MEDIA,
            "--seconds", "25", env=trusting,
        )  # fmt: skip
        link = first_line(host)
        assert link.startswith(f"https://localhost:{port}/tls-call#k="), link
        out = tmp_path / "guest.json"
        guest = peermeet(
            "join", link, "--headless", *MEDIA, "--seconds", "3", "--stats-json", str(out),
            env=trusting,
        )  # fmt: skip
        code, err = finish(guest)
        assert code == 0, err
        (row,) = stats(out)["peers"].values()
        assert row["video_frames"] > 10, row
        # without the authority, as on any computer that was not told to trust it: refused
        code, err = finish(peermeet("join", link, "--headless", *MEDIA, "--seconds", "3"))
        assert code == 3, err
        assert "certificate" in err and "Traceback" not in err, err
    finally:
        for proc in (host, guest, server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.communicate(timeout=20)


def test_a_self_signed_certificate_is_warned_about_at_start(tmp_path: Path) -> None:
    cert, key, _ = make(tmp_path, self_signed=True)
    server = rendezvous(
        "--host", "127.0.0.1", "--port", "0", "--tls-cert", str(cert), "--tls-key", str(key)
    )  # fmt: skip
    try:
        assert first_line(server).endswith("(https)")
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert "warning" in err and "self-signed" in err and "Let's Encrypt" in err, err
