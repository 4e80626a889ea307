"""DesktopMedia (app.ui.desktop_media): a call's camera, microphone and speaker, built on the
GUI thread for a call whose engine runs on a thread of its own."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.media.camera import CameraCapture
from app.meeting.engine import EngineThread
from app.meeting.headless import close_media
from app.meeting.settings import Settings, SettingsStore
from app.ui.audio_io import QtAudioIO
from app.ui.desktop_media import DesktopMedia


async def first_frame_seen_on(media: object) -> str:
    """Waits on the engine's loop for the camera's first frame; the thread it was seen on."""
    video = media.video  # type: ignore[attr-defined]
    for _ in range(200):
        if video.latest is not None:
            return threading.current_thread().name
        await asyncio.sleep(0.025)
    raise AssertionError("no camera frame reached the engine's loop within 5 s")


def desktop_and_engine(tmp_path: Path) -> tuple[DesktopMedia, EngineThread]:
    """The app's media factory (with a camera that is not there) and a started engine."""
    settings = SettingsStore(tmp_path / "settings.json")
    settings.save(Settings(display_name="Ada", camera="/dev/no-such-camera"))
    engine = EngineThread()
    engine.start()
    return DesktopMedia(settings), engine


def test_media_built_here_delivers_video_on_the_engine_and_is_released(
    qapp: QApplication, tmp_path: Path
) -> None:
    desktop, engine = desktop_and_engine(tmp_path)
    try:
        media = desktop.build(engine.loop)  # on this (the Qt) thread, as Bridge.join does
        audio = desktop._audio.get(id(media))
        if audio is not None:  # the microphone and speaker run on a Qt thread of their own
            assert audio[1].thread().objectName() == "peermeet-audio"
        assert engine.submit(first_frame_seen_on(media)).result(10) == "peermeet-engine"
        engine.submit(close_media(media)).result(10)
        desktop.release(media)
        desktop.release(media)  # idempotent
        if audio is not None:
            assert audio[0]._thread.isFinished()
        assert not [t for t in threading.enumerate() if t.name == "peermeet-video-feed"]
    finally:
        engine.close()


def test_what_happens_to_the_sound_devices_reaches_the_call_as_a_notice(
    qapp: QApplication, qtbot: QtBot, tmp_path: Path
) -> None:
    """No sound server here, so no microphone: the call window's banner (bridge.notice) says so
    instead of the others just hearing silence."""
    if QtAudioIO.input_devices():
        pytest.skip("this machine has a microphone")
    settings = SettingsStore(tmp_path / "settings.json")
    settings.save(Settings(display_name="Ada", camera="/dev/no-such-camera"))
    notes: list[str] = []
    desktop = DesktopMedia(settings, notice=notes.append)
    engine = EngineThread()
    engine.start()
    try:
        media = desktop.build(engine.loop)
        qtbot.waitUntil(lambda: any("microphone" in n.lower() for n in notes), timeout=5000)
        assert not media.audio.present()  # what the own tile shows (a microphone that is off)
        # the menus beside Mute: no "System default" as if there were a device behind it
        choices = desktop.choices(media)
        assert choices["in"][0] == [("", "No microphone found")]
        if not QtAudioIO.output_devices():
            assert choices["out"][0] == [("", "No speaker found")]
        engine.submit(close_media(media)).result(10)
        desktop.release(media)
    finally:
        engine.close()


def test_joining_with_the_camera_off_never_opens_it(qapp: QApplication, tmp_path: Path) -> None:
    """Built for a join with the camera unticked, the feed starts switched off: black frames
    only, no picture taken (so no camera light), until the person starts their video."""
    desktop, engine = desktop_and_engine(tmp_path)
    try:
        media = desktop.build(engine.loop, camera=False)
        assert not media.camera_on
        engine.submit(first_frame_seen_on(media)).result(10)  # the black frame
        time.sleep(0.5)
        assert media.video.frames_captured == 0
        engine.call(media.video.set_enabled, True)
        deadline = time.monotonic() + 5
        while media.video.frames_captured == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert media.video.frames_captured > 0
        engine.submit(close_media(media)).result(10)
        desktop.release(media)
    finally:
        engine.close()


def test_the_camera_menu_checks_what_was_chosen_or_what_stands_in_for_it(
    tmp_path: Path,
) -> None:
    """Automatic stays checked when it found a camera (as the system default does for sound);
    a chosen camera that was not there shows the one in use instead; none after a failure."""
    desktop = DesktopMedia(SettingsStore(tmp_path / "settings.json"))
    video = SimpleNamespace(source=CameraCapture("/dev/video0", 320, 240, 15), last_error=None)
    media: Any = SimpleNamespace(video=video)
    for chosen, checked in (
        ("", ""),
        ("/dev/video3", "/dev/video0"),
        ("/dev/video0", "/dev/video0"),
    ):
        desktop._camera[id(media)] = chosen
        assert desktop.choices(media)["camera"][1] == checked, chosen
    video.last_error = "The camera at /dev/video0 stopped working."
    assert desktop.choices(media)["camera"][1] not in ("", "/dev/video0")
