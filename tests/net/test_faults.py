"""Calls on a bad network: a slow lossy link, and a full outage in the middle of a call."""

from __future__ import annotations

import contextlib
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
#: what the issue asks for under 500 kbit/s + 5 % loss + 100 ms delay
TARGET_FPS = 10.0
#: below this the video is not "flowing" at all: a hard failure
FLOOR_FPS = 5.0


def test_rate_cap_loss_and_delay_keep_media_flowing(tmp_path: Path, figure: Figure) -> None:
    """Both homes' uplinks: 500 kbit/s (tbf), 5 % random loss and 100 ms delay (NFQUEUE)."""
    with calls.lab_with_services(tmp_path, turn=False) as lab:  # the direct path, impaired
        for side in "ab":
            lab.impair(side, rate_kbit=500, loss_pct=5.0, delay_ms=100)
        call = calls.run_call(lab, 18, host_args=STUN, guest_args=STUN)
    rates = {}
    for side, seen in (("guest", call.guest), ("host", call.host)):
        first = seen.first_video_at()
        assert first is not None, f"{side} received no video: {seen.row}"
        rates[side] = seen.fps(first + 3.0, first + 60.0)  # after the first keyframe settles
    figure(
        path=call.guest.row["path"],
        connect_ms=call.guest.row["connect_ms"],
        fps={side: round(video, 1) for side, (video, _) in rates.items()},
        audio_fps={side: round(audio, 1) for side, (_, audio) in rates.items()},
    )
    for side, (video, audio) in rates.items():
        assert audio >= 40, f"{side}: audio {audio:.1f} frames/s (50 expected)"
        assert video >= FLOOR_FPS, f"{side}: video {video:.1f} fps"
    worst = min(video for video, _ in rates.values())
    assert worst >= TARGET_FPS, f"video {worst:.1f} fps is below the {TARGET_FPS:g} fps target"


def test_media_resumes_after_a_five_second_outage(tmp_path: Path, figure: Figure) -> None:
    """The host's router drops everything for 5 s, once media has flowed both ways for 2 s.
    Media must flow again within 10 s of the network coming back (the session rebuilds dead
    connections)."""
    marks: dict[str, float] = {}

    def outage(started: float) -> None:
        for side in ("guest", "host"):
            lab.wait_output(side, "media flowing", 40, stream="err")
        time.sleep(2.0)  # seconds of video before the outage
        lab.outage("a", down=True)
        marks["down"] = time.time()
        time.sleep(5.0)
        lab.outage("a", down=False)
        marks["up"] = up = time.time()
        # the guest leaves 3 s after both sides say the connection is back (video resumes with
        # it), and 11 s after the network came back at the latest: past the 10 s allowed
        with contextlib.suppress(RuntimeError):
            for side in ("guest", "host"):
                lab.wait_output(side, " reconnected", up + 11.0 - time.time(), stream="err")
        time.sleep(max(0.0, min(3.0, up + 11.0 - time.time())))
        lab.stop("guest")

    with calls.lab_with_services(tmp_path) as lab:
        call = calls.run_call(lab, 60, host_args=STUN, guest_args=STUN, during=outage)
    resumed = {side: seen.resumed_after(marks["up"]) for side, seen in vars(call).items()
               if isinstance(seen, calls.Result)}  # fmt: skip
    states = [e[3] for e in call.guest.events if e[1] == "ConnectionChanged"]
    figure(
        recovery_s={s: None if r is None else round(r, 1) for s, r in resumed.items()},
        guest_states=states,
    )
    for side, seen in (("guest", call.guest), ("host", call.host)):
        before = [r for r in seen.frames if r[0] <= marks["down"]]
        assert before and before[-1][1] > 0, f"{side}: no video before the outage"
        after = resumed[side]
        assert after is not None, f"{side}: video never resumed; states {states}"
        assert after <= 10.0, f"{side}: video resumed {after:.1f} s after the network came back"
