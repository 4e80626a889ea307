"""The call window in a real call: a headless host in another process, this window, and a second
in-process participant ("the other side"), all over loopback. Runs under Xvfb.

Set PEERMEET_SCREENSHOTS=DIR to also save the window as DIR/call.png once all three are in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.errors import MediaError
from app.media.camera import list_cameras
from app.media.screen import ScreenCapture
from app.media.synthetic import SyntheticCamera
from app.meeting import regain, rejoin, roster
from app.meeting.headless import MediaOptions, build_media
from app.meeting.media import LocalMedia
from app.meeting.recovery import Recovery
from app.meeting.settings import Settings, SettingsStore
from app.ui.bridge import Bridge
from app.ui.call_notes import MUTED_HINT, NO_MIC, SHARING
from app.ui.call_window import SIDE_NARROW, SIDE_WIDTH, CallWindow
from app.ui.desktop_media import NO_CAMERA, DesktopMedia
from app.ui.frames import FrameConverter, convert
from app.ui.join_dialog import JoinDialog
from app.ui.peer_panel import PeerPanel
from app.ui.preview import TEST_PATTERN
from app.ui.video_grid import MY_SCREEN, grid_rects, grid_shape
from app.ui.video_tile import VideoTile
from tests.ui.conftest import run, until

MEDIA = ["--synthetic", "--res", "320x240", "--fps", "15"]


def make_bridge(name: str) -> Bridge:
    def media(loop: asyncio.AbstractEventLoop) -> LocalMedia:
        return build_media(MediaOptions(True, 320, 240, 15, label=name), loop=loop)

    return Bridge(EngineConfig(display_name=name), media)


def start_host(stats: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    host = subprocess.Popen(
        [sys.executable, "-m", "app", "host", "--headless", "--name", "ui-test",
         "--bind", "127.0.0.1", *MEDIA, "--display-name", "Hana", "--chat", "hello from host",
         "--stats-json", str(stats), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert host.stdout is not None
    link = host.stdout.readline().strip()
    assert link.startswith("peermeet://"), host.stderr.read() if host.stderr else ""
    return host, link


def in_call_with_host(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    scenario: Callable[[Bridge, str], Coroutine[Any, Any, None]],
    *host_args: str,
) -> None:
    """Run ``scenario(bridge, link)`` against a headless host; leave and stop the host after."""
    me = make_bridge("Me")
    _hosted(qloop, tmp_path, [me], lambda link: scenario(me, link), host_args, 30)


def two_with_host(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    scenario: Callable[[Bridge, Bridge, str], Coroutine[Any, Any, None]],
    timeout: float = 40,
) -> None:
    """Run ``scenario(me, olga, link)`` with two bridges against a headless host; both leave
    and the host stops after."""
    me, other = make_bridge("Me"), make_bridge("Olga")
    _hosted(qloop, tmp_path, [me, other], lambda link: scenario(me, other, link), (), timeout)


def _hosted(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    bridges: list[Bridge],
    body: Callable[[str], Coroutine[Any, Any, None]],
    host_args: tuple[str, ...],
    timeout: float,
) -> None:
    host, link = start_host(tmp_path / "host.json", *host_args)
    try:
        run(qloop, body(link), timeout)
    finally:
        for bridge in bridges:
            run(qloop, bridge.leave(), 10)
        host.terminate()
        host.communicate(timeout=15)


def host_saw(tmp_path: Path, name: str) -> dict[str, Any]:
    """What the headless host's statistics say of the peer called ``name``."""
    rows = json.loads((tmp_path / "host.json").read_text())["peers"].values()
    (row,) = [row for row in rows if row["name"] == name]
    return dict(row)


def tile_named(window: CallWindow, name: str, kind: str = "video") -> VideoTile | None:
    for (_, k), tile in window.grid.tiles.items():
        if tile.name == name and k == kind:
            return tile
    return None


def engine_threads() -> int:
    return sum(t.name == "peermeet-engine" for t in threading.enumerate())


