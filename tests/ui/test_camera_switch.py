"""Turning the camera off and on again in a real call, as the others see it (under Xvfb)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import qasync

from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from tests.ui.conftest import until
from tests.ui.test_call_window import in_call_with_host, two_with_host


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

    async def scenario(me: Bridge, other: Bridge, link: str) -> None:
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

    two_with_host(qloop, tmp_path, scenario)


def test_my_own_picture_is_not_black_when_i_turn_my_camera_back_on(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """My own tile showed black (sent to the others while the camera was off) from the moment
    I turned the camera back on until the camera gave its first picture."""

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        mine = window.grid.me
        assert mine is not None
        try:
            for _ in range(2):
                await until(lambda: mine.frames_shown > 3 and mine.showing_video, what="video")
                window.toggle_camera()
                await until(lambda: not mine.cam_on, what="camera off")
                await asyncio.sleep(1.5)  # (black is sent meanwhile)
                assert not black(me.local_frame())
                window.toggle_camera()
                assert mine.cam_on and not black(me.local_frame()), "my picture was black"
                await until(lambda: mine.showing_video, what="my new pictures")
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)
