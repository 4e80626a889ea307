"""The call window's sizes that hold text: its least size and its side panels' width. They grow
with the text size, and follow it when Settings changes it during the call (follow_text_size):
they had kept the size the window opened with until it was opened again."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QWidget

from app.ui import geometry, style

SIDE_WIDTH = 340
SIDE_NARROW = (1000, 290)  # below this window width, the side panels are this wide
LEAST = (720, 480)  # the window's least size (all three: at the design's text size)


def side_width(window_width: int) -> int:
    """The side panels' width in a window this wide: narrower in a narrow window (the video
    keeps most room), wider with larger text (at 150 % their words were cut at the right)."""
    below, narrow = SIDE_NARROW
    return style.by_text(narrow if window_width < style.by_text(below) else SIDE_WIDTH)


def least_size(window: QWidget) -> QSize:
    """The least size that shows the toolbar's words whole at the text size now, but no
    larger than the free part of the window's screen (as geometry.fit_screen has it)."""
    least = style.by_text_size(*LEAST)
    screen = geometry.screen_of(window)
    if screen is None:
        return least
    return least.boundedTo(screen.availableGeometry().size() - QSize(0, geometry.FRAME_PX))


def text_changed(event: QEvent) -> bool:
    """The text size may have changed (app.ui.theme.set_text_size restyles every window)."""
    return event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange)


def follow_text_size(window: QWidget, panels: Iterable[QWidget]) -> None:
    """``window``'s least size and its side ``panels``' width for the text size now (a
    window smaller than its new least size grows to it)."""
    least = least_size(window)
    if window.minimumSize() != least:
        window.setMinimumSize(least)
    fit_panels(window.width(), panels)


def fit_panels(window_width: int, panels: Iterable[QWidget]) -> None:
    side = side_width(window_width)
    for panel in panels:
        if panel.width() != side:
            panel.setFixedWidth(side)