def snapshot(tile: VideoTile) -> QImage:
    return tile.grab().toImage()


def test_call_window_in_a_real_call(qloop: qasync.QEventLoop, tmp_path: Path) -> None:
    host, link = start_host(tmp_path / "host.json")
    me, other = make_bridge("Me"), make_bridge("Olga")
    window: CallWindow | None = None
    shots = (
        Path(os.environ["PEERMEET_SCREENSHOTS"]) if "PEERMEET_SCREENSHOTS" in os.environ else None
    )
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        nonlocal window
        before = asyncio.all_tasks()
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.resize(1280, 760)
        window.show()

        # the host's video shows up and keeps changing
        await until(lambda: tile_named(window, "Hana") is not None, what="host tile")
        hana = tile_named(window, "Hana")
        assert hana is not None
        await until(lambda: hana.frames_shown > 3 and hana.state == "", what="host video")
        await until(window.peer_views.waiting.isHidden, what="no 'waiting for others' card")
        first = snapshot(hana)
        await asyncio.sleep(0.4)
        assert snapshot(hana) != first, "the host's video did not move"

        # chat both ways; Enter sends
        await until(lambda: ("Hana", "hello from host", False) in window.chat.messages)
        window.chat.entry.setPlainText("hi from the window")
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        assert ("Me", "hi from the window", True) in window.chat.messages
        assert window.chat.entry.text() == ""

        # a third person; mute shows on each other's side
        assert await other.join(link, "Olga")
        await until(lambda: (t := tile_named(window, "Olga")) is not None and t.frames_shown > 0)
        olga = tile_named(window, "Olga")
        assert olga is not None and olga.mic_on
        assert me.session is not None and other.session is not None
        my_id, olga_id = me.session.my_id, other.session.my_id
        # each call runs on an engine thread of its own; the GUI loop carries none of it
        assert engine_threads() == 2
        assert not {t for t in asyncio.all_tasks() - before if not t.done()} - {
            asyncio.current_task()
        }
        seen: list[tuple[str, bool]] = []
        other.peerMedia.connect(lambda pid, mic, cam, screen: seen.append((pid, mic)))
        QTest.mouseClick(window.toolbar.mic_button, Qt.MouseButton.LeftButton)
        assert window.toolbar.mic_button.text() == "Unmute"
        await until(lambda: (my_id, False) in seen, what="mute reaches Olga")
        # our synthetic microphone keeps "talking", but so do Hana and Olga on our speaker: what
        # the microphone hears may be them (echo), so no you-are-muted reminder
        await asyncio.sleep(2.0)
        assert not (window.banner.isVisible() and window.banner.text.text() == MUTED_HINT)
        other.set_mic(False)
        await until(lambda: not olga.mic_on, what="Olga's mute badge")
        (card,) = [c for c in window.people.cards.values() if c.name.full == "Olga"]
        assert card.media.text() == "Muted"  # the People panel says it too

        # the people panel: safety code (equal on both ends), path, address on request
        QTest.mouseClick(window.toolbar.people_button, Qt.MouseButton.LeftButton)
        card = window.people.cards[olga_id]
        code = other.peers()[my_id].safety_code
        assert re.fullmatch(r"\d{4} \d{4}", code)
        await until(lambda: card.code.text() == code, what="safety code")
        assert card.values["Path"].text().startswith("Local network")
        assert not card.values["Address"].isVisible()
        window.people.addresses.setChecked(True)
        await until(lambda: card.values["Address"].text().startswith("127.0.0.1:"), what="address")

        if shots is not None:
            await asyncio.sleep(1.0)
            assert window.grab().save(str(shots / "call-people.png"))
            QTest.mouseClick(window.toolbar.chat_button, Qt.MouseButton.LeftButton)
            await asyncio.sleep(1.0)
            assert window.grab().save(str(shots / "call.png"))

        # near the room's end, a warning (once), and again after an extension comes near it
        assert me.session is not None
        ends = me.session.expires_at
        me.session.expires_at = time.time() + 200
        window._tick_clock()
        assert "ends in 3 minutes" in window.banner.text.text() and window.banner.isVisible()
        window.banner.hide()
        window._tick_clock()
        assert not window.banner.isVisible()  # said once
        me.session.expires_at = time.time() + 50
        window._tick_clock()
        assert "ends in 1 minute." in window.banner.text.text()
        me.session.expires_at = ends

        # the host goes away: its tile goes, and a banner says we try to get back in
        host.terminate()
        await until(lambda: tile_named(window, "Hana") is None, what="host tile removed")
        await until(
            lambda: window.banner.isVisible() and "getting back in" in window.banner.text.text(),
            what="notice banner",
        )

        # Leave closes the window and leaves nothing running
        # the last other person leaves: a message now reaches nobody, and the chat says so
        await other.leave()
        await until(lambda: not me.peers(), what="alone")
        window.chat.entry.setPlainText("anyone?")
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        assert "no one got this message" in window.chat.view.toPlainText()

        QTest.mouseClick(window.toolbar.leave_button, Qt.MouseButton.LeftButton)
        await until(lambda: not window.isVisible() and not me.in_call, what="window closed")
        await asyncio.sleep(0.2)
        leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
        leftover.discard(asyncio.current_task())
        assert not leftover, leftover
        assert engine_threads() == 0

    try:
        run(qloop, scenario(), 45)
    finally:
        run(qloop, me.leave(), 10)
        run(qloop, other.leave(), 10)
        host.terminate()
        host.communicate(timeout=15)
    assert window is not None and window._leaving is not None and window._leaving.done()
    chats = json.loads((tmp_path / "host.json").read_text())["chat_received"]
    assert {"name": "Me", "text": "hi from the window"}.items() <= chats[0].items()


