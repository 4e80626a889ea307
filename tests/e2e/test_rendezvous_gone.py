"""A headless host and guest whose outside rendezvous server goes away mid-call, and comes
back: what a person reading the terminal is told (real processes over loopback)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.helpers import (
    MEDIA,
    Said,
    first_line,
    peermeet,
    rendezvous,
    stop_mid_call,
)

pytestmark = pytest.mark.timeout(120)


def test_losing_the_rendezvous_mid_call_is_said_once_and_plainly(tmp_path: Path) -> None:
    """Each side says once what happened (which server), what it means (the call goes on peer
    to peer; nobody new can join) and what comes next (retrying), nothing per retry; and once
    that it is back. The server keeps its rooms (--state), so both get back in, under new ids;
    neither says the other left or reconnects: their connection carried on."""
    state = str(tmp_path / "rooms.json")
    server = rendezvous("--host", "127.0.0.1", "--port", "0", "--state", state)
    port = first_line(server).rsplit(":", 1)[1]
    address = f"127.0.0.1:{port}"
    outside = ("--rendezvous", f"peermeet://{address}")
    host = peermeet("host", "--headless", "--name", "lost-rv", *outside, *MEDIA, "--seconds", "90")
    link = first_line(host)
    guest = peermeet("join", link, "--headless", *MEDIA, "--seconds", "90")
    host_said = Said(host)
    stop_mid_call(guest, server)
    guest_said = Said(guest)
    time.sleep(6.0)  # several tries to get back in (0.5 s, 1 s, 2 s, 4 s apart)
    server = rendezvous("--host", "127.0.0.1", "--port", port, "--state", state)
    try:
        first_line(server)
        # both back in, then 3 s more of the call (nobody should leave, reconnect or be found
        # again), then the guest leaves and the host, once it has seen the guest go
        for said in (guest_said, host_said):
            said.wait_for("back in touch", 30)
        time.sleep(3.0)
        guest.terminate()  # (SIGTERM: it leaves the call cleanly, as at the end of --seconds)
        code, guest_err = guest.wait(30), guest_said.text()
        host_said.wait_for("guest left", 15)
        host.terminate()
        host_code, host_err = host.wait(30), host_said.text()
    finally:
        for proc in (guest, host):
            if proc.poll() is None:
                proc.kill()
        server.terminate()
        server.communicate(timeout=10)
    assert (code, host_code) == (0, 0), guest_err + host_err
    for err in (guest_err, host_err):
        notes = [line for line in err.splitlines() if line.startswith("note: ")]
        lost = [line for line in notes if "lost the connection" in line]
        assert lost == [
            f"note: lost the connection to the meeting's server at {address}. The call goes on "
            "peer to peer: audio and video with the person connected to you keep flowing (they "
            "never went through the server), but nobody new can join, and a connection that "
            "breaks cannot be made again until the server is back. Trying to reconnect (every "
            "5 s)."
        ], err
        back = [line for line in notes if "back in touch" in line]
        assert len(back) == 1 and f"server at {address} (after " in back[0], err
        assert "people can join again" in back[0], err
    # neither left nor came again while the server was away: their link carried on, under
    # new rendezvous ids (the guest's call ends first: the host says so, at the end)
    for err, left in ((guest_err, []), (host_err, ["guest left"])):
        lines = err.splitlines()
        assert [line for line in lines if line.endswith(" left") or " left (" in line] == left
        assert not [line for line in lines if "reconnecting" in line], err
        since = next(i for i, line in enumerate(lines) if "lost the connection" in line)
        assert not [line for line in lines[since:] if "peer found" in line], err
        assert err.rstrip().endswith("call ended (left): You left the call."), err
