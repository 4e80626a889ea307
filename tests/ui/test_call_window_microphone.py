"""The call window and the microphone, in a real call against a headless host: notices of no
microphone given while joining, the no-microphone button (and the call's keys from the chat),
someone without a microphone shown muted to the others, and joining with the microphone and
camera off (the you-are-muted reminder). Runs under Xvfb.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.media import LocalMedia
from app.meeting.settings import SettingsStore
from app.ui.bridge import Bridge
from app.ui.call_notes import MUTED_HINT, NO_MIC
from app.ui.call_window import SIDE_NARROW, SIDE_WIDTH, CallWindow
from app.ui.join_dialog import JoinDialog
from tests.ui.conftest import run, until
from tests.ui.test_call_window import in_call_with_host, tile_named


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
