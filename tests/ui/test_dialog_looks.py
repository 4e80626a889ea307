"""The dialogs look like one app: their forms' labels line up the same way, and a check box's
words look like a radio button's (dim only while it is off). Real dialogs, in the app's look."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFormLayout, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.ui import style, theme
from app.ui.forms import ROW_SPACING
from app.ui.join_dialog import JoinDialog
from app.ui.settings_dialog import SettingsDialog
from app.ui.start_dialog import StartDialog
from tests.ui.test_visual_states import _bridge


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[None]:
    """The app's look, at the normal text size."""
    font = qapp.font()
    theme.set_text_size(qapp, 100)
    try:
        yield
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


def dialogs(qtbot: QtBot, host: HostService, tmp_path: Path) -> dict[str, QWidget]:
    settings = SettingsStore(tmp_path / "s.json")
    shown: dict[str, QWidget] = {
        "start": StartDialog(host),
        "settings": SettingsDialog(settings, live_meter=False),
        "join": JoinDialog(_bridge("Ada"), settings, lambda: None, "", preview=False),
    }
    for dialog in shown.values():
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
    qtbot.wait(50)  # (laid out)
    return shown


def label_edges(dialog: QWidget) -> tuple[set[int], set[int]]:
    """The left and right edges (in the dialog) of its form's labels that have words."""
    form = next(f for f in dialog.findChildren(QFormLayout) if f.rowCount() > 2)
    lefts, rights = set(), set()
    for row in range(form.rowCount()):
        item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        label = item.widget() if item is not None else None
        if isinstance(label, QLabel) and label.text() and label.isVisible():
            lefts.add(label.mapTo(dialog, label.rect().topLeft()).x())
            rights.add(label.mapTo(dialog, label.rect().topRight()).x())
    return lefts, rights


def test_the_start_settings_and_join_forms_line_their_labels_up_on_the_left(
    qtbot: QtBot, host: HostService, tmp_path: Path, themed: None
) -> None:
    """Start's labels were right-aligned ("Size" far right of "Meeting point"), Settings' and
    Join's left-aligned. All are on the left now, as Qt's own style (Fusion) puts them, at the
    same place as the dialog's title."""
    for name, dialog in dialogs(qtbot, host, tmp_path).items():
        lefts, rights = label_edges(dialog)
        assert len(lefts) == 1 and len(rights) > 1, (name, lefts, rights)
        title = next(w for w in dialog.findChildren(QLabel) if w.property("role") == "hero")
        assert lefts == {title.mapTo(dialog, title.rect().topLeft()).x()}, name


def words(widget: QWidget) -> str:
    widget.ensurePolished()
    return widget.palette().color(QPalette.ColorRole.WindowText).name()


def test_a_check_boxs_words_look_like_a_radio_buttons(
    qtbot: QtBot, host: HostService, tmp_path: Path, themed: None
) -> None:
    """Check boxes' words were dimmed, like hints, while radio buttons' were not (the Start
    form has both, one under the other). Both are plain words now, dimmed while switched
    off; the words beside Settings' check boxes (which wrap) too."""
    shown = dialogs(qtbot, host, tmp_path)
    start, settings, join = shown["start"], shown["settings"], shown["join"]
    assert isinstance(start, StartDialog) and isinstance(settings, SettingsDialog)
    assert isinstance(join, JoinDialog)
    plain = words(start.here)
    assert plain == style.TEXT
    sounds_words = settings.sounds.parentWidget().findChild(QLabel)
    for box in (start.ipv6, start.show_lan, join.mic_box, join.cam_box, sounds_words):
        assert words(box) == plain, box
    start.outside.setChecked(True)  # (Show on this network is off on a server)
    settings.sounds.setEnabled(False)
    for off in (start.show_lan, sounds_words):
        assert words(off) == style.TEXT_DIM, off
    start.here.setEnabled(False)
    assert words(start.here) == style.TEXT_DIM


def row_gaps(dialog: QWidget) -> set[int]:
    """The space between each two rows of the dialog's form that both have a label with words
    (from the bottom of one row's field to the top of the next one's)."""
    form = next(f for f in dialog.findChildren(QFormLayout) if f.rowCount() > 2)
    rows = []
    for row in range(form.rowCount()):
        label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        widget = label.widget() if label is not None else None
        if isinstance(widget, QLabel) and widget.text() and widget.isVisible() and field:
            rows.append(field.geometry())
    return {below.top() - above.bottom() - 1 for above, below in pairwise(rows)}


def test_the_start_settings_and_join_forms_space_their_rows_alike(
    qtbot: QtBot, host: HostService, tmp_path: Path, themed: None
) -> None:
    """Start's rows were 14 px apart, Settings' and Join's 12: one spacing for all three."""
    shown = dialogs(qtbot, host, tmp_path)
    spacings = {name: form_spacing(dialog) for name, dialog in shown.items()}
    assert set(spacings.values()) == {ROW_SPACING}, spacings
    gaps = {name: row_gaps(dialog) for name, dialog in shown.items()}
    assert all(ROW_SPACING in each for each in gaps.values()), gaps


def form_spacing(dialog: QWidget) -> int:
    form = next(f for f in dialog.findChildren(QFormLayout) if f.rowCount() > 2)
    return form.verticalSpacing()
