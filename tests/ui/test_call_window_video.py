"""The call window's video: a shared screen shown on the other side (and the sharer's preview),
the grid's shape, the frame converter keeping only the newest frame, and screen capture
without a display. Runs under Xvfb.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import qasync

from app.errors import MediaError
from app.media.screen import ScreenCapture
from app.ui.bridge import Bridge
from app.ui.call_notes import SHARING
from app.ui.call_window import CallWindow
from app.ui.frames import FrameConverter, convert
from app.ui.video_grid import MY_SCREEN, grid_rects, grid_shape
from tests.ui.conftest import until
from tests.ui.test_call_window import two_with_host


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
