"""A tile's name plate reads the way the name does: a right-to-left name (Hebrew, Arabic) has
its microphone badge at the right, where it starts, and its text never runs under the badge,
whichever way it reads, mixed or cut short. Checked on the tile as painted (widget.grab())."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui import style, theme
from app.ui.name_plate import reads_right_to_left
from app.ui.video_tile import VideoTile

LONG_ARABIC = "محمد عبد الرحمن بن عبد الله الفلاني العربي"
NAMES = [  # (name, caption, reads from the right)
    ("שרה כהן", "", True),
    ("محمد", "", True),
    (LONG_ARABIC, "", True),  # cut short: "…" at its left end, away from the badge
    ("Sara שרה כהן", "", False),  # mixed: its first letter says which way
    ("שרה Sara", "", True),
    ("Olga Petrovna", "", False),
    ("מיכל", "you", True),  # our own tile: "(you)" after the name, to its left
    ("Olga", "you", False),
]
GAP = 3  # px at least between the name's letters and the badge, or the plate's ends


@pytest.fixture(params=[100, 150])
def text_size(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[int]:
    theme.set_text_size(qapp, request.param)
    try:
        yield request.param
    finally:
        theme.set_text_size(qapp, 100)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def _tile(qtbot: QtBot, name: str, caption: str, mic: bool, width: int = 320) -> VideoTile:
    tile = VideoTile(name, lambda: None)
    qtbot.addWidget(tile)
    tile.set_caption(caption)
    tile.set_media(mic, False)
    tile.resize(width, 180)
    tile.show()
    qtbot.waitExposed(tile)
    return tile


def _columns(mask: np.ndarray) -> tuple[int, int]:
    xs = np.nonzero(mask.any(axis=0))[0]
    assert len(xs), "nothing of it painted"
    return int(xs.min()), int(xs.max())


@pytest.mark.parametrize(("name", "caption", "rtl"), NAMES)
def test_the_name_stays_clear_of_the_muted_badge(
    qtbot: QtBot, text_size: int, name: str, caption: str, rtl: bool
) -> None:
    tile = _tile(qtbot, name, caption, mic=False)
    if tile.devicePixelRatioF() != 1:
        pytest.skip("pixel positions assume a device pixel ratio of 1")
    shown = _pixels(tile.grab().toImage())
    plate = tile._plate.deviceIndependentSize()
    top = tile.height() - 10 - round(plate.height())
    band = shown[top : top + round(plate.height()), :, :].astype(int)  # the plate's rows
    b, g, r = band[..., 0], band[..., 1], band[..., 2]
    red = (r > 180) & (g < 120) & (b < 120)  # the muted badge's disc
    disc = _columns(red)
    letters = (np.minimum(np.minimum(r, g), b) > 140) & (np.ptp(band[..., :3], axis=2) < 40)
    letters[:, disc[0] : disc[1] + 1] = False  # (the microphone drawn on the disc)
    text = _columns(letters)
    left, right = 10, 10 + round(plate.width()) - 1  # the plate's ends
    if rtl:  # the badge at the right, where the name starts; the name to its left
        assert text[1] + GAP < disc[0], (name, text, disc)
        assert disc[1] <= right and text[0] >= left + GAP, (name, text, disc, right)
    else:
        assert disc[1] + GAP < text[0], (name, text, disc)
        assert disc[0] >= left and text[1] <= right - GAP, (name, text, disc, right)
    tile.close_tile()


@pytest.mark.parametrize("mic", [False, True])
@pytest.mark.parametrize("width", [320, 180])  # (180: every long name cut short)
def test_the_text_box_holds_the_ink_and_not_the_badge(
    qtbot: QtBot, text_size: int, mic: bool, width: int
) -> None:
    for name, caption, rtl in NAMES:
        tile = _tile(qtbot, name, caption, mic, width)
        tile.grab()  # (painted: laid out)
        layout = tile.plate
        assert layout is not None and layout.icon is not None
        assert layout.rtl == rtl == reads_right_to_left(name)
        assert not layout.text_box.intersects(layout.icon), (name, layout)
        if rtl:
            assert layout.icon.left() > layout.text_box.right()
        else:
            assert layout.icon.right() < layout.text_box.left()
        font = style.font(9, bold=True)  # (a tile 180 px high: the small plate)
        ink = QFontMetricsF(font).tightBoundingRect(layout.text)
        assert layout.run.left() + ink.left() >= layout.text_box.left() - 0.5, name
        assert layout.run.left() + ink.right() <= layout.text_box.right() + 0.5, name
        assert QRectF(0, 0, layout.width, layout.height).contains(layout.text_box), name
        assert layout.width + 20 <= width  # 10 px from either edge of the tile
        if width == 320 and name != LONG_ARABIC:
            assert name in layout.text  # (room for all of it)
        if caption:
            assert layout.text.endswith(f" ({caption})"), layout.text  # kept whole
        tile.close_tile()
