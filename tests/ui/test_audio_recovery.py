"""PeerMeet's audio getting back after a device or the sound server itself went away.

Qt 6.11 aborts the process when a device is opened while its PulseAudio connection is gone;
QtAudioIO must keep the program (and the call) going without sound and say so. A device chosen
in Settings and plugged back in must be used again. The Qt side runs in a child process, as in
test_audio_pulse.py (an abort there fails the test, not pytest).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from app.ui.audio_devices import SERVER_BACK, SERVER_GONE, SERVER_LOST
from tests.pulse import PulseServer, pulse_server  # noqa: F401  (the "pulse" fixture)
from tests.ui import test_audio_pulse as base

children, devices_mode, playing = base.children, base.devices_mode, base.playing  # fixtures

pytestmark = [pytest.mark.audio, pytest.mark.timeout(90)]


def plug_devices(pulse: PulseServer) -> None:
    """A USB headset, the system's defaults."""
    pulse.plug("headset", "usb_mic", default=True)


def plug_speakers(pulse: PulseServer) -> None:
    """Built-in speakers and microphone, the system's defaults."""
    pulse.plug("speakers", "builtin_mic", default=True)


def wait_for(child: Any, message: str, limit: float) -> dict[str, Any]:
    """The child's status once it said a message starting with ``message``."""
    return wait_until(child, lambda s: any(m.startswith(message) for m in s["messages"]), limit)


