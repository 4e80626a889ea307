"""The home window follows a text size chosen in Settings while it is open: its least size and
its layout, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.ui import style, theme
from app.ui.geometry import FRAME_PX, ColumnScroll
from app.ui.main_window import MIN_SIZE, MainWindow
from tests.ui.conftest import run
from tests.ui.test_narrow_screens import cut_off
from tests.ui.test_visual_states import _bridge


def _rows_whole(window: MainWindow) -> bool:
    """My meetings shows its first row whole (not a sliver of it over a scroll bar)."""
    viewport = window.meetings.findChild(ColumnScroll).viewport()
    first = next(iter(window.meetings.rows.values()))
    return viewport.height() >= first.minimumSizeHint().height() and not cut_off(window)


def test_the_home_window_follows_a_text_size_chosen_while_it_is_open(
    qloop: qasync.QEventLoop, qtbot: QtBot, qapp: QApplication, host: HostService, tmp_path: Path
) -> None:
    """The home window kept the least size it opened with (940 x 580 at 100 %): after the
    largest text size it could stay that small, the cards one above the other and My meetings
    a sliver of its first row. Its least size follows the text size now, up and down again, and
    the size it grew to for the text is given back."""
    free = QGuiApplication.primaryScreen().availableGeometry().size() - QSize(0, FRAME_PX)
    if free.width() < 1410 or free.height() < 870:
        pytest.skip("the screen is too small for the least size at 150 %")
    for title in ("Design review", "Team sync"):
        run(qloop, host.start(title, "mid", 3600), 10)
    font = qapp.font()
    theme.set_text_size(qapp, 100)
    window = MainWindow(host, _bridge("Ada"), SettingsStore(tmp_path / "settings.json"))
    qtbot.addWidget(window)
    try:
        least = style.by_text_size(*MIN_SIZE)
        assert window.minimumSize() == least
        window.show()
        qtbot.waitExposed(window)
        window.resize(least)
        qtbot.wait(100)  # (laid out)
        assert _rows_whole(window)

        theme.set_text_size(qapp, 150)
        grown = style.by_text_size(*MIN_SIZE)
        assert grown.width() > least.width() and grown.height() > least.height()
        assert window.minimumSize() == grown
        qtbot.waitUntil(lambda: window.size() == grown)  # (as small as it may be now)
        qtbot.wait(100)  # (laid out)
        assert _rows_whole(window), window.meetings.findChild(ColumnScroll).viewport().size()

        theme.set_text_size(qapp, 100)
        assert window.minimumSize() == least
        qtbot.waitUntil(lambda: window.size() == least)  # (it grew for the text only)
        qtbot.wait(100)
        assert _rows_whole(window)
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)
