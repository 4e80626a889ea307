"""The camera / microphone preview: live frames, a level meter, and a clean release."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
import shiboken6
from PySide6.QtGui import QAccessible
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.media.camera import list_cameras
from app.meeting.headless import MediaOptions, build_media
from app.meeting.settings import Settings, SettingsStore
from app.ui.audio_io import QtAudioIO
from app.ui.bridge import Bridge
from app.ui.join_dialog import JoinDialog
from app.ui.preview import TEST_PATTERN, MediaPreview, MicMeter
from app.ui.settings_dialog import SettingsDialog
from app.ui.style import plain_tip
from tests.ui.conftest import run, until

OURS = ("peermeet-video-feed", "peermeet-frames", "peermeet-engine")


def our_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(OURS) and t.is_alive()]


def store(tmp_path: Path, camera: str = TEST_PATTERN) -> SettingsStore:
    """Settings with the test pattern for a camera (``camera``: another choice)."""
    settings = SettingsStore(tmp_path / "settings.json")
    settings.save(Settings(display_name="Ada", camera=camera))
    return settings


def test_preview_shows_frames_and_stop_releases(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    before = our_threads()
    preview = MediaPreview(store(tmp_path))
    qtbot.addWidget(preview)
    preview.show()
    assert isinstance(preview.meter, MicMeter) and preview.meter.bar.objectName() == "MicMeter"
    assert preview.meter.isVisible()
    feed, tile = preview.feed, preview.tile
    assert feed is not None and tile is not None

    async def scenario() -> None:
        await until(lambda: tile.frames_shown >= 3, what="frames painted")
        first = feed.latest
        assert first is not None
        await until(lambda: (f := feed.latest) is not None and f.pts != first.pts, what="new frame")
        shown = tile.frames_shown
        await until(lambda: tile.frames_shown > shown, what="repainted")

    run(qloop, scenario(), 20)
    assert not preview.camera_note.isVisible()  # a working "camera": nothing to say
    preview.set_media(mic=True, cam=False)  # "Camera" unticked: what the others will see
    assert preview.camera_note.full == "Video off: the others see your initials."
    preview.set_media(mic=True, cam=True)
    assert not preview.camera_note.isVisible() and feed.enabled
    assert tile.name == "Ada" and tile.caption == "you"
    preview.set_name("Grace")
    assert tile.name == "Grace"

    preview.stop()
    assert feed._closed and preview.feed is None and preview.tile is None
    assert preview.meter.audio is None and not preview.running
    assert our_threads() == before
    preview.stop()  # idempotent
    assert not preview.running

    preview.start()  # and again, after a failed join
    assert preview.feed is not None and preview.running
    preview.stop()
    assert our_threads() == before


def test_error_is_a_note_not_a_crash(qtbot: QtBot, tmp_path: Path) -> None:
    preview = MediaPreview(store(tmp_path), live=False)  # no asyncio loop needed
    qtbot.addWidget(preview)
    assert not preview.running and preview.placeholder.text() == "Preview off"
    preview.stop()
    meter = MicMeter(elide=True)
    qtbot.addWidget(meter)
    meter.resize(200, 60)
    meter.show()
    meter.say("A very long explanation of what went wrong with the microphone " * 3)
    assert meter.note.text().endswith("…") and "\n" not in meter.note.text()
    assert meter.note.toolTip() == plain_tip(meter.note.full)
    meter.stop()


def test_starting_a_join_stops_the_preview(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    before = our_threads()
    bridge = Bridge(
        EngineConfig("Tester", connect_timeout_s=2.0),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop),
    )
    dialog = JoinDialog(bridge, store(tmp_path), lambda: None, "hello there")
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.preview.running and dialog.preview.feed is not None
    feed = dialog.preview.feed
    tile = dialog.preview.tile
    assert tile is not None and tile.mic_on and tile.cam_on
    dialog.cam_box.setChecked(False)  # the self-view shows how you will join
    assert tile.mic_on and not tile.cam_on and not feed.enabled  # the camera is let go
    dialog.cam_box.setChecked(True)
    assert feed.enabled
    dialog.mic_box.setChecked(False)
    assert not tile.mic_on and tile.cam_on

    async def scenario() -> None:
        dialog.join_button.click()
        assert not dialog.preview.running and feed._closed  # released before the call starts
        assert not dialog.mic_box.isEnabled()  # what the join started with is what it uses
        await until(lambda: not dialog.joining, what="the join to fail")
        assert dialog.failure is not None and dialog.failure[0] == "malformed_link"
        assert dialog.preview.running  # back, to check yourself while fixing the link
        assert dialog.mic_box.isEnabled() and dialog.cam_box.isEnabled()
        again = dialog.preview.tile
        assert again is not None and again is not tile and not again.mic_on  # still "muted"

    try:
        run(qloop, scenario(), 20)
        dialog.reject()
        assert not dialog.preview.running
        assert our_threads() == before
    finally:
        qloop.run_until_complete(bridge.leave())


@pytest.fixture
def silent_link() -> Iterator[str]:
    """A link whose rendezvous accepts the TCP connection and never answers the upgrade."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    yield f"peermeet://127.0.0.1:{silent.getsockname()[1]}/quiet#k=AAAAAAAAAAAAAAAAAAAAAA"
    silent.close()


