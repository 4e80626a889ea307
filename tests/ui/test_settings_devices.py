"""The Settings dialog's microphone and speaker lists (and the join dialog's microphone level)
on a real sound system: a private PulseAudio server with virtual devices, plugged in and out
while the dialog is open (the Qt side in a child process: see test_audio_pulse)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.ui.preview import NO_MIC as NO_MIC_WORDS
from app.ui.settings_dialog import NO_MIC, NO_SPEAKER, NOT_CONNECTED
from tests.pulse import PulseServer, pulse_server  # noqa: F401  (the "pulse" fixture)
from tests.ui.test_audio_pulse import children  # noqa: F401  (the "child_factory" fixture)

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]


def test_the_settings_dialog_lists_a_microphone_plugged_in_while_it_is_open(
    pulse: PulseServer, child_factory: Any
) -> None:
    pulse.add_sink("desk", "Desk speaker")
    pulse.add_source("builtin_mic", master="desk.monitor", description="Built-in")
    child = child_factory("settings", "builtin_mic", "")
    child.expect("READY", timeout=20)
    assert child.status()["mics"] == ["System default", "Built-in"]
    pulse.add_sink("headset", "Headset")
    pulse.add_source("usb_mic", master="headset.monitor", description="USB")
    deadline = time.monotonic() + 5
    while "USB" not in (status := child.status())["mics"]:
        assert time.monotonic() < deadline, f"not listed: {status}"
        time.sleep(0.1)
    assert status["mic"] == "builtin_mic" and "Headset" in status["speakers"]  # choice kept
    child.quit()


def test_settings_says_when_there_is_no_microphone_or_speaker_until_one_is_plugged_in(
    pulse: PulseServer, child_factory: Any
) -> None:
    """A sound system with no device at all: the lists read "No microphone found" and "No
    speaker found" (they read "System default", as if one were there); a headset plugged in
    meanwhile brings the default and itself into both lists."""
    child = child_factory("settings", "", "")
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mics"] == [NO_MIC] and status["speakers"] == [NO_SPEAKER], status
    assert not status["meter"] and not status["test"], status  # (nothing they could work on)
    pulse.plug("headset", "usb_mic", default=True)
    deadline = time.monotonic() + 5
    while len((status := child.status())["speakers"]) < 2 or len(status["mics"]) < 2:
        assert time.monotonic() < deadline, f"not listed: {status}"
        time.sleep(0.1)
    assert status["mics"] == ["System default", "usb_mic"], status
    assert status["speakers"] == ["System default", "headset"], status
    assert status["mic"] == "" and status["speaker"] == ""  # (the default, as saved)
    assert status["meter"] and status["test"], status  # (back with the headset)
    child.quit()


def test_settings_hides_the_level_without_a_microphone_and_keeps_test_for_a_speaker(
    pulse: PulseServer, child_factory: Any
) -> None:
    """A speaker but no microphone: "Speak to test your microphone." and its level bar showed
    with nothing to hear; now they are hidden (the speaker's Test is on), and they are back
    once a microphone is plugged in."""
    pulse.add_sink("desk", "Desk speaker")
    child = child_factory("settings", "", "")
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mics"] == [NO_MIC] and not status["meter"] and status["test"], status
    pulse.add_source("usb_mic", master="desk.monitor", description="USB")
    deadline = time.monotonic() + 5
    while not (status := child.status())["meter"]:
        assert time.monotonic() < deadline, f"the level is not back: {status}"
        time.sleep(0.1)
    assert status["test"] and status["mics"] == ["System default", "USB"], status
    child.quit()


def test_the_join_preview_hides_the_level_without_a_microphone_until_one_is_plugged_in(
    pulse: PulseServer, child_factory: Any
) -> None:
    """A speaker but no microphone: the join dialog's preview showed its level bar, empty,
    over "No microphone found" (Settings hid it). Now it is hidden, and back with the level
    once a microphone is plugged in while the dialog is open."""
    pulse.add_sink("desk", "Desk speaker")
    child = child_factory("join", "", "")
    child.expect("READY", timeout=20)
    status = child.status()
    assert not status["level"] and status["note"].startswith(NO_MIC_WORDS), status
    pulse.add_source("usb_mic", master="desk.monitor", description="USB")
    deadline = time.monotonic() + 5
    while not (status := child.status())["level"]:
        assert time.monotonic() < deadline, f"the level is not back: {status}"
        time.sleep(0.1)
    assert status["running"] and not status["note"].startswith(NO_MIC_WORDS), status
    child.quit()


def test_settings_says_a_chosen_headset_unplugged_while_it_is_open_is_not_connected(
    pulse: PulseServer, child_factory: Any
) -> None:
    """The headset chosen in Settings (not the system's default) unplugged while the dialog
    is open: Qt says nothing and goes on listing it, so the lists offered it as if it were
    there. Now they say it is not connected (still chosen: it is the one wanted), and list it
    plainly again once it is plugged back in."""
    pulse.add_sink("desk", "Desk speaker")
    pulse.add_source("builtin_mic", master="desk.monitor", description="Built-in")
    pulse.set_default_sink("desk")
    pulse.set_default_source("builtin_mic")

    def plug() -> None:
        pulse.add_sink("headset", "Headset")
        pulse.add_source("usb_mic", master="headset.monitor", description="USB")

    plug()
    child = child_factory("settings", "usb_mic", "headset")
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mics"] == ["System default", "Built-in", "USB"], status
    assert status["speakers"] == ["System default", "Desk_speaker", "Headset"], status
    pulse.remove("usb_mic")
    pulse.remove("headset")
    gone = {
        "mics": ["System default", "Built-in", f"USB{NOT_CONNECTED}"],
        "speakers": ["System default", "Desk_speaker", f"Headset{NOT_CONNECTED}"],
    }
    status = wait_lists(child, gone)
    assert status["mic"] == "usb_mic" and status["speaker"] == "headset", status
    assert status["meter"] and status["test"], status  # (the defaults are there)
    plug()
    status = wait_lists(child, {
        "mics": ["System default", "Built-in", "USB"],
        "speakers": ["System default", "Desk_speaker", "Headset"],
    })  # fmt: skip
    assert status["mic"] == "usb_mic" and status["speaker"] == "headset", status
    child.quit()


def wait_lists(child: Any, lists: dict[str, list[str]], limit: float = 5) -> dict[str, Any]:
    """The child's status once its device lists read ``lists``."""
    deadline = time.monotonic() + limit
    while any((status := child.status())[key] != want for key, want in lists.items()):
        assert time.monotonic() < deadline, f"still {status}, not {lists}"
        time.sleep(0.1)
    return status


def test_the_call_menu_leaves_out_a_headset_unplugged_in_the_call_until_it_is_back(
    pulse: PulseServer, child_factory: Any
) -> None:
    """In a call, the chosen headset (not the system's default) unplugged: the call goes on
    the built-in devices and says so, but the menus beside Mute still offered the headset (Qt
    lists it), and picking it did nothing and said nothing. Now it is left out until it is
    plugged back in; then it is listed, and in use again."""
    pulse.plug("speakers", "builtin_mic", default=True)
    pulse.plug("headset", "usb_mic")
    child = child_factory("menu", "usb_mic", "headset")
    child.expect("READY", timeout=20)
    status = child.status()
    assert [i for i, _ in status["in"][0]] == ["", "builtin_mic", "usb_mic"], status
    assert status["in"][1] == "usb_mic" and status["out"][1] == "headset", status
    pulse.remove("usb_mic")
    pulse.remove("headset")
    wait_menus(child, ["", "builtin_mic"], ["", "speakers"], ("builtin_mic", "speakers"))
    pulse.plug("headset", "usb_mic")
    mics, speakers = ["", "builtin_mic", "usb_mic"], ["", "speakers", "headset"]
    wait_menus(child, mics, speakers, ("usb_mic", "headset"))  # (in use again)
    child.quit()


def wait_menus(
    child: Any, mics: list[str], speakers: list[str], checked: tuple[str, str]
) -> dict[str, Any]:
    """The child's status once its menus list the devices of those ids, ``checked`` the
    microphone and speaker checked."""
    deadline = time.monotonic() + 5
    while True:
        status = child.status()
        now = (
            [[i for i, _ in status[k][0]] for k in ("in", "out")],
            (status["in"][1], status["out"][1]),
        )
        if now == ([mics, speakers], checked):
            return status
        assert time.monotonic() < deadline, f"menus {now}, not {[mics, speakers], checked}"
        time.sleep(0.1)
