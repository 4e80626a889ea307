"""A window's least size that holds text: designed at the design's text size, grown with the
text size (never past the free part of the window's screen), and kept in step with a text size
chosen in Settings while the window is open (TextLeast). The home window kept the least size
it opened with: after a larger text size its cards were squeezed, My meetings' rows cut."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QWidget

from app.ui import geometry, style


def least_size(window: QWidget, design: tuple[int, int]) -> QSize:
    """``design`` (a size at the design's text size) grown for the text size now, but no larger
    than the free part of ``window``'s screen (as geometry.fit_screen has it)."""
    least = style.by_text_size(*design)
    screen = geometry.screen_of(window)
    if screen is None:
        return least
    return least.boundedTo(screen.availableGeometry().size() - QSize(0, geometry.FRAME_PX))


def text_changed(event: QEvent) -> bool:
    """The text size may have changed (app.ui.theme.set_text_size restyles every window)."""
    return event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange)


class TextLeast(QObject):
    """``window``'s least size, ``design`` at the design's text size, for the text size now:
    set at once, and again whenever the text size changes (a window smaller than its new least
    size grows to it). It watches the window's own events: the window need do nothing more."""

    def __init__(self, window: QWidget, design: tuple[int, int]) -> None:
        super().__init__(window)
        self._window, self.design = window, design
        self._scale = style.text_scale()  # (what it was set for: a window's own least size,
        window.setMinimumSize(least_size(window, design))  # set after, is kept till it changes)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and text_changed(event) and style.text_scale() != self._scale:
            self.follow()
        return False

    def follow(self) -> None:
        """The least size for the text size now."""
        self._scale = style.text_scale()
        least = least_size(self._window, self.design)
        if self._window.minimumSize() != least:
            self._window.setMinimumSize(least)
