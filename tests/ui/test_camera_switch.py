"""Turning the camera off and on again in a real call, as the others see it (under Xvfb)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import qasync

from app.ui.call_window import CallWindow
from tests.ui.conftest import run, until
from tests.ui.test_call_window import make_bridge, start_host


def black(frame: av.VideoFrame | None) -> bool:
    if frame is None:
        return False
    luma = frame.to_ndarray(format="yuv420p")[: frame.height]
    return float(luma.mean()) < 30


def test_a_camera_turned_back_on_shows_neither_its_old_picture_nor_black(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """Someone turned their camera back on: the others saw the picture from before it went
    off (frozen), then black (what is sent while it is off) until new pictures came; with a
    real camera, which takes a moment to open, that was a black tile. Now their tile keeps
    the initials until a new picture comes."""
    host, link = start_host(tmp_path / "host.json")
    me, other = make_bridge("Me"), make_bridge("Olga")

    async def scenario() -> None:
        assert await other.join(link, "Olga")
        window = CallWindow(other)
        window.show()
        assert await me.join(link, "Me") and me.session is not None
        my_id = me.session.my_id
        await until(lambda: window.grid.tile(my_id) is not None, what="my tile")
        tile = window.grid.tile(my_id)
        assert tile is not None
        #: the moment the camera comes back on: whether the tile shows a picture, and whether
        #: the newest frame it would show next is black
        on_at_once: list[tuple[bool, bool]] = []
        other.peerMedia.connect(  # (after the window's own slot: connected later)
            lambda peer, mic, cam, screen: (
                on_at_once.append((tile.showing_video, black(other.remote_frame(my_id))))
                if peer == my_id and cam
                else None
            )
        )
        try:
            for _ in range(2):
                await until(lambda: tile.frames_shown > 3 and tile.showing_video, what="video")
                me.set_camera(False)
                await until(lambda: not tile.cam_on, what="camera off")
                await asyncio.sleep(1.5)  # (black is sent meanwhile)
                on_at_once.clear()
                me.set_camera(True)
                await until(lambda: tile.cam_on, what="camera on")
                assert on_at_once == [(False, False)], "the old picture, or black, showed"
                await until(lambda: tile.showing_video, what="the new pictures")
        finally:
            await window.leave()

    try:
        run(qloop, scenario(), 40)
    finally:
        run(qloop, me.leave(), 10)
        run(qloop, other.leave(), 10)
        host.terminate()
        host.communicate(timeout=15)
