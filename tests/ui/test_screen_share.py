"""Sharing the screen in the call window, in real calls over loopback (under Xvfb)."""

from __future__ import annotations

from pathlib import Path

import qasync

from app.media.screen import ScreenCapture
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.video_grid import MY_SCREEN
from tests.conftest import SpareDisplay
from tests.ui.conftest import until
from tests.ui.test_call_window import in_call_with_host


def test_a_share_whose_screen_goes_away_ends_and_the_sharer_is_told(
    qloop: qasync.QEventLoop, tmp_path: Path, spare_display: SpareDisplay
) -> None:
    """The display went away mid-share: the button still said "Stop sharing", the preview
    and everyone else showed the test pattern, and nothing was said."""

    async def scenario(me: Bridge, link: str) -> None:
        me.screen_source = lambda: ScreenCapture(display=spare_display.name)
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        bar = window.toolbar
        try:
            await until(lambda: len(me.peers()) >= 1, what="the host")
            bar.share_button.click()
            await until(lambda: me.sharing_screen and bar.share_button.isEnabled(), what="sharing")
            assert bar.share_button.isChecked() and bar.share_button.text() == "Stop sharing"
            await until(lambda: MY_SCREEN in window.grid.tiles, what="the preview")

            spare_display.take_away()
            await until(lambda: not me.sharing_screen, 5, "the share ended")
            await until(lambda: MY_SCREEN not in window.grid.tiles, what="preview removed")
            assert not bar.share_button.isChecked() and bar.share_button.text() == "Share screen"
            said = window.banner.text.text()
            assert window.banner.isVisible() and "could no longer be captured" in said, said
            assert "Share your screen again" in said
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)
