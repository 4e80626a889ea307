"""Sharing the screen in the call window, in real calls over loopback (under Xvfb)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import qasync
import shiboken6
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.media.screen import ScreenCapture
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.share_control import ANY_SCREEN
from app.ui.video_grid import MY_SCREEN
from tests.conftest import SpareDisplay
from tests.ui.conftest import until
from tests.ui.test_call_window import in_call_with_host
from tests.xmonitors import set_monitors


def test_a_share_whose_screen_goes_away_ends_and_the_sharer_is_told(
    qloop: qasync.QEventLoop, tmp_path: Path, spare_display: SpareDisplay, qtbot: QtBot
) -> None:
    """The display went away mid-share: the button still said "Stop sharing", the preview
    and everyone else showed the test pattern, and nothing was said. The sharer is usually
    in another window: the taskbar entry asks for attention, and the notice stays (it went
    after 10 s, likely before they came back)."""
    elsewhere = QWidget()  # (the window the sharer works in)
    qtbot.addWidget(elsewhere)

    async def scenario(me: Bridge, link: str) -> None:
        me.screen_source = lambda: ScreenCapture(display=spare_display.name)
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        bar = window.toolbar
        alerts: list[QWidget] = []
        window.share.alert = alerts.append
        try:
            await until(lambda: len(me.peers()) >= 1, what="the host")
            bar.share_button.click()
            await until(lambda: me.sharing_screen and bar.share_button.isEnabled(), what="sharing")
            assert bar.share_button.isChecked() and bar.share_button.text() == "Stop sharing"
            await until(lambda: MY_SCREEN in window.grid.tiles, what="the preview")
            elsewhere.show()
            elsewhere.activateWindow()
            await until(lambda: not window.isActiveWindow(), what="another window in front")
            assert not alerts  # (starting the share asked for nothing)

            spare_display.take_away()
            await until(lambda: not me.sharing_screen, 5, "the share ended")
            await until(lambda: MY_SCREEN not in window.grid.tiles, what="preview removed")
            assert not bar.share_button.isChecked() and bar.share_button.text() == "Share screen"
            said = window.banner.text.text()
            assert window.banner.isVisible() and "could no longer be captured" in said, said
            assert "Share your screen again" in said
            assert alerts == [window] and not window.banner._timer.isActive(), "notice fades"
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)


def test_with_two_monitors_the_one_picked_is_shared(
    qloop: qasync.QEventLoop, tmp_path: Path, qtbot: QtBot
) -> None:
    """Two monitors side by side were shared as one wide picture squeezed to 1280 px (too
    small to read): the Share button asks which one. Xvfb has one screen, so its two halves
    stand in for the monitors; a red square is on the right one."""
    red = QWidget()
    red.setStyleSheet("background: #ff0000")
    red.setGeometry(1350, 200, 200, 300)  # (right of the call window)
    qtbot.addWidget(red)
    red.show()
    halves = [("Screen 1: left (800×1000)", (0, 0, 800, 1000))]
    halves.append(("Screen 2: right (800×1000)", (800, 0, 800, 1000)))

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        default = me.screen_source
        window = CallWindow(me)
        window.share.monitors = lambda: halves
        window.show()
        bar = window.toolbar
        try:
            await until(lambda: len(me.peers()) >= 1, what="the host")
            bar.share_button.click()
            menu = window.share.menu
            assert menu is not None and menu.isVisible() and not me.sharing_screen
            texts = [a.text() for a in menu.actions() if a.text()]
            assert texts == ["Share which screen?", *(t for t, _ in halves), ANY_SCREEN]
            assert not bar.share_button.isChecked()  # (nothing shared until one is picked)
            menu.close()  # changed one's mind: nothing happens
            await asyncio.sleep(0.3)
            assert not me.sharing_screen and not bar.share_button.isChecked()
            bar.share_button.click()
            assert window.share.menu is not None and window.share.menu is not menu
            await until(lambda: not shiboken6.isValid(menu), what="the first menu deleted")
            (right,) = [a for a in window.share.menu.actions() if "right" in a.text()]
            right.trigger()
            await until(lambda: me.sharing_screen and bar.share_button.isEnabled(), what="shared")
            assert me.screen_source is default  # (for the next share: asked again)
            await until(lambda: me.local_screen_frame() is not None, what="a picture")
            frame = me.local_screen_frame()
            assert (frame.width, frame.height) == (800, 1000)  # one monitor, at its own size
            rgb = frame.to_ndarray(format="rgb24")
            r, g, b = (int(v) for v in rgb[350, 650])  # (1450, 350) on the whole screen
            assert r > 200 and g < 60 and b < 60, (r, g, b)  # the red square, on the right
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)


def test_a_monitor_of_a_scaled_desktop_is_grabbed_where_it_is(spare_display: SpareDisplay) -> None:
    """On a scaled desktop (HiDPI: Qt's device pixel ratio 2) the monitor on the right was
    asked of x11grab at twice its X position, off the screen: sharing it failed. Qt gives a
    screen's position in X's pixels already, and only its size scaled."""
    unset = set_monitors(
        spare_display.name, [("LEFT", 0, 0, 320, 400), ("RIGHT", 320, 0, 320, 400)]
    )
    env = os.environ | {"DISPLAY": spare_display.name, "QT_SCALE_FACTOR": "2"}
    env["QT_QPA_PLATFORM"] = "xcb"
    code = (
        "import json; from PySide6.QtWidgets import QApplication; app = QApplication([]); "
        "from app.ui.share_control import monitors; print(json.dumps(monitors()))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=Path(__file__).parents[2],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        found = {text.split()[2]: tuple(region) for text, region in json.loads(done.stdout)}
        assert found.keys() >= {"LEFT", "RIGHT"}, found  # ("Screen 1: LEFT (320×400)")
        assert found["LEFT"] == (0, 0, 320, 400) and found["RIGHT"] == (320, 0, 320, 400), found
        capture = ScreenCapture(display=spare_display.name, region=found["RIGHT"])
        try:
            capture.open()  # (at the wrong place: "Could not capture the screen …")
            assert (capture.width, capture.height) == (320, 400)
        finally:
            capture.close()
    finally:
        unset()