def joining_bridge() -> tuple[Bridge, list[int]]:
    bridge = Bridge(
        EngineConfig("Tester", connect_timeout_s=10.0),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop),
    )
    steps: list[int] = []
    bridge.progress.connect(lambda step, text: steps.append(step))
    return bridge, steps


def test_giving_up_half_way_through_a_join_leaves_no_thread_behind(
    loopback: None, qloop: qasync.QEventLoop, silent_link: str
) -> None:
    """A join cancelled while it waits for the rendezvous (the dialog's Cancel) releases the
    call's engine thread and its camera once the bridge leaves, as the dialog then does."""
    before = our_threads()
    bridge, steps = joining_bridge()

    async def scenario() -> None:
        join = asyncio.get_running_loop().create_task(bridge.join(silent_link))
        await until(lambda: 1 in steps, what="the join to reach for the rendezvous")
        assert bridge.in_call and "peermeet-engine" in [t.name for t in our_threads()]
        join.cancel()
        with pytest.raises(asyncio.CancelledError):
            await join
        await bridge.leave()
        assert not bridge.in_call

    try:
        run(qloop, scenario(), 20)
        assert our_threads() == before
    finally:
        qloop.run_until_complete(bridge.leave())


def test_leaving_while_a_join_waits_ends_both_cleanly(
    loopback: None, qloop: qasync.QEventLoop, silent_link: str
) -> None:
    """Leave (a shutdown, a second link) while a join waits: the join returns False instead of
    raising, and a second leave waits for the first, so nothing is left running after it."""
    before = our_threads()
    bridge, steps = joining_bridge()

    async def scenario() -> None:
        join = asyncio.get_running_loop().create_task(bridge.join(silent_link))
        await until(lambda: 1 in steps, what="the join to reach for the rendezvous")
        first = asyncio.get_running_loop().create_task(bridge.leave())
        await asyncio.sleep(0)  # the first leave has taken the call
        await bridge.leave()  # returns only once the first one is done
        assert first.done() and our_threads() == before
        assert await join is False

    try:
        run(qloop, scenario(), 20)
    finally:
        qloop.run_until_complete(bridge.leave())


def test_without_a_camera_the_preview_shows_the_video_off(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """As the call will start (app.ui.main.DesktopMedia): video off, initials, and why."""
    if list_cameras():
        pytest.skip("this machine has a camera")
    preview = MediaPreview(store(tmp_path, camera=""))
    qtbot.addWidget(preview)
    preview.show()
    feed, tile = preview.feed, preview.tile
    assert feed is not None and tile is not None
    said = "No camera found: you join with your video off."
    assert preview.camera_note.full == said and not feed.enabled and not tile.cam_on
    preview.set_media(mic=True, cam=False)
    preview.set_media(mic=True, cam=True)  # "Camera" ticked: still none to turn on
    assert preview.camera_note.full == said and not feed.enabled and not tile.cam_on
    preview.stop()


def test_the_microphone_meter_says_what_it_measures(qtbot: QtBot) -> None:
    """A screen reader met a bare "progress bar" in Settings and the Join dialog."""
    meter = MicMeter()
    qtbot.addWidget(meter)
    face = QAccessible.queryAccessibleInterface(meter.bar)
    assert face is not None and face.text(QAccessible.Text.Name) == "Microphone level"


def test_a_meter_opened_and_closed_again_and_again_keeps_no_audio_behind(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """Each Settings dialog (and each join's preview) kept its closed QtAudioIO for good, with
    its device watcher and timers: its device-list slots hold it, and Qt holds them while it
    lives, so no collection frees it."""
    opened: list[QtAudioIO] = []
    for _ in range(3):
        dialog = SettingsDialog(store(tmp_path))  # its live microphone meter starts
        qtbot.addWidget(dialog)
        assert dialog.meter.audio is not None
        opened.append(dialog.meter.audio)
        dialog.reject()
        assert not dialog.meter.running
    gc.collect()
    qtbot.waitUntil(lambda: not any(shiboken6.isValid(audio) for audio in opened), timeout=2000)
