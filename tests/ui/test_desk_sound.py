"""The knock sound while in no call, on real (PulseAudio) devices: no call has a speaker open
then, so it had no sound at all; now it plays on the speaker chosen in Settings, for the length
of the sound only, without opening the microphone. The Qt side runs in a child process
(audio_pulse_child.py "knock"), as in test_audio_pulse.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from app.media import cues
from app.media.audio import tone_power
from tests.pulse import PulseServer, pulse_server  # noqa: F401  (the "pulse" fixture)
from tests.ui.test_audio_pulse import children, seconds  # noqa: F401  (the "child_factory" fixture)

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]
KNOCK_HZ = sorted({hz for hz, _ in cues.NOTES["knock"] if hz})


def loudest(pcm: bytes, hz: float) -> float:
    """The tone's power in the loudest 100 ms of ``pcm``."""
    return max(tone_power(seconds(pcm, t / 10, (t + 1) / 10), hz) for t in range(12))


def test_a_knock_while_in_no_call_is_heard_on_the_chosen_speaker(
    pulse: PulseServer,
    child_factory: Any,
) -> None:
    pulse.add_sink("desk", "Desk speaker")
    pulse.add_sink("headset", "Headset")
    pulse.set_default_sink("desk")
    pulse.add_source("mic", master="desk.monitor")
    pulse.set_default_source("mic")
    mic = next(r.split()[0] for r in pulse.pactl("list", "short", "sources").splitlines()
               if r.split()[1] == "mic")  # fmt: skip
    child = child_factory("knock", "", "headset")
    child.expect("READY", timeout=20)
    recorded: dict[str, bytes] = {}
    mic_users: list[int] = []

    def on_mic() -> int:  # (streams recording from the microphone)
        outputs = pulse.pactl("list", "short", "source-outputs").splitlines()
        return sum(row.split()[1] == mic for row in outputs)

    before = on_mic()  # (a test keeper may have been moved to it: not ours)

    def record(name: str) -> None:
        recorded[name] = pulse.record(f"{name}.monitor", 1.2)

    recorders = [threading.Thread(target=record, args=(n,)) for n in ("headset", "desk")]
    for recorder in recorders:
        recorder.start()
    time.sleep(0.2)
    child.send("knock")
    child.expect("OK knock")
    for _ in range(5):  # while it plays: nobody records from the microphone
        mic_users.append(on_mic())
        time.sleep(0.1)
    for recorder in recorders:
        recorder.join(timeout=10)
    heard = [loudest(recorded["headset"], hz) for hz in KNOCK_HZ]
    assert min(heard) > 0.002, heard  # both notes (amplitude 0.12: about 0.007)
    assert max(loudest(recorded["desk"], hz) for hz in KNOCK_HZ) < 1e-4
    assert mic_users == [before] * 5, "the microphone was opened to play a sound"

    child.send("off")  # Settings: no sounds
    child.expect("OK off")
    recorder = threading.Thread(target=record, args=("headset",))
    recorder.start()
    time.sleep(0.2)
    child.send("knock")
    child.expect("OK knock")
    recorder.join(timeout=10)
    assert max(loudest(recorded["headset"], hz) for hz in KNOCK_HZ) < 1e-4
    stats = child.quit()
    assert stats == {"played": 1, "open": 0}, stats  # (its speaker let go once it was over)


def test_a_knock_after_the_chosen_speaker_was_unplugged_is_heard_on_the_default(
    pulse: PulseServer, child_factory: Any
) -> None:
    """The headset chosen in Settings is unplugged during a knock: the rest of it is heard on
    the desk speaker (PulseAudio moves it there). The next knock was not heard at all: Qt
    still lists the headset, and opening it failed; now it plays on the desk speaker. Plugged
    back in, the headset plays them again; every speaker is let go once its sound is over."""
    pulse.add_sink("desk", "Desk speaker")
    pulse.set_default_sink("desk")
    pulse.add_sink("headset", "Headset")
    child = child_factory("knock", "", "headset")
    child.expect("READY", timeout=20)

    def knock() -> None:
        child.send("knock")
        child.expect("OK knock")

    def knock_and_unplug() -> None:
        knock()
        time.sleep(0.05)  # (in its first note)
        pulse.remove("headset")

    low, high = KNOCK_HZ
    pcm = heard_on(pulse, "desk", knock_and_unplug)
    assert loudest(pcm, high) > 0.002, "the rest of the knock was not heard on the desk"
    time.sleep(1.5)  # (it is over)
    pcm = heard_on(pulse, "desk", knock)
    assert min(loudest(pcm, hz) for hz in (low, high)) > 0.002, "no knock on the desk"
    pulse.add_sink("headset", "Headset")
    time.sleep(0.5)
    pcm = heard_on(pulse, "headset", knock)
    assert min(loudest(pcm, hz) for hz in (low, high)) > 0.002, "no knock on the headset"
    stats = child.quit()
    assert stats == {"played": 3, "open": 0}, stats


def heard_on(pulse: PulseServer, sink: str, act: Callable[[], None]) -> bytes:
    """What ``sink`` played for 1.2 s, ``act()`` done 0.2 s in."""
    recorded: dict[str, bytes] = {}
    recorder = threading.Thread(
        target=lambda: recorded.update(pcm=pulse.record(f"{sink}.monitor", 1.2))
    )
    recorder.start()
    time.sleep(0.2)
    act()
    recorder.join(timeout=10)
    return recorded["pcm"]
