"""The call window and the camera, in a real call against a headless host: no camera (the call
starts with the video off), the device menus beside Stop video and Mute, and a camera unplugged
in the call. Runs under Xvfb.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import qasync

from app.config import EngineConfig
from app.errors import MediaError
from app.media.camera import list_cameras
from app.media.synthetic import SyntheticCamera
from app.meeting.settings import Settings, SettingsStore
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.desktop_media import NO_CAMERA, DesktopMedia
from app.ui.preview import TEST_PATTERN
from tests.ui.conftest import until
from tests.ui.test_call_window import host_saw, in_call_with_host


def test_without_a_camera_the_call_starts_with_video_off(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The desktop app's media on a computer with no camera: the call starts with the video off
    (the others see initials, not a test pattern) and says why; Start video looks again and,
    with still no camera, says so and stays off."""
    if list_cameras():
        pytest.skip("this machine has a camera")
    settings = SettingsStore(tmp_path / "settings.json")
    notes: list[str] = []
    desktop = DesktopMedia(settings, notice=notes.append)
    me = Bridge(
        EngineConfig(display_name="Me"),
        lambda loop: desktop.build(loop, camera=me.joining_with_camera),
        desktop.release,
    )
    me.camera_ready = desktop.camera_ready

    async def scenario(_: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        assert not me.camera_on and notes.count(NO_CAMERA) == 1
        window = CallWindow(me)
        window.show()
        assert window.toolbar.cam_button.text() == "Start video"
        window.toggle_camera()  # looks for a camera again: still none
        assert not me.camera_on and window.toolbar.cam_button.text() == "Start video"
        assert notes.count(NO_CAMERA) == 2
        await until(lambda: len(me.peers()) == 1, what="the host")
        await asyncio.sleep(2)
        await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)
    mine = host_saw(tmp_path, "Me")
    assert mine["cam"] is False and mine["video_frames"] < 6, mine  # black, one a second


def test_the_device_menus_switch_the_camera_in_the_call_and_keep_the_choice(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The arrow beside Stop video lists the cameras (and the test pattern); picking one
    switches the call's video on the spot and keeps it in Settings. The arrow beside Mute
    lists microphones and speakers, the one in use checked."""
    if list_cameras():
        pytest.skip("this machine has a camera")
    settings = SettingsStore(tmp_path / "settings.json")
    desktop = DesktopMedia(settings)
    me = Bridge(EngineConfig(display_name="Me"), desktop.build, desktop.release)
    me.camera_ready, me.devices = desktop.camera_ready, desktop

    async def scenario(_: Bridge, link: str) -> None:
        assert await me.join(link, "Me") and me.session is not None
        assert not me.camera_on  # no camera
        window = CallWindow(me)
        window.show()
        bar, menus = window.toolbar, window.device_menus
        assert bar.cam_more.isVisible() and bar.mic_more.isVisible()
        bar.cam_more.click()
        await until(lambda: menus.menu.isVisible(), what="camera menu")
        actions = {a.data(): a for a in menus.menu.actions() if a.data()}
        assert actions["camera:"].isChecked()  # automatic: the first camera found
        actions["camera:test-pattern"].trigger()
        menus.menu.hide()
        assert settings.load().camera == TEST_PATTERN
        window.toggle_camera()  # now there is something to show
        assert me.camera_on
        await until(lambda: isinstance(me.session.media.video.source, SyntheticCamera))
        bar.cam_more.click()  # back to "Automatic": no camera here, so the video goes off
        await until(lambda: menus.menu.isVisible(), what="camera menu again")
        {a.data(): a for a in menus.menu.actions()}["camera:"].trigger()
        menus.menu.hide()
        assert not me.camera_on and bar.cam_button.text() == "Start video"
        # Settings saved during the call: what was chosen there is used at once
        menus.follow(dataclasses.replace(settings.load(), camera=TEST_PATTERN, microphone="m2"))
        window.toggle_camera()
        assert me.camera_on
        await until(lambda: isinstance(me.session.media.video.source, SyntheticCamera))
        io = desktop._audio[id(me.session.media)][1]  # (the call's QtAudioIO)
        await until(lambda: io.wanted("in") == "m2", what="the microphone from Settings")
        assert settings.load().microphone == "m2"
        source = me.session.media.video.source
        menus.follow(settings.load())  # saved again unchanged: nothing is reopened
        assert me.session.media.video.source is source and io.wanted("in") == "m2"
        menus.use("in", "")
        bar.mic_more.click()
        await until(lambda: menus.menu.isVisible(), what="sound menu")
        texts = [a.text() for a in menus.menu.actions()]
        assert "Microphone" in texts and "Speaker" in texts and "Camera" not in texts
        checked = [a.data() for a in menus.menu.actions() if a.isChecked()]
        assert checked == ["in:", "out:"]  # the system's default devices
        menus.menu.hide()
        if not me.mic_found:  # (no sound server here) the button itself offers the menu
            await until(lambda: bar.mic_button.text() == "No microphone", what="no-mic button")
            assert "choose one here" in bar.mic_button.toolTip()
            bar.mic_button.click()
            await until(lambda: menus.menu.isVisible(), what="sound menu from the button")
            assert "Microphone" in [a.text() for a in menus.menu.actions()]
            assert me.mic_on and not window.banner.isVisible()
            menus.menu.hide()
        await until(lambda: len(me.peers()) == 1, what="the host")
        await asyncio.sleep(2)
        await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)
    mine = host_saw(tmp_path, "Me")
    assert mine["cam"] is True and mine["video_frames"] > 20, mine


class UnpluggedCamera:
    """A camera that works for a few frames, then is pulled out."""

    paced, width, height, fps = False, 320, 240, 15.0

    def __init__(self) -> None:
        self.frames = 0

    def next_frame(self) -> Any:
        self.frames += 1
        if self.frames > 10:
            raise MediaError("The camera at /dev/video7 stopped working (No such device).")
        return SyntheticCamera(320, 240).render(self.frames, 0)

    def close(self) -> None:
        pass


def test_a_camera_unplugged_in_the_call_turns_the_video_off_and_says_why(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The others see your initials, not a test pattern; Start video looks for a camera
    again (here the test pattern chosen in Settings)."""
    settings = SettingsStore(tmp_path / "settings.json")
    settings.save(Settings(display_name="Me", camera=TEST_PATTERN))
    desktop = DesktopMedia(settings)
    me = Bridge(EngineConfig(display_name="Me"), desktop.build, desktop.release)
    me.camera_ready = desktop.camera_ready

    async def scenario(_: Bridge, link: str) -> None:
        assert await me.join(link, "Me") and me.session is not None and me.camera_on
        window = CallWindow(me)
        window.show()
        me.session.media.video.set_source(UnpluggedCamera())
        await until(lambda: not me.camera_on, 5, "video off")
        assert window.toolbar.cam_button.text() == "Start video"
        text = window.banner.text.text()
        assert "/dev/video7 stopped working" in text and "Start video" in text, text
        assert "test pattern" not in text
        _, checked = desktop.choices(me.session.media)["camera"]
        assert checked not in ("", TEST_PATTERN)  # the menu checks no camera: none works
        window.toggle_camera()  # looks again: the pattern chosen in Settings is there
        assert me.camera_on and not me.camera_failed
        assert not window.banner.isVisible()  # "your video is off" is over
        await asyncio.sleep(1.5)  # (a tick of the window's clock: it stays on)
        assert me.camera_on
        assert desktop.choices(me.session.media)["camera"][1] == TEST_PATTERN
        await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)
