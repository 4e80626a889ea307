"""Windows open where they were last: their size, place and maximized state, kept in Settings
(``Settings.windows``: Qt's saved geometry, base64). A screen that is gone is Qt's to handle:
``restoreGeometry`` moves a window back onto a screen that exists."""

from __future__ import annotations

import contextlib
import dataclasses

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QFrame, QLayout, QScrollArea, QVBoxLayout, QWidget

from app.errors import StorageError
from app.meeting.settings import SettingsStore


def restore(window: QWidget, settings: SettingsStore, name: str) -> bool:
    """Put ``window`` where the window ``name`` was last; False if it never was (kept as is)."""
    saved = settings.load().windows.get(name)
    if not saved:
        return False
    done = window.restoreGeometry(QByteArray.fromBase64(saved.encode("ascii", "replace")))
    full = Qt.WindowState.WindowFullScreen  # (left in full screen: opens in a window again)
    window.setWindowState(window.windowState() & ~full)
    return bool(done)


def keep(window: QWidget, settings: SettingsStore, name: str) -> None:
    """Remember where ``window`` is, as ``name`` (not saved: it opens at its default next time)."""
    geometry = bytes(window.saveGeometry().toBase64().data()).decode("ascii")
    now = settings.load()
    if now.windows.get(name) == geometry:
        return
    with contextlib.suppress(StorageError):
        settings.save(dataclasses.replace(now, windows={**now.windows, name: geometry}))


FRAME_PX = 48  # what a window manager's title bar and borders take, about


def screen_of(window: QWidget) -> QScreen | None:
    """The screen ``window`` (a top-level window) is on: the one under its middle, else the
    primary one (what ``QWidget.screen()`` answers, on one screen or several side by side).

    Never ``window.screen()``: PySide's return-value heuristic makes the QScreen's wrapper a
    child of the window's wrapper, and it moves to whichever window asked last. When two
    windows that asked are collected in one pass of the cycle collector, the screen's wrapper
    is given ownership of the C++ QScreen and deletes it: the application's only screen is
    gone, and the next window hidden or destroyed crashes (QXcbWindow::hide, null screen).
    The static functions here create no such link."""
    screen = QGuiApplication.screenAt(window.geometry().center())
    return screen if screen is not None else QGuiApplication.primaryScreen()


def fit_screen(window: QWidget, hint: QSize | None = None) -> None:
    """Open ``window`` at ``hint`` (default: its size now), but no larger than the free part of
    its screen (a laptop's 1366x768 at 125 % has room for about 1090x580), its minimum too."""
    screen = screen_of(window)
    wanted = hint or window.size()
    if screen is None:
        window.resize(wanted)
        return
    free = screen.availableGeometry().size() - QSize(0, FRAME_PX)
    least = window.minimumSize()
    window.setMinimumSize(least.boundedTo(free))
    window.resize(wanted.boundedTo(free))


class ScrollingBody:
    """``window`` laid out as a body (``layout``) over a row of buttons: on a screen too short
    for all of it, the body scrolls and the buttons stay in view. ``fit()`` sizes the window
    for what the body shows now (it grows, never shrinks), within the screen."""

    def __init__(self, window: QWidget, layout: QVBoxLayout, buttons: QLayout) -> None:
        self.window, self.layout, self.buttons = window, layout, buttons
        self.body = QWidget()
        self.body.setLayout(layout)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.body)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # (it took the keyboard when the window opened, and it takes no text: a paste was
        # lost; Tab to a field out of view still scrolls it into view)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        outer = QVBoxLayout(window)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.scroll, 1)
        buttons.setSpacing(10)  # (else it takes the outer layout's 0)
        outer.addLayout(buttons)
        # the buttons end where the body does: short of the scroll bar, while it shows (they
        # stood out past the body's right edge by its width)
        self._right = buttons.contentsMargins().right()
        self.scroll.verticalScrollBar().rangeChanged.connect(self._make_room)

    def _make_room(self, least: int, most: int) -> None:
        bar = self.scroll.verticalScrollBar()
        margins = self.buttons.contentsMargins()
        margins.setRight(self._right + (bar.sizeHint().width() if most > least else 0))
        self.buttons.setContentsMargins(margins)

    def wanted(self) -> QSize:
        """The size that shows all of the body and the buttons (no less than the window's
        now), as wide as the screen at most; it may be taller than the screen."""
        window, body, layout = self.window, self.body, self.layout
        layout.activate()  # (its hint is stale right after a change)
        shown = window.size() if window.isVisible() else QSize()
        width = max(shown.width(), window.minimumWidth(), body.sizeHint().width())
        if (screen := screen_of(window)) is not None:  # (the height for the width it will get:
            width = min(width, screen.availableGeometry().width())  # fit_screen's at most)
        high = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else 0
        high = max(high, body.sizeHint().height(), body.minimumSizeHint().height())
        high += self.buttons.sizeHint().height() + 4  # (4: between them, rounded up)
        return QSize(width, high).expandedTo(shown)

    def fit(self) -> None:
        wanted = self.wanted()
        self.scroll.setMinimumWidth(self.body.minimumSizeHint().width())
        fit_screen(self.window, wanted)


class ColumnScroll(QScrollArea):
    """A scroll area that scrolls only up and down, asking for the width its content needs at
    least (a plain one asks for next to none, so a narrow window cut its content off at the
    right, with no scroll bar across to reach it)."""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidgetResizable(True)
        self.setWidget(content)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Its content laid out anew (rows added, or styled once shown): the width it needs
        may have changed, and its own window's layout keeps the width asked for before (a
        meeting started in a narrow window had its row cut off at the right)."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        """As tall as its content is now (a scroll area keeps the size hint its content had
        when first asked, rows or none: the home window took it for what My meetings needs)."""
        hint, content = super().sizeHint(), self.widget()
        if content is None:
            return hint
        return QSize(hint.width(), content.sizeHint().height() + 2 * self.frameWidth())

    def minimumSizeHint(self) -> QSize:
        hint, content = super().minimumSizeHint(), self.widget()
        if content is None:
            return hint
        bar = self.verticalScrollBar().sizeHint().width()  # (room for it, shown or not)
        width = content.minimumSizeHint().width() + 2 * self.frameWidth() + bar
        return QSize(max(hint.width(), width), hint.height())
