"""A video tile converts each frame once, to a size swscale handles fast, and shows it 1:1."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from app.media.synthetic import SyntheticCamera
from app.ui.frames import cover_size, fit_size
from app.ui.video_tile import VideoTile


@pytest.mark.parametrize("box_h", [200, 333, 464, 465])
def test_conversion_sizes_have_even_widths_and_still_cover_or_fit(box_h: int) -> None:
    for box_w in range(300, 660):
        w, h = cover_size(640, 480, box_w, box_h)
        assert w % 2 == 0 and w >= box_w and h >= box_h, (box_w, box_h, w, h)
        assert w <= box_w + 2 or h <= box_h + 1  # one side matches: nothing much is cropped
        w, h = fit_size(640, 480, box_w, box_h)
        assert w % 2 == 0 and w <= box_w and h <= box_h, (box_w, box_h, w, h)
        assert w >= box_w - 2 or h >= box_h - 1  # one side fills the box


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def test_tile_of_odd_width_converts_to_even_width_and_paints_pixel_for_pixel(
    qtbot: QtBot,
) -> None:
    frame = SyntheticCamera(640, 480, label="ODD").render(7, 0)
    tile = VideoTile("odd", lambda: frame)
    qtbot.addWidget(tile)
    tile.resize(619, 464)  # cover: 619.3 x 464.4 -> 620 x 464, one column cropped
    tile.show()
    qtbot.waitExposed(tile)
    if tile.devicePixelRatioF() != 1:
        pytest.skip("pixel comparison assumes a device pixel ratio of 1")
    tile.tick()
    qtbot.waitUntil(lambda: tile.frames_shown > 0 or tile._converted is not None, timeout=5000)
    converted = tile._converted
    assert converted is not None
    assert (converted.width, converted.height) == (620, 464)  # an odd 619 is 5x slower
    shown = _pixels(tile.grab().toImage())
    expected = _pixels(converted.image())[:, :619]  # the crop: column 619 left out
    middle = (slice(100, 360), slice(100, 520))  # clear of the rounded corners and name plate
    assert np.array_equal(shown[middle], expected[middle])
    tile.close_tile()


STRESS = """
import threading
from app.media.synthetic import SyntheticCamera
from app.ui.frames import FrameConverter
frames = [SyntheticCamera(640, 480).render(i, 0) for i in range(20)]
done = threading.Semaphore(0)
converters = [FrameConverter(done.release, name=f"t{k}") for k in range(3)]
for n in range(300):
    for k, converter in enumerate(converters):  # one picture, three tiles, three sizes
        converter.submit(frames[n % 20], 320 + 2 * k, 240 + 2 * k)
    for _ in converters:
        done.acquire(timeout=5)
for converter in converters:
    converter.close()
print("converted", sum(c.converted for c in converters))
"""


def test_one_picture_shown_by_several_tiles_at_once_converts_safely() -> None:
    """The same frame in two windows, or the self-view twice: each tile's converter thread
    scales it at the same time. With PyAV's per-frame swscale context this crashed the app
    (segfault; a child process here, so the crash is a failure, not the end of the run)."""
    child = subprocess.run(
        [sys.executable, "-c", STRESS], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert int(child.stdout.split()[-1]) > 300


@pytest.mark.parametrize(
    ("state", "colour"), [("reconnecting…", "WARNING"), ("connection failed", "DANGER")]
)
def test_a_connection_in_trouble_is_marked_in_colour(qtbot: QtBot, state: str, colour: str) -> None:
    """ "reconnecting…" on yellow, "connection failed" on red (it was on black, like
    "connecting…", which is no trouble)."""
    from app.ui import style

    tile = VideoTile("Olga", lambda: None)
    qtbot.addWidget(tile)
    tile.resize(400, 300)
    tile.show()
    qtbot.waitExposed(tile)
    tile.set_state(state)
    shown = _pixels(tile.grab().toImage())
    band = shown[14:18, 100:300].reshape(-1, 4)  # the pill's top, above its words
    want = QColor(getattr(style, colour))
    close = np.abs(band[:, [2, 1, 0]].astype(int) - [want.red(), want.green(), want.blue()])
    assert (close.max(axis=1) < 60).mean() > 0.3, (state, band[:5])
    tile.close_tile()


def _shown_off(qtbot: QtBot, name: str, width: int, height: int) -> tuple[VideoTile, np.ndarray]:
    """A tile with the camera off (its initials on the tile's colour), as painted."""
    tile = VideoTile(name, lambda: None)
    qtbot.addWidget(tile)
    tile.set_media(True, False)
    tile.resize(width, height)
    tile.show()
    qtbot.waitExposed(tile)
    return tile, _pixels(tile.grab().toImage())


@pytest.mark.parametrize("name", ["Maximilian Alexander von Hohenzollern", "🎉 Zoë 👩🏽‍💻"])
@pytest.mark.parametrize("width", [105, 140, 200])
def test_a_name_in_a_small_tile_ends_inside_it(qtbot: QtBot, name: str, width: int) -> None:
    """Small tiles (a narrow window with a side panel, many people): the name plate ends 10 px
    short of the right edge, the name elided (it took 70 % of the width for the name alone, so
    the plate, with its padding and microphone, ran over the edge: the name was cut off there,
    with no "…")."""
    from app.ui import style

    tile, shown = _shown_off(qtbot, name, width, 64)
    plain = QColor(style.SURFACE)
    row = shown[64 - 10 - 4, :, :3].astype(int)  # a row through the plate's lower part
    edge = row[width - 10 : width - 2, [2, 1, 0]]  # the last 10 px, short of the rounded corner
    assert (np.abs(edge - [plain.red(), plain.green(), plain.blue()]).max(axis=1) < 4).all(), edge
    assert row[12, 0] < plain.blue() - 10  # (the plate is there: darker than the tile)
    tile.close_tile()


@pytest.mark.parametrize(("width", "height"), [(105, 60), (160, 90), (240, 135), (400, 300)])
def test_the_initials_of_a_camera_off_tile_are_not_under_its_name(
    qtbot: QtBot, width: int, height: int
) -> None:
    """The initials' disc is whole, above the name plate: in a short tile (a narrow window, a
    strip beside a shared screen) it sat in the middle, and the plate hid most of it."""
    from app.ui.video_tile import _AVATAR_COLOURS

    tile, shown = _shown_off(qtbot, "Olga Petrovna", width, height)
    hue = QColor(_AVATAR_COLOURS[zlib.crc32(b"Olga Petrovna") % len(_AVATAR_COLOURS)])
    disc = (np.abs(shown[:, :, [2, 1, 0]].astype(int) - [hue.red(), hue.green(), hue.blue()])
            .max(axis=2) < 3)  # fmt: skip
    ys, xs = np.nonzero(disc)
    assert len(ys), "no initials"
    tall, wide = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
    assert abs(tall - wide) <= 2, (tall, wide)  # a whole disc, not one cut off at the plate
    assert wide >= 14
    tile.close_tile()
