"""A network change in the middle of a call: the guest's router gets a new public address, so
every connection through it (the websocket to the rendezvous, the peer-to-peer path) dies at
once, and the guest gets back into the room under a new rendezvous id. The host knows it again
(app.meeting.resume): the same person, "reconnected", nobody left."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.net import calls
from tests.net.conftest import Figure
from tests.net.lab import skip_reason

pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]
STUN = ("--stun", calls.STUN)


@pytest.mark.parametrize(
    "offline_s", [0.0, 14.0], ids=["new-address", "offline-14s-then-a-new-address"]
)
def test_a_guest_whose_address_changes_is_the_same_person_to_the_host(
    tmp_path: Path, figure: Figure, offline_s: float
) -> None:
    """The new address at once (a cable plugged in), or after 14 s with no network at all (Wi-Fi
    gone, then back on another network): longer than a lone quiet link is kept, and long
    enough for the guest's heartbeat to find its rendezvous connection silent."""
    marks: dict[str, float] = {}

    def change(started: float) -> None:
        for side in ("guest", "host"):
            lab.wait_output(side, "media flowing", 40, stream="err")
        time.sleep(2.0)
        marks["changed"] = time.time()
        if offline_s:
            lab.outage("b", down=True)
            time.sleep(offline_s)
        lab.renumber("b", "10.77.0.13")
        if offline_s:
            lab.outage("b", down=False)
        lab.wait_output("guest", "back in touch", 40 + offline_s, stream="err")
        marks["back"] = time.time()
        time.sleep(6.0)  # (its connection to the host made afresh, if it was not working)
        marks["leaves"] = time.time()
        lab.stop("guest")

    with calls.lab_with_services(tmp_path) as lab:
        call = calls.run_call(
            lab, 90, host_args=STUN, guest_args=(*STUN, "--display-name", "Guest"), during=change
        )
        host_said = lab.output("host", "err")
    after = {side: seen.fps(marks["back"] + 3.0, marks["leaves"])[0]
             for side, seen in (("guest", call.guest), ("host", call.host))}  # fmt: skip
    figure(
        back_in_s=round(marks["back"] - marks["changed"], 1),
        video_fps_after={side: round(fps, 1) for side, fps in after.items()},
    )
    for side, seen in (("guest", call.guest), ("host", call.host)):
        left = [e for e in seen.events if e[1] == "PeerLeft" and e[0] < marks["leaves"]]
        assert not left, f"{side} saw someone leave: {left}"
        assert after[side] >= 5.0, f"{side}: video {after[side]:.1f} fps once reconnected"
    assert "peer found (2" not in host_said, host_said[-3000:]  # (not someone new)
