"""Windows open where they were last: their size, place and maximized state, kept in Settings
(``Settings.windows``: Qt's saved geometry, base64). A screen that is gone is Qt's to handle:
``restoreGeometry`` moves a window back onto a screen that exists."""

from __future__ import annotations

import contextlib
import dataclasses

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtWidgets import QWidget

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


def fit_screen(window: QWidget, hint: QSize | None = None) -> None:
    """Open ``window`` at ``hint`` (default: its size now), but no larger than the free part of
    its screen (a laptop's 1366x768 at 125 % has room for about 1090x580), its minimum too."""
    screen = window.screen()
    wanted = hint or window.size()
    if screen is None:
        window.resize(wanted)
        return
    free = screen.availableGeometry().size() - QSize(0, FRAME_PX)
    least = window.minimumSize()
    window.setMinimumSize(least.boundedTo(free))
    window.resize(wanted.boundedTo(free))
