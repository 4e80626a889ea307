"""The call toolbar fits the window: compact where the full labels do not fit, nothing cut off."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.ui import style
from app.ui.call_toolbar import CallToolbar


@pytest.mark.parametrize("width", [720, 900, 1000, 1060, 1120, 1280])
@pytest.mark.parametrize("ended", [False, True])
def test_call_toolbar_cuts_nothing_off_down_to_the_minimum_window_width(
    qtbot: QtBot, width: int, ended: bool
) -> None:
    """Every label whole, with the device arrows and the longest labels (muted, video off,
    sharing, unread chat; after a cut-off call, Join again too): compact only where the full
    bar does not fit."""
    window = QWidget()  # as in the call window: the bar gets the window's width, no more
    window.setStyleSheet(style.sheet())
    window.setFixedSize(width, 64)
    qtbot.addWidget(window)
    bar = CallToolbar(window)
    bar.setGeometry(0, 0, 1280, 64)  # as a new window: wide at first ...
    bar.show_info("a-long-meeting-name-42", 2, 1)
    bar.setGeometry(0, 0, width, 64)  # ... then the size it is given
    window.show()
    qtbot.waitExposed(window)
    bar.show_info("a-long-meeting-name-42", 3, 65)
    bar.show_media(mic=False, cam=False)
    bar.show_sharing(True)
    bar.show_unread(12)
    if ended:
        bar.show_ended(again=True)
    qtbot.wait(50)  # layout
    assert bar.width() == width
    assert not bar.compact or width < bar._full_needs  # compact only where full needs more
    assert bar.compact if width <= 900 and not ended else True
    assert not bar.compact or width < 1280
    assert bar.cam_button.text() == ("Start cam" if bar.compact else "Start video")
    shown = (bar.info, *bar._tools(), bar.mic_more, bar.cam_more, bar.leave_button)
    if ended:  # nothing left to switch: the media buttons go, Join again comes
        assert not bar.mic_button.isVisible() and not bar.cam_more.isVisible()
        shown = (bar.info, bar.chat_button, bar.people_button, bar.again_button, bar.leave_button)
    for widget in shown:
        assert widget.isVisible()  # the device arrows too (shown unless nothing to choose)
        assert widget.width() >= widget.sizeHint().width(), (widget, widget.text())
    assert "a-long-meeting-name-42" in bar.info.toolTip()
    if ended:  # the media buttons gone: the full bar fits where it did not before
        assert not bar.compact or width < 900
    bar.show_sharing(False)  # shorter labels: full again where they fit
    bar.show_media(mic=True, cam=True)
    bar.show_unread(0)
    qtbot.wait(50)
    if width >= 1280:
        assert not bar.compact, bar._full_needs
    for widget in shown:
        assert widget.width() >= widget.sizeHint().width(), (widget, widget.text())


def test_call_toolbar_is_reachable_with_tab_but_clicks_keep_the_focus(qtbot: QtBot) -> None:
    bar = CallToolbar()
    qtbot.addWidget(bar)
    for button in (*bar._tools(), bar.leave_button):
        assert button.focusPolicy() == Qt.FocusPolicy.TabFocus, button.text()


def test_a_long_room_name_is_elided_and_the_count_and_time_stay(qtbot: QtBot) -> None:
    window = QWidget()
    window.setStyleSheet(style.sheet())
    window.setFixedSize(1280, 64)
    qtbot.addWidget(window)
    bar = CallToolbar(window)
    bar.setGeometry(0, 0, 1280, 64)
    window.show()
    room = "design-review-b-q3-b-planning-a-long-meeting-tit"
    bar.show_info(room, 3, 62)
    qtbot.wait(50)
    text = bar.info.text()
    assert text.endswith("3 people  ·  1:02") and "…" in text and room not in text
    assert bar.info.width() >= bar.info.sizeHint().width()  # nothing clipped
    assert room in bar.info.toolTip()
    bar.show_media(mic=False, cam=True)  # the tips follow what a press does
    assert bar.mic_button.toolTip() == "Turn your microphone on (Ctrl+D)"
    assert bar.cam_button.toolTip() == "Turn your camera off (Ctrl+E)"
