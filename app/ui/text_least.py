"""A window's least size that holds text: designed at the design's text size, grown with the
text size (never past the free part of the window's screen), and kept in step with a text size
chosen in Settings while the window is open (TextLeast). The home window kept the least size
it opened with: after a larger text size its cards were squeezed, My meetings' rows cut; the
call window, grown for a larger text size, stayed that large when the text got smaller."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QWidget

from app.ui import geometry, style

MAXIMIZED = Qt.WindowState.WindowMaximized


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
    set at once, and again whenever the text size changes. A window smaller than its new least
    size grows to it, and gives that back when the text gets smaller again, down to the size
    it had before (it kept the larger size); a size the person chose since is kept. It watches
    the window's own events: the window need do nothing more."""

    def __init__(self, window: QWidget, design: tuple[int, int]) -> None:
        super().__init__(window)
        self._window, self.design = window, design
        self._scale = style.text_scale()  # (what it was set for: a window's own least size,
        window.setMinimumSize(least_size(window, design))  # set after, is kept till it changes)
        self._chosen = QSize()  # the size before the text made it grow (invalid: none)
        self._grown = QSize()  # the size the text made it grow to (invalid: it did not grow)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and text_changed(event) and style.text_scale() != self._scale:
            self.follow()
        return False

    def follow(self) -> None:
        """The least size for the text size now, and the window's size for it."""
        window = self._window
        self._scale = style.text_scale()
        least = least_size(window, self.design)
        if window.minimumSize() == least:
            return
        if not self._grown.isValid() or window.size() != self._grown:
            self._chosen = window.size()  # (resized since it grew, or never grown: its own)
        window.setMinimumSize(least)  # (Qt grows a smaller window to it)
        if window.windowState() & (MAXIMIZED | Qt.WindowState.WindowFullScreen):
            self._grown = QSize()  # (the window system's size, not for us to change)
            return
        wanted = self._chosen.expandedTo(least)  # (least: within the screen's free part)
        if window.size() != wanted:
            window.resize(wanted)
        self._grown = wanted if wanted != self._chosen else QSize()
