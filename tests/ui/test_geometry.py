"""Windows open where they were last (app.ui.geometry): size, place, maximized."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.settings import Settings, SettingsStore
from app.ui import geometry


def test_a_window_opens_where_it_was_last(qtbot: QtBot, tmp_path: Path) -> None:
    settings = SettingsStore(tmp_path / "settings.json")
    first = QWidget()
    qtbot.addWidget(first)
    assert not geometry.restore(first, settings, "call")  # never kept: left as it is
    first.setGeometry(120, 90, 900, 640)
    first.show()
    qtbot.waitExposed(first)
    geometry.keep(first, settings, "call")
    assert set(SettingsStore(settings.path).load().windows) == {"call"}
    second = QWidget()
    qtbot.addWidget(second)
    assert geometry.restore(second, settings, "call")
    assert (second.width(), second.height()) == (900, 640)


def test_a_damaged_saved_geometry_is_ignored(qtbot: QtBot, tmp_path: Path) -> None:
    settings = SettingsStore(tmp_path / "settings.json")
    settings.save(Settings(windows={"call": "not base64 at all ✗"}))
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(700, 500)
    assert not geometry.restore(window, settings, "call")
    assert (window.width(), window.height()) == (700, 500)


def test_a_window_left_in_full_screen_opens_in_a_window(qtbot: QtBot, tmp_path: Path) -> None:
    settings = SettingsStore(tmp_path / "settings.json")
    first = QWidget()
    qtbot.addWidget(first)
    first.showFullScreen()
    qtbot.waitExposed(first)
    geometry.keep(first, settings, "call")
    second = QWidget()
    qtbot.addWidget(second)
    assert geometry.restore(second, settings, "call")
    assert not second.isFullScreen()


def test_a_window_opens_no_larger_than_the_free_part_of_its_screen(qtbot: QtBot) -> None:
    """A laptop's 1366x768 at 125 % has room for about 1090x580: a window (and its minimum)
    wanting more opens within it, so its buttons are not off the screen."""
    window = QWidget()
    qtbot.addWidget(window)
    window.setMinimumSize(5000, 4000)
    geometry.fit_screen(window, QSize(6000, 5000))
    free = geometry.screen_of(window).availableGeometry()
    assert window.width() <= free.width() and window.height() <= free.height() - 40
    assert window.minimumWidth() <= free.width()
    window.setMinimumSize(200, 100)
    geometry.fit_screen(window, QSize(400, 300))  # what fits is kept as asked
    assert (window.width(), window.height()) == (400, 300)


def test_a_body_taller_than_the_screen_scrolls_and_the_buttons_stay(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    body, buttons = QVBoxLayout(), QHBoxLayout()
    body.setContentsMargins(28, 24, 28, 8)  # (as the dialogs' are)
    buttons.setContentsMargins(28, 8, 28, 24)
    tall = QWidget()
    tall.setMinimumHeight(3000)
    body.addWidget(tall)
    button = QPushButton("Save")
    buttons.addStretch()
    buttons.addWidget(button)
    scrolling = geometry.ScrollingBody(window, body, buttons)
    scrolling.fit()
    window.show()
    qtbot.waitExposed(window)
    free = geometry.screen_of(window).availableGeometry()
    assert window.height() <= free.height()
    assert window.rect().contains(button.geometry())  # in view, not below the screen
    assert scrolling.scroll.verticalScrollBar().maximum() > 0
    # the button ends where the body does, short of the scroll bar (it stood out past it)
    qtbot.wait(20)  # (laid out)
    body_right = tall.mapTo(window, tall.rect().topRight()).x()
    assert button.mapTo(window, button.rect().topRight()).x() == body_right
