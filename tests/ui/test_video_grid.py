"""The video grid: your own picture floats over the others without hiding their names."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.media.synthetic import SyntheticCamera
from app.ui.video_grid import MARGIN, MY_SCREEN, VideoGrid
from app.ui.video_tile import VideoTile

LONG = "Maximiliane Wolkenstein-Rodenegg (Marketing, Innsbruck office)"


@pytest.mark.parametrize(("people", "size"), [(1, (560, 360)), (1, (720, 420))])
def test_floating_self_view_leaves_the_name_plates_readable(
    qtbot: QtBot, people: int, size: tuple[int, int]
) -> None:
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(*size)
    grid.set_me("me", lambda: frame)
    tiles = [grid.add((f"p{i}", "video"), f"{LONG} {i}", lambda: frame) for i in range(people)]
    try:
        _check(qtbot, grid, tiles)
    finally:
        grid.stop()


def _check(qtbot: QtBot, grid: VideoGrid, tiles: list[VideoTile]) -> None:
    grid.show()
    qtbot.waitExposed(grid)
    qtbot.waitUntil(lambda: grid.me is not None and grid.me.framed, timeout=2000)
    assert grid.me is not None
    me = grid.me.geometry()
    covered = 0
    for tile in tiles:
        box = tile.geometry()
        plate = tile._name_plate(QRectF(tile.rect())).deviceIndependentSize()
        plate_right = box.left() + 10 + plate.width()
        plate_top = box.bottom() - 10 - plate.height()
        beside = me.right() > box.left() and me.left() < box.right()
        if beside and me.bottom() >= plate_top and me.top() <= box.bottom() - 10:
            covered += 1
            assert plate_right < me.left(), (tile.name, plate_right, me.left())
        assert plate.width() > 60  # cut short, still there
    assert covered >= 1  # the case the test is about did come up


def test_with_more_people_your_own_picture_is_a_tile_and_covers_nobody(qtbot: QtBot) -> None:
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(720, 480)
    grid.set_me("me", lambda: frame)
    tiles = [grid.add((f"p{i}", "video"), f"P{i}", lambda: frame) for i in range(3)]
    try:
        grid.show()
        qtbot.waitExposed(grid)
        me = grid.me
        assert me is not None
        qtbot.waitUntil(lambda: me.geometry().width() > 100, timeout=2000)
        assert not me.framed
        boxes = [t.geometry() for t in (*tiles, me)]
        for i, a in enumerate(boxes):
            assert all(not a.intersects(b) for b in boxes[i + 1 :]), boxes
    finally:
        grid.stop()


def test_a_double_clicked_tile_takes_the_stage_and_goes_back(qtbot: QtBot) -> None:
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(1200, 700)
    grid.set_me("me", lambda: frame)
    tiles = [grid.add((f"p{i}", "video"), f"P{i}", lambda: frame) for i in range(3)]
    try:
        grid.show()
        qtbot.waitExposed(grid)
        qtbot.waitUntil(lambda: tiles[0].width() > 100, timeout=2000)
        even = {t.width() for t in tiles}
        assert len(even) == 1  # a grid of equals
        qtbot.mouseDClick(tiles[2], Qt.MouseButton.LeftButton)
        assert grid.spotlight == ("p2", "video")
        qtbot.waitUntil(lambda: tiles[2].width() > 2 * tiles[0].width(), timeout=2000)
        assert tiles[2]._fit and not tiles[0]._fit  # the stage shows the whole picture
        assert tiles[0].width() == tiles[1].width() == grid.me.width()  # type: ignore[union-attr]
        boxes = [t.geometry() for t in (*tiles, grid.me)]  # nobody covers anybody
        for i, a in enumerate(boxes):
            assert all(not a.intersects(b) for b in boxes[i + 1 :]), boxes
        qtbot.mouseDClick(tiles[2], Qt.MouseButton.LeftButton)  # back to the grid
        qtbot.waitUntil(lambda: tiles[2].width() == tiles[0].width(), timeout=2000)
        grid.toggle_spotlight(("p1", "video"))
        grid.add(MY_SCREEN, "me", lambda: None)  # our own preview: the stage is kept
        assert grid.spotlight == ("p1", "video")
        grid.add(("p1", "screen"), "Bob", lambda: None)  # the one on the stage shares
        assert grid.spotlight == ("p1", "screen")  # their screen takes the stage
        grid.add(("p0", "screen"), "Ann", lambda: None)  # someone else shares: theirs too
        assert grid.spotlight is None  # (screens share the stage)
        grid.toggle_spotlight(("p1", "screen"))
        grid.remove(("p1", "screen"))
        assert grid.spotlight is None
        grid.toggle_spotlight(("p1", "video"))
        grid.remove(("p1", "video"))  # whoever is on the stage leaves: back to the grid
        assert grid.spotlight is None
    finally:
        grid.stop()


def test_a_double_clicked_shared_screen_fills_the_grid_and_goes_back(qtbot: QtBot) -> None:
    """A shared screen is on the stage already: double-clicking it (to read it) changed
    nothing. It now takes the whole grid, the people out of the way; again, and they are back."""
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(1000, 640)
    grid.set_me("me", lambda: frame)
    faces = [grid.add((f"p{i}", "video"), f"P{i}", lambda: frame) for i in range(2)]
    screen = grid.add(("p1", "screen"), "P1", lambda: frame)
    try:
        grid.show()
        qtbot.waitExposed(grid)
        qtbot.waitUntil(lambda: screen.width() > 100, timeout=2000)
        beside = screen.geometry()
        everyone = [*faces, grid.me]
        assert all(t is not None and t.isVisible() for t in everyone)
        qtbot.mouseDClick(screen, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: screen.width() > beside.width(), timeout=2000)
        assert screen.width() >= grid.width() - 2 * MARGIN - 1 or screen.height() == grid.height()
        assert not any(t is not None and t.isVisible() for t in everyone)
        qtbot.mouseDClick(screen, Qt.MouseButton.LeftButton)  # back
        qtbot.waitUntil(lambda: screen.geometry() == beside, timeout=2000)
        assert all(t is not None and t.isVisible() for t in everyone)
        grid.toggle_spotlight(("p1", "screen"))
        qtbot.waitUntil(lambda: not faces[0].isVisible(), timeout=2000)
        grid.remove(("p1", "screen"))  # they stop sharing: everyone is back
        grid.remove(("p0", "video"))  # (one other left: my picture floats over theirs)
        qtbot.waitUntil(lambda: grid.me is not None and grid.me.framed, timeout=2000)
        assert all(t.isVisible() for t in (faces[1], grid.me))
    finally:
        grid.stop()


def test_in_a_small_window_the_people_sit_under_a_shared_screen(qtbot: QtBot) -> None:
    """A narrow grid (a small window with a side panel open) puts the people in a row under
    the shared screen, which keeps the width (beside it, a 180 px strip left the screen about
    as small as a face); a wide grid keeps them in a column beside it."""
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(406, 420)
    grid.set_me("me", lambda: frame)
    grid.add(("p0", "video"), "Ann", lambda: frame)
    grid.add(("p1", "video"), "Bob", lambda: frame)
    screen = grid.add(("p1", "screen"), "Bob", lambda: frame)
    try:
        grid.show()
        qtbot.waitExposed(grid)
        qtbot.waitUntil(lambda: screen.width() > 100, timeout=2000)
        assert screen.width() >= 0.9 * (406 - 2 * MARGIN), screen.geometry()
        faces = [t for k, t in grid.tiles.items() if k[1] == "video"] + [grid.me]
        for face in faces:
            assert face is not None and face.isVisible()
            assert face.y() > screen.geometry().bottom(), (face.geometry(), screen.geometry())
        grid.resize(1200, 700)
        qtbot.waitUntil(lambda: faces[0].x() > screen.geometry().right(), timeout=2000)  # type: ignore[union-attr]
    finally:
        grid.stop()


def test_a_tile_by_keyboard_and_screen_reader(qtbot: QtBot) -> None:
    """Tab reaches a picture and Enter puts it on the stage (as a double click); a screen
    reader hears whose it is and what is off."""
    frame = SyntheticCamera(320, 240).render(0, 0)
    grid = VideoGrid(lambda _peer: 0.0)
    qtbot.addWidget(grid)
    grid.resize(1000, 600)
    grid.set_me("Me", lambda: frame)
    tile = grid.add(("p1", "video"), "Hana", lambda: frame)
    grid.add(("p2", "video"), "Olga", lambda: frame)
    try:
        grid.show()
        qtbot.waitExposed(grid)
        assert tile.accessibleName() == "Hana"
        tile.set_media(False, False)
        tile.set_state("reconnecting…")
        assert tile.accessibleName() == "Hana, muted, camera off, reconnecting…"
        assert grid.me is not None and grid.me.accessibleName() == "Me, you"
        grid.me.set_media(False, True)
        assert grid.me.accessibleName() == "Me, you, muted"
        assert grid.me.focusPolicy() == Qt.FocusPolicy.NoFocus  # (it never takes the stage)
        assert tile.focusPolicy() == Qt.FocusPolicy.TabFocus
        QTest.keyClick(tile, Qt.Key.Key_Return)
        assert grid.spotlight == ("p1", "video")
        QTest.keyClick(tile, Qt.Key.Key_Space)  # and back
        assert grid.spotlight is None
    finally:
        grid.stop()