def test_a_busy_gui_thread_does_not_hold_up_the_call(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The call runs on its own thread: while the GUI thread is busy (a heavy layout, a dialog
    opening), video and audio keep arriving and being played out."""

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        await until(lambda: bool(me.peers()), what="host in the roster")
        (host_id,) = me.peers()
        media = me.session.media if me.session else None
        assert media is not None
        await until(lambda: media.video_frames(host_id) > 5 and media.audio_frames(host_id) > 10)
        video, audio = media.video_frames(host_id), media.audio_frames(host_id)
        busy_until = time.monotonic() + 0.6
        while time.monotonic() < busy_until:  # Python work on the GUI thread, holding the GIL
            sum(range(1000))
        assert media.video_frames(host_id) - video >= 4, "video stopped while the GUI was busy"
        assert media.audio_frames(host_id) - audio >= 12, "audio stopped while the GUI was busy"

    in_call_with_host(qloop, tmp_path, scenario)


def test_a_notice_given_while_joining_shows_when_the_call_window_opens(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The app's media says "No microphone found" while the join runs, before the call window
    exists (app.ui.desktop_media.DesktopMedia -> bridge.notice): the window shows it when it
    opens."""

    async def scenario(me: Bridge, link: str) -> None:
        me.notice.emit("left over from an earlier call")
        assert await me.join(link, "Me")
        me.notice.emit("No microphone found: the others hear silence.")
        me.notice.emit("No speaker found: you will not hear the others.")
        window = CallWindow(me)
        window.show()
        try:
            assert window.banner.isVisible()
            assert window.banner.text.textFormat() == Qt.TextFormat.PlainText  # names in it
            assert window.banner.text.text() == (
                "No microphone found: the others hear silence. "
                "No speaker found: you will not hear the others."
            )
            assert len(me.call_notices) == 2
            assert window.grid.me is not None and window.grid.me.mic_on  # a microphone, on
            assert me.session is not None
            me.session.media.audio.present = lambda: False  # ...that is unplugged
            await until(lambda: not window.grid.me.mic_on, what="own tile: no microphone")  # type: ignore[union-attr]
            bar = window.toolbar
            await until(lambda: bar.mic_button.text() == "No microphone", what="no-mic button")
            assert "No microphone is connected" in bar.mic_button.toolTip()
            bar.mic_button.click()  # nothing to mute: says where a microphone would come from
            assert me.mic_on, "muted by a press that had nothing to mute"
            # (said under the notices of the join, not yet on screen long enough to be read)
            assert NO_MIC in window.banner.text.text().splitlines()
            me.session.media.audio.present = lambda: True  # plugged in again
            await until(lambda: bar.mic_button.text() == "Mute", what="the Mute button back")
            assert window.grid.me.mic_on  # type: ignore[union-attr]
            window.toolbar.chat_button.click()  # typing in the chat: the call's keys still work
            assert window.chat.isVisible()
            window.activateWindow()
            await until(lambda: window.chat.entry.hasFocus(), what="the chat entry's focus")
            QTest.keyClick(window.chat.entry, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
            assert not me.camera_on, "Ctrl+E in the chat entry did not stop the video"
            ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
            QTest.keyClick(window.chat.entry, Qt.Key.Key_P, ctrl_shift)  # the people instead
            assert window.people.isVisible() and not window.chat.isVisible()
            QTest.keyClick(window, Qt.Key.Key_C, ctrl_shift)  # and the chat again
            assert window.chat.isVisible() and window.toolbar.chat_button.isChecked()
            await until(lambda: window.chat.entry.hasFocus(), what="the chat entry again")
            QTest.keyClick(window.chat.entry, Qt.Key.Key_F11)  # full screen...
            await until(lambda: window.isFullScreen(), what="full screen")
            QTest.keyClick(window.chat.entry, Qt.Key.Key_Escape)  # ...Esc leaves it first
            await until(lambda: not window.isFullScreen(), what="out of full screen")
            assert window.chat.isVisible()
            QTest.keyClick(window.chat.entry, Qt.Key.Key_Escape)  # then puts the panel away
            assert not window.chat.isVisible()
            assert window.focusWidget() is window.toolbar.chat_button  # where it came from
            await asyncio.sleep(0.1)  # (layout) the pictures are centred: no margin kept
            grid = window.grid.geometry()  # for a panel that is not there
            assert grid.left() == 0 and grid.right() == window.width() - 1, grid
            window.resize(720, 480)  # a small window: narrower side panels, the video keeps room
            window.toolbar.people_button.click()
            await until(lambda: window.people.width() == SIDE_NARROW[1], what="narrow panel")
            if os.environ.get("PEERMEET_SHOTS_SMALL"):
                await asyncio.sleep(0.5)
                window.grab().save(os.environ["PEERMEET_SHOTS_SMALL"])
            window.resize(1280, 800)
            await until(lambda: window.people.width() == SIDE_WIDTH, what="wide panel")
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)


def test_someone_without_a_microphone_is_shown_muted_to_the_others(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """Olga's call has no microphone (none plugged in): the others hear silence, so they see
    her muted on her tile and card (they saw her unmuted); she plugs one in mid-call and they
    see her unmuted; unplugged again, muted again."""
    unplugged = [True]

    def media(loop: asyncio.AbstractEventLoop) -> LocalMedia:
        built = build_media(MediaOptions(True, 320, 240, 15, label="Olga"), loop=loop)
        built.audio.present = lambda: not unplugged[0]  # (as DesktopMedia's, no device)
        return built

    olga = Bridge(EngineConfig(display_name="Olga"), media)

    async def scenario(me: Bridge, link: str) -> None:
        assert await olga.join(link, "Olga")
        hers = CallWindow(olga)
        hers.show()
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        try:
            await until(lambda: (t := tile_named(window, "Olga")) is not None and t.frames_shown)
            tile = tile_named(window, "Olga")
            assert tile is not None
            await until(lambda: not tile.mic_on, what="Olga shown muted")
            await until(lambda: len(window.people.cards) == 2)
            (card,) = [c for c in window.people.cards.values() if c.name.full == "Olga"]
            assert "Muted" in card.media.text()
            assert olga.mic_on  # her switch stays on: a microphone plugged in is heard at once
            assert hers.toolbar.mic_button.text() == "No microphone"
            unplugged[0] = False
            await until(lambda: tile.mic_on, 5, "Olga shown unmuted once she has a microphone")
            assert hers.toolbar.mic_button.text() == "Mute"
            assert "Muted" not in card.media.text()
            unplugged[0] = True
            await until(lambda: not tile.mic_on, 5, "Olga shown muted once it is gone")
        finally:
            await hers.leave()
            await window.leave()

    try:
        in_call_with_host(qloop, tmp_path, scenario)
    finally:
        run(qloop, olga.leave(), 10)


def test_joining_with_the_microphone_and_camera_off(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The join dialog's "Join with" boxes unticked: the call starts muted and with video
    stopped, the host sees both from the start, and gets only the keep-alives of our silence
    (about 40 audio frames in 2.5 s instead of 125) and the stopped camera's one frame a second.
    The next dialog starts the same way; a one-off --muted join is not remembered. The host is
    muted, so our speaker is quiet: talking while muted gets the reminder, unmuting removes it."""
    settings = SettingsStore(tmp_path / "settings.json")

    async def scenario(me: Bridge, link: str) -> None:
        dialog = JoinDialog(me, settings, lambda: None, link, preview=False)
        dialog.name.setText("Me")
        dialog.mic_box.setChecked(False)
        dialog.cam_box.setChecked(False)
        dialog.show()
        dialog.start_join()
        await until(lambda: me.in_call and not dialog.isVisible(), what="joined")
        assert not me.mic_on and not me.camera_on
        assert me.session is not None and me.session.media.audio.muted
        assert me.joining_with_camera is False  # the desktop's media factory opens no camera
        await until(lambda: len(me.peers()) == 1, what="the host")
        await asyncio.sleep(2.5)
        saved = settings.load()  # the next join dialog starts the same way
        assert (saved.display_name, saved.join_mic, saved.join_camera) == ("Me", False, False)
        again = JoinDialog(me, settings, lambda: None, link, preview=False)
        assert not again.mic_box.isChecked() and not again.cam_box.isChecked()
        again.reject()
        saved.join_mic = saved.join_camera = True
        settings.save(saved)
        once = JoinDialog(me, settings, lambda: None, link, preview=False, muted=True)
        assert not once.mic_box.isChecked() and once.cam_box.isChecked()  # --muted, this once
        once.show()
        once.start_join()
        await until(lambda: me.in_call and not once.isVisible(), what="joined again")
        assert not me.mic_on and me.camera_on
        assert settings.load().join_mic  # a one-off --muted is not remembered
        window = CallWindow(me)
        window.show()
        await until(  # our synthetic microphone "talks"; nobody else does
            lambda: window.banner.isVisible() and window.banner.text.text() == MUTED_HINT,
            what="you-are-muted hint",
        )
        window.toggle_mic()  # unmuting puts the reminder away
        assert me.mic_on and not window.banner.isVisible()
        await window.leave()

    in_call_with_host(qloop, tmp_path, scenario, "--muted")
    rows = json.loads((tmp_path / "host.json").read_text())["peers"].values()
    first, second = sorted((row for row in rows if row["name"] == "Me"), key=lambda r: r["cam"])
    assert second["cam"] is True, second  # the --muted join (unmuted at its end)
    mine = first  # the join with both boxes unticked
    assert mine["mic"] is False and mine["cam"] is False, mine
    assert mine["audio_frames"] < 80 and mine["video_frames"] < 10, mine


def test_people_panel_shows_live_connection_figures(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        window.toolbar.people_button.click()
        await until(lambda: bool(window.people.cards), what="host card")
        assert window.people.invite.isVisible()  # the link, to invite someone else
        window.people.invite.click()
        assert QGuiApplication.clipboard().text() == link and "#k=" in link
        assert window.people.invite.text() == "Copied"
        (card,) = window.people.cards.values()
        try:
            await until(lambda: "kbit/s" in card.values["In / out"].text(), 6, "bit rates")
            await until(lambda: card.values["Round trip"].text().endswith("ms"), 6, "round trip")
            window.toolbar.people_button.click()  # closed a while, then opened again:
            await asyncio.sleep(0.3)
            people = window.people
            await until(lambda: people._task is None or people._task.done(), what="poll done")
            polls = people.polls
            window.toolbar.people_button.click()
            await until(lambda: people.polls > polls, 1.0, "figures as it opens")
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)


def test_shared_screen_shows_on_the_other_side(qloop: qasync.QEventLoop, tmp_path: Path) -> None:
    async def scenario(me: Bridge, other: Bridge, link: str) -> None:
        assert await other.join(link, "Olga")
        window = CallWindow(other)
        window.show()
        assert window.toolbar.mic_more.isHidden()  # headless media: no devices to choose
        assert await me.join(link, "Me") and me.session is not None
        mine = CallWindow(me)
        mine.show()
        my_id = me.session.my_id
        try:
            await until(lambda: len(me.peers()) >= 1, what="the others, for me")
            assert await me.share_screen(True), "could not capture the Xvfb screen"
            await until(lambda: mine.banner.isVisible(), what="the sharing notice")
            assert mine.banner.text.text() == SHARING  # (alone, it says whoever joins sees it)
            await until(lambda: window.grid.tile(my_id, "screen") is not None, what="screen tile")
            tile = window.grid.tile(my_id, "screen")
            assert tile is not None and tile.name == "Me"
            await until(lambda: tile.frames_shown > 0, 6, "screen video")
            # the sharer sees a preview of what goes out, among the people (not on the stage)
            preview = mine.grid.tiles.get(MY_SCREEN)
            assert preview is not None and preview.caption == "your screen"
            await until(lambda: preview.frames_shown > 0, 6, "own screen preview")
            await until(lambda: mine.grid.me is not None and mine.grid.me.isVisible(), what="me")
            assert preview.width() < mine.grid.width() * 0.7
            assert await me.share_screen(False) is False
            await until(lambda: window.grid.tile(my_id, "screen") is None, what="tile removed")
            await until(lambda: MY_SCREEN not in mine.grid.tiles, what="preview removed")
        finally:
            await window.leave()
            await mine.leave()

    two_with_host(qloop, tmp_path, scenario)


def test_grid_uses_the_window_shape() -> None:
    assert grid_shape(1, 1600, 900) == (1, 1)
    assert grid_shape(2, 1600, 900) == (2, 1)
    assert grid_shape(2, 600, 900) == (1, 2)
    assert grid_shape(4, 1600, 900) == (2, 2)
    assert grid_shape(16, 1600, 900) == (4, 4)
    from PySide6.QtCore import QRect

    rects = grid_rects(3, QRect(0, 0, 1200, 700))
    assert len(rects) == 3 and rects[2].center().x() == pytest.approx(600, abs=2)  # centred
    assert all(r.width() <= 1200 and r.bottom() <= 700 for r in rects)


def test_converter_only_converts_the_newest_frame() -> None:
    import time

    from app.media.synthetic import SyntheticCamera

    cam = SyntheticCamera(640, 480)
    conv = FrameConverter(lambda: None)
    frames = [cam.next_frame() for _ in range(21)]
    for frame in frames:  # far faster than the worker: most wait and get replaced
        conv.submit(frame, 320, 240)
    deadline = time.monotonic() + 5
    while conv.converted + conv.dropped < len(frames):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert conv.dropped > 0
    result = conv.take()
    assert result is not None and (result.width, result.height) == (320, 240)
    assert bytes(result.data) == bytes(convert(frames[-1], 320, 240).data)  # the newest one
    assert conv.take() is None  # taken once
    conv.close()
    conv.close()  # idempotent


def test_screen_capture_says_what_to_do_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    with pytest.raises(MediaError, match="X11 desktop"):
        ScreenCapture().open()
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    with pytest.raises(MediaError, match="Wayland"):
        ScreenCapture().open()


@pytest.mark.parametrize("width", [340, 290])  # the call window's, wide and narrow
def test_people_panel_cards_fit_the_panel_with_long_names(qtbot: QtBot, width: int) -> None:
    async def no_stats(peer_id: str) -> None:
        return None

    panel = PeerPanel(no_stats)
    qtbot.addWidget(panel)
    panel.setFixedWidth(width)
    panel.resize(width, 600)
    long = "Margaret Hamilton-Smythe the Third, Chief Engineer of Everything"
    panel.set_me(long)
    panel.add_peer("p1", long)
    panel.cards["p1"].set_state("connected", False)
    panel.show()
    qtbot.waitExposed(panel)
    card = panel.cards["p1"]
    qtbot.waitUntil(lambda: card.width() > 0, timeout=2000)
    viewport = card.parentWidget()
    assert viewport is not None and card.geometry().right() < viewport.width() + 1
    state = card.state.mapTo(panel, card.state.rect().topRight())
    assert card.state.isVisible() and state.x() <= panel.width(), state.x()  # not cut off
    assert card.name.toolTip() == f"<p>{long}</p>" and card.name.text().endswith("…")


def test_names_in_the_people_panel_are_plain_text(qtbot: QtBot) -> None:
    """A name is shown as typed, never as markup: "<b></b>Hana" must not pass for "Hana"
    next to a safety code (its tooltip too: Qt renders a tooltip that looks like HTML)."""

    async def no_stats(peer_id: str) -> None:
        return None

    panel = PeerPanel(no_stats)
    qtbot.addWidget(panel)
    panel.resize(340, 600)
    panel.add_peer("p1", "<b></b>Hana")
    panel.set_me("<u>Bo</u>")
    panel.show()
    name = panel.cards["p1"].name
    assert name.textFormat() == Qt.TextFormat.PlainText and name.text() == "<b></b>Hana"
    assert name.toolTip() == "<p>&lt;b&gt;&lt;/b&gt;Hana</p>"
    assert panel.me.textFormat() == Qt.TextFormat.PlainText and "<u>Bo</u>" in panel.me.text()
    card = panel.cards["p1"]
    assert card.media.isHidden()  # nothing to say while their microphone and camera are on
    panel.set_media("p1", mic=False, cam=False, screen=True)
    assert card.media.text() == "Muted · Camera off · Sharing screen" and not card.media.isHidden()
    assert card.values["Video"].text() == "camera off"


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


def test_losing_the_meeting_says_so_in_the_call_window(
    qloop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's computer is gone: first "lost touch… you still see and hear" (a notice that
    goes: the call goes on), then, once nobody is connected, the alone text (it stays)."""
    # a stall is seen after 1.5 s (default 3), a silent link dropped after 2 s (default 10)
    monkeypatch.setattr(roster, "Recovery", functools.partial(Recovery, stall_s=1.5))
    monkeypatch.setattr(regain, "LOST_S", 2.0)
    host, link = start_host(tmp_path / "host.json")
    me = make_bridge("Me")

    async def scenario() -> None:
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        await until(lambda: (t := tile_named(window, "Hana")) is not None and t.frames_shown > 0)
        host.kill()
        banner = window.banner
        await until(lambda: banner.text.text() == rejoin.LOST_WITH_OTHERS, 10, "lost, others")
        assert banner.isVisible() and banner._timer.isActive()  # it goes after a while
        await until(lambda: banner.text.text() == rejoin.LOST_ALONE, 15, "lost, alone")
        assert banner.isVisible() and not banner._timer.isActive()  # it stays
        await window.leave()

    try:
        run(qloop, scenario(), 40)
    finally:
        run(qloop, me.leave(), 10)
        host.kill()
        host.communicate(timeout=15)
