"""Sound devices unplugged while they are in use, and plugged back in, on a real sound system
(a private PulseAudio server whose virtual devices are unplugged by unloading their module):
the Settings dialog's microphone level and speaker Test, and a call's speaker mid-sound. The Qt
side runs in a child process (unplug_child.py), as in test_audio_pulse. Every step also checks
that the child's GUI thread never stalled and that no thread was left behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from app.media import cues
from app.media.audio import CHIME_HZ, tone_power
from app.ui.settings_dialog import NO_MIC, NO_SPEAKER, NOT_CONNECTED
from tests.pulse import PulseServer, pulse_server  # noqa: F401  (the "pulse" fixture)
from tests.ui.test_audio_pulse import Child, seconds

pytestmark = [pytest.mark.audio, pytest.mark.timeout(90)]
Status = dict[str, Any]
KNOCK_HZ = cues.NOTES["knock"][0][0]
#: the child's GUI thread never went this long without running (it runs every 20 ms, but may
#: wait up to 3 x WAIT_S for the sound server while a device is switched, more on a busy CI)
STALL_MS = 1500


class UnplugChild(Child):
    script = Path(__file__).with_name("unplug_child.py")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.threads = 0  # how many threads it had once ready

    def status(self) -> Status:
        status = super().status()
        assert status["gap_ms"] < STALL_MS, f"the GUI thread stalled: {status}"
        assert status["threads"] <= self.threads + 1, f"threads left behind: {status}"
        return status

    def until(self, done: Callable[[Status], bool], limit: float = 5.0) -> Status:
        """The status once ``done`` says so (within ``limit`` seconds)."""
        deadline = time.monotonic() + limit
        while not done(status := self.status()):
            assert self.proc.poll() is None, f"the child died: {self.stderr()}"
            assert time.monotonic() < deadline, f"still {status}"
            time.sleep(0.1)
        return status

    def do(self, command: str) -> None:
        self.send(command)
        self.expect(f"OK {command}")


@pytest.fixture(name="start")
def starter(pulse: PulseServer, tmp_path: Path) -> Iterator[Callable[..., UnplugChild]]:
    made: list[UnplugChild] = []

    def start(*args: str) -> UnplugChild:
        child = UnplugChild(pulse, tmp_path / f"child{len(made)}.log", *args)
        made.append(child)
        child.expect("READY", timeout=20)
        child.threads = 99  # (not known yet)
        child.threads = child.status()["threads"]
        return child

    yield start
    for child in made:
        child.close()


def heard(pulse: PulseServer, sink: str, span: float, act: Callable[[], None]) -> bytes:
    """What ``sink`` played for ``span`` seconds, ``act()`` done 0.2 s in."""
    recorded: dict[str, bytes] = {}
    recorder = threading.Thread(
        target=lambda: recorded.update(pcm=pulse.record(f"{sink}.monitor", span))
    )
    recorder.start()
    time.sleep(0.2)
    act()
    recorder.join(timeout=span + 10)
    return recorded["pcm"]


def blocks(pcm: bytes, hz: float, least: float) -> int:
    """How many 50 ms blocks of ``pcm`` carry ``hz`` with at least ``least`` power."""
    count = len(pcm) // 2 * 20 // 48_000
    return sum(tone_power(seconds(pcm, i / 20, (i + 1) / 20), hz) > least for i in range(count))


def desk_and_headset(pulse: PulseServer) -> None:
    """A desk speaker and built-in microphone (the defaults), and a headset with its own."""
    pulse.add_sink("desk", "Desk")
    pulse.add_source("builtin_mic", master="desk.monitor", description="Built-in")
    pulse.set_default_sink("desk")
    pulse.set_default_source("builtin_mic")
    plug_headset(pulse)


def plug_headset(pulse: PulseServer) -> None:
    pulse.add_sink("headset", "Headset")
    pulse.add_source("usb_mic", master="headset.monitor", description="USB")


# --- 1. the Settings dialog's microphone level ----------------------------------------------


def test_the_settings_level_follows_its_microphone_unplugged_and_plugged_back_in(
    pulse: PulseServer, start: Any
) -> None:
    desk_and_headset(pulse)
    pulse.play_tone("headset", 440.0, seconds=30)  # what the headset's microphone hears
    child = start("settings", "usb_mic", "")
    child.until(lambda s: s["level"] > 50 and s["mic"] == ["usb_mic", "USB"])
    pulse.remove("usb_mic")
    status = child.until(lambda s: s["mic"] != ["usb_mic", "USB"] and s["level"] == 0)
    assert status["mic"] == ["builtin_mic", "Built-in"], status  # (which hears nothing)
    assert status["note"] == "Microphone 'USB' was disconnected. Now using 'Built-in'.", status
    child.until(lambda s: s["mics"] == ["System default", "Built-in", f"USB{NOT_CONNECTED}"])
    pulse.add_source("usb_mic", master="headset.monitor", description="USB")
    status = child.until(lambda s: s["level"] > 50 and s["mics"][-1] == "USB")
    assert status["mic"] == ["usb_mic", "USB"] and status["level_shown"], status
    assert status["note"] == "Microphone switched from 'Built-in' to 'USB'.", status
    child.quit()


def test_the_settings_level_of_the_only_microphone_unplugged_is_hidden_until_it_is_back(
    pulse: PulseServer, start: Any
) -> None:
    """Its level would show the speaker's monitor (PulseAudio records that instead): the
    microphone is let go, and the list says there is none; plugged back, the level is back."""
    plug_headset(pulse)
    pulse.play_tone("headset", 440.0, seconds=30)
    child = start("settings", "usb_mic", "")
    child.until(lambda s: s["level"] > 50)
    pulse.remove("usb_mic")
    status = child.until(lambda s: s["mic"] is None and not s["level_shown"])
    assert status["mics"] == [NO_MIC, f"USB{NOT_CONNECTED}"], status
    assert status["speaker"] == ["headset", "Headset"] and status["test"], status
    pulse.add_source("usb_mic", master="headset.monitor", description="USB")
    status = child.until(lambda s: s["level"] > 50 and s["level_shown"])
    assert status["mic"] == ["usb_mic", "USB"], status
    assert status["note"] == "Microphone 'USB' connected and now in use.", status
    child.quit()


# --- 2. the Settings dialog's speaker Test ---------------------------------------------------


def test_a_speaker_unplugged_during_its_test_chime_finishes_it_on_the_default_and_says_so(
    pulse: PulseServer, start: Any
) -> None:
    """The chime's second note is heard on the desk speaker (PulseAudio moved it there), and
    beside Test the dialog says why (it said nothing: only the list read "not connected")."""
    desk_and_headset(pulse)
    child = start("settings", "", "headset")

    def test_then_unplug() -> None:
        child.do("test")
        time.sleep(0.1)  # (in the first note)
        pulse.remove("usb_mic")
        pulse.remove("headset")

    pcm = heard(pulse, "desk", 1.6, test_then_unplug)
    assert blocks(pcm, CHIME_HZ[1], 0.01) >= 2, "the chime's second note was not heard on the desk"
    status = child.until(lambda s: s["speaker_note"] != "")
    assert status["speaker_note"] == "Speaker 'Headset' was disconnected. Now using 'Desk'."
    assert status["chimes"] == 1 and not status["chiming"], status
    child.until(lambda s: s["speakers"][-1] == f"Headset{NOT_CONNECTED}")

    pcm = heard(pulse, "desk", 1.2, lambda: child.do("test"))  # Test again, with it gone
    assert min(blocks(pcm, hz, 0.01) for hz in CHIME_HZ) >= 2, "the chime was not on the desk"
    status = child.status()
    assert status["speaker_note"] == "That speaker is not connected: the chime plays on Desk."
    assert status["chimes"] == 2, status

    plug_headset(pulse)  # back: the note beside Test no longer says it is not connected
    child.until(lambda s: s["speaker_note"] == "Speaker switched from 'Desk' to 'Headset'.")
    pcm = heard(pulse, "headset", 1.2, lambda: child.do("test"))
    assert min(blocks(pcm, hz, 0.01) for hz in CHIME_HZ) >= 2, "the chime was not heard"
    status = child.status()
    assert status["speaker_note"] == "" and status["chimes"] == 3, status
    child.quit()


def test_the_only_speaker_unplugged_during_its_test_chime_is_said_and_test_waits_for_it(
    pulse: PulseServer, start: Any
) -> None:
    plug_headset(pulse)
    child = start("settings", "", "headset")
    child.do("test")
    time.sleep(0.3)
    pulse.remove("usb_mic")
    pulse.remove("headset")
    status = child.until(lambda s: s["speaker_note"] != "" and not s["test"])
    assert status["speaker_note"] == (
        "Speaker 'Headset' was disconnected. No speaker found: you will not hear the others."
    )
    assert status["speakers"] == [NO_SPEAKER, f"Headset{NOT_CONNECTED}"], status
    assert status["speaker"] is None and not status["chiming"], status
    child.do("test")  # (Test is off: nothing happens)
    assert child.status()["chimes"] == 1
    plug_headset(pulse)
    child.until(lambda s: s["test"] and s["speaker"] == ["headset", "Headset"])
    pcm = heard(pulse, "headset", 1.2, lambda: child.do("test"))
    assert min(blocks(pcm, hz, 0.01) for hz in CHIME_HZ) >= 2, "the chime was not heard"
    status = child.status()
    assert status["speaker_note"] == "" and status["chimes"] == 2, status
    child.quit()


# --- 3. a call's speaker, while a sound of the call's own plays -----------------------------


def test_a_call_speaker_unplugged_mid_sound_goes_on_on_the_default_and_says_so(
    pulse: PulseServer, start: Any
) -> None:
    pulse.plug("speakers", "builtin_mic", default=True)
    pulse.plug("headset", "usb_mic")
    child = start("call", "usb_mic", "headset")

    def tone_then_unplug() -> None:
        child.do("tone")  # 1.5 s
        time.sleep(0.4)
        pulse.remove("usb_mic")
        pulse.remove("headset")

    pcm = heard(pulse, "speakers", 2.2, tone_then_unplug)
    assert blocks(pcm, 1000.0, 0.03) >= 16, "the rest of the tone (1.1 s) was not heard"
    status = child.until(lambda s: len(s["messages"]) >= 2)
    for said in (  # (a busy machine may add that a device was restarted)
        "Microphone 'usb_mic' was disconnected. Now using 'builtin_mic'.",
        "Speaker 'headset' was disconnected. Now using 'speakers'.",
    ):
        assert said in status["messages"], status
    assert status["speaker"] == ["speakers", "speakers"], status
    pcm = heard(pulse, "speakers", 1.0, lambda: child.do("cue knock"))
    assert blocks(pcm, KNOCK_HZ, 0.005) >= 2, "the next sound was not heard"

    pulse.plug("headset", "usb_mic")
    status = child.until(lambda s: s["speaker"] == ["headset", "headset"])
    assert "Speaker switched from 'speakers' to 'headset'." in status["messages"], status
    pcm = heard(pulse, "headset", 1.0, lambda: child.do("cue knock"))
    assert blocks(pcm, KNOCK_HZ, 0.005) >= 2, "the sound was not heard on the headset"
    child.quit()


def test_a_call_s_only_speaker_unplugged_mid_sound_is_said_and_used_again_once_back(
    pulse: PulseServer, start: Any
) -> None:
    pulse.plug("headset", "usb_mic", default=True)
    child = start("call", "usb_mic", "headset")
    child.do("tone")
    time.sleep(0.4)
    pulse.remove("usb_mic")
    pulse.remove("headset")
    status = child.until(lambda s: s["speaker"] is None and s["mic"] is None)
    for said in (
        "Microphone 'usb_mic' was disconnected. No microphone found: the others hear silence.",
        "Speaker 'headset' was disconnected. No speaker found: you will not hear the others.",
    ):
        assert said in status["messages"], status
    told = len(status["messages"])
    child.do("cue knock")  # (nowhere to play it: dropped)
    pulse.plug("headset", "usb_mic", default=True)
    status = child.until(lambda s: s["speaker"] is not None and s["mic"] is not None)
    for said in (
        "Microphone 'usb_mic' connected and now in use.",
        "Speaker 'headset' connected and now in use.",
    ):
        assert said in status["messages"][told:], status
    pcm = heard(pulse, "headset", 1.0, lambda: child.do("cue knock"))
    assert blocks(pcm, KNOCK_HZ, 0.005) >= 2, "the sound was not heard on the headset"
    child.quit()