def wait_until(child: Any, done: Callable[[dict[str, Any]], bool], limit: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit
    while not done(status := child.status()):
        assert child.proc.poll() is None, f"the child died: {child.stderr()}"
        assert time.monotonic() < deadline, f"still waiting after {limit} s: {status}"
        time.sleep(0.2)
    return status


def test_a_sound_server_restarted_at_once_brings_the_sound_back(
    pulse: PulseServer,
    child_factory: Any,
    devices_mode: str,
) -> None:
    plug_devices(pulse)
    child = child_factory(devices_mode, "usb_mic", "headset")
    child.expect("READY", timeout=20)
    pulse.crash()
    status = wait_for(child, SERVER_GONE, 5)  # the watchdog sees both devices stall
    assert status["mic"] is None and status["speaker"] is None
    pulse.restart()  # within Qt's 3 s: Qt reconnects by itself
    plug_devices(pulse)
    wait_for(child, SERVER_BACK, 10)
    status = wait_until(
        child,
        lambda s: (s["mic"] or [""])[0] == "usb_mic" and (s["speaker"] or [""])[0] == "headset",
        5,
    )
    assert status["messages"].count(SERVER_GONE) == 1, status
    frames = status["mic_frames"]
    assert playing(pulse, "headset.monitor")  # the child's tone
    assert child.status()["mic_frames"] > frames + 5  # the microphone delivers again
    child.quit()


def test_a_sound_server_back_in_a_moment_is_not_taken_for_qt_being_back(
    pulse: PulseServer,
    child_factory: Any,
) -> None:
    """Our own connection to the sound server (app.ui.pulse_streams) must not pass for Qt's:
    a server restarted within a second (systemd) made PeerMeet reopen a device before Qt had
    reconnected, and Qt aborted the process."""
    plug_devices(pulse)
    child = child_factory("devices-on-thread", "usb_mic", "headset")
    child.expect("READY", timeout=20)
    time.sleep(5.5)  # past the stream watch's retry time: it may reconnect at once
    pulse.crash()
    pulse.restart()
    plug_devices(pulse)
    status = wait_for(child, SERVER_BACK, 10)  # when Qt itself reconnected (3 s)
    assert status["messages"].count(SERVER_GONE) <= 1, status
    status = wait_until(
        child,
        lambda s: (s["mic"] or [""])[0] == "usb_mic" and (s["speaker"] or [""])[0] == "headset",
        5,
    )
    assert playing(pulse, "headset.monitor")
    # and the watch follows the reopened streams: the microphone unplugged now is still said
    # (after a restart it could not tell our new streams from nothing, and echoed for good)
    pulse.remove("usb_mic")
    status = wait_for(child, "Microphone 'usb_mic' was disconnected and no other", 5)
    assert status["mic"] is None and streams_on(pulse, "headset.monitor") == 0
    child.quit()


def test_a_sound_server_back_too_late_for_qt_needs_a_restart_of_peermeet(
    pulse: PulseServer,
    child_factory: Any,
) -> None:
    plug_devices(pulse)
    child = child_factory("devices-on-thread", "", "")
    child.expect("READY", timeout=20)
    pulse.crash()
    wait_for(child, SERVER_GONE, 5)
    time.sleep(4)  # Qt tried to reconnect 3 s after the crash, found nothing, and gave up
    pulse.restart()
    plug_devices(pulse)
    status = wait_for(child, SERVER_LOST, 10)  # opening a device now would abort
    assert status["mic"] is None and status["speaker"] is None
    child.send("use out headset")  # picking a device meanwhile opens nothing either
    child.expect("OK use out headset")
    assert child.status()["speaker"] is None
    child.quit()


def streams_on(pulse: PulseServer, device: str) -> int:
    """How many streams of the child play to sink / record from source ``device``."""
    clients = pulse.pactl("list", "clients").split("Client #")[1:]
    keepers = {c.split()[0] for c in clients if 'application.name = "pm-keeper"' in c}
    count = 0
    for kind, streams in (("sinks", "sink-inputs"), ("sources", "source-outputs")):
        rows = [line.split("\t") for line in pulse.pactl("list", "short", kind).splitlines()]
        index = next((row[0] for row in rows if row[1] == device), None)
        for row in pulse.pactl("list", "short", streams).splitlines():
            _, on, client = row.split("\t")[:3]
            count += on == index and client not in keepers
    return count


def test_a_chosen_device_unplugged_and_plugged_back_in_is_used_again(
    pulse: PulseServer,
    child_factory: Any,
    devices_mode: str,
) -> None:
    # Qt says nothing when a device that is not the default goes (PulseAudio moves our stream
    # to the default); it does say when it comes back, with the same id as before.
    plug_speakers(pulse)

    def plug() -> None:
        pulse.plug("headset", "usb_mic")

    plug()
    child = child_factory(devices_mode, "usb_mic", "headset")
    child.expect("READY", timeout=20)
    assert streams_on(pulse, "headset") == 1 and streams_on(pulse, "usb_mic") == 1
    pulse.remove("usb_mic")
    pulse.remove("headset")
    deadline = time.monotonic() + 5
    while streams_on(pulse, "speakers") + streams_on(pulse, "builtin_mic") < 2:
        assert time.monotonic() < deadline, "PulseAudio did not move the streams"
        time.sleep(0.1)
    # Qt still names (and lists) the unplugged devices: PeerMeet asks the sound server
    wait_for(child, "Microphone 'usb_mic' was disconnected. Now using 'builtin_mic'", 5)
    status = wait_for(child, "Speaker 'headset' was disconnected. Now using 'speakers'", 5)
    assert status["mic"][0] == "builtin_mic" and status["speaker"][0] == "speakers"
    deadline = time.monotonic() + 5
    plug()
    while streams_on(pulse, "headset") + streams_on(pulse, "usb_mic") < 2:
        assert time.monotonic() < deadline + 5, "the replugged devices are not used again"
        time.sleep(0.1)
    assert streams_on(pulse, "speakers") + streams_on(pulse, "builtin_mic") == 0
    status = child.status()
    assert status["mic"][0] == "usb_mic" and status["speaker"][0] == "headset"
    frames = status["mic_frames"]
    assert playing(pulse, "headset.monitor")  # the child's tone
    assert child.status()["mic_frames"] > frames + 5
    child.quit()


def test_the_only_microphone_unplugged_is_said_and_the_speakers_are_not_sent_instead(
    pulse: PulseServer,
    child_factory: Any,
    devices_mode: str,
) -> None:
    # PulseAudio moves a recording whose source went to the default source, and with no
    # microphone left that is the speakers' monitor: the others would hear themselves.
    plug_speakers(pulse)
    child = child_factory(devices_mode, "", "")
    child.expect("READY", timeout=20)
    assert streams_on(pulse, "builtin_mic") == 1
    pulse.remove("builtin_mic")
    status = wait_for(child, "Microphone 'builtin_mic' was disconnected and no other", 5)
    assert status["mic"] is None and status["speaker"][0] == "speakers"
    assert streams_on(pulse, "speakers.monitor") == 0  # nothing records the speakers
    assert playing(pulse, "speakers.monitor")  # the speaker goes on
    pulse.plug("headset", "usb_mic")
    pulse.set_default_source("usb_mic")
    status = wait_until(child, lambda s: (s["mic"] or [""])[0] == "usb_mic", 5)
    assert streams_on(pulse, "usb_mic") == 1 and streams_on(pulse, "speakers.monitor") == 0
    frames = status["mic_frames"]
    time.sleep(0.5)
    assert child.status()["mic_frames"] > frames + 5  # the new microphone delivers
    messages = child.status()["messages"]
    assert sum("no other microphone" in m for m in messages) == 1, messages
    child.quit()


def test_a_headset_picked_after_it_was_unplugged_is_said_not_connected_then_used_when_back(
    pulse: PulseServer,
    child_factory: Any,
    devices_mode: str,
) -> None:
    """A headset (not the default) unplugged, then picked (a Settings choice saved, a menu
    opened before): Qt still lists it, the sound server has it no more, so the built-in
    devices stay in use; that was said nowhere. Now it is said, and the headset is used once
    it is plugged back in."""
    plug_speakers(pulse)
    pulse.plug("headset", "usb_mic")
    child = child_factory(devices_mode, "", "")
    child.expect("READY", timeout=20)
    pulse.remove("usb_mic")
    pulse.remove("headset")
    time.sleep(0.5)
    for command in ("use in usb_mic", "use out headset"):
        child.send(command)
        child.expect(f"OK {command}")
    wait_for(child, "The microphone you chose is not connected; using 'builtin_mic'", 5)
    status = wait_for(child, "The speaker you chose is not connected; using 'speakers'", 5)
    assert status["mic"][0] == "builtin_mic" and status["speaker"][0] == "speakers", status
    pulse.plug("headset", "usb_mic")
    status = wait_until(
        child,
        lambda s: (s["mic"] or [""])[0] == "usb_mic" and (s["speaker"] or [""])[0] == "headset",
        5,
    )
    assert playing(pulse, "headset.monitor")  # the child's tone
    frames = status["mic_frames"]
    time.sleep(0.5)
    assert child.status()["mic_frames"] > frames + 5
    child.quit()
