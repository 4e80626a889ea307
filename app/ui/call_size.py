"""The call window's sizes that hold text: its least size (LEAST, kept for the text size by
app.ui.text_least) and its side panels' width. They grow with the text size, and follow it when
Settings changes it during the call: they had kept the size the window opened with until it
was opened again."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QWidget

from app.ui import style

SIDE_WIDTH = 340
SIDE_NARROW = (1000, 290)  # below this window width, the side panels are this wide
LEAST = (720, 480)  # the window's least size (all three: at the design's text size)


def side_width(window_width: int) -> int:
    """The side panels' width in a window this wide: narrower in a narrow window (the video
    keeps most room), wider with larger text (at 150 % their words were cut at the right)."""
    below, narrow = SIDE_NARROW
    return style.by_text(narrow if window_width < style.by_text(below) else SIDE_WIDTH)


def fit_panels(window_width: int, panels: Iterable[QWidget]) -> None:
    side = side_width(window_width)
    for panel in panels:
        if panel.width() != side:
            panel.setFixedWidth(side)
