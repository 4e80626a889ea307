"""Small pieces the home window and its dialogs share: the names the style sheet and tests
find widgets by, form rows whose labels name their fields, check boxes whose words wrap, and
a Copy link button's copy."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from app.ui import style

W = TypeVar("W", bound=QObject)
#: the space between a form's rows, and between its labels and fields: the same in Start,
#: Join and Settings (Start's rows were 14 px apart, the others' 12)
ROW_SPACING, LABEL_SPACING = 12, 18


def named(widget: W, name: str) -> W:
    """Give an object the name the style sheet and tests find it by."""
    widget.setObjectName(name)
    return widget


def form_layout() -> QFormLayout:
    """A dialog's form: its labels on the left, rows as far apart as in every other dialog."""
    layout = QFormLayout()
    layout.setVerticalSpacing(ROW_SPACING)
    layout.setHorizontalSpacing(LABEL_SPACING)
    layout.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return layout


def form_row(
    form: QFormLayout,
    text: str,
    field: QWidget | QLayout,
    like: QWidget | None = None,
    names: QWidget | None = None,
) -> None:
    """A form row whose label sits level with the first line of its field (``like``) and
    names ``names`` (default: the field) for screen readers."""
    label = QLabel(text)
    first = like or (field if isinstance(field, QWidget) else None)
    if first is not None:  # (no taller: QFormLayout grows a label to 7/4 of its height in a
        first.ensurePolished()  # taller row, and its words went down below the first line)
        label.setFixedHeight(max(first.sizeHint().height(), label.sizeHint().height()))
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    named_field = names or (field if isinstance(field, QWidget) else None)
    if named_field is not None:  # a screen reader names the field by its label
        label.setBuddy(named_field)
        named_field.setAccessibleName(text)
    form.addRow(label, field)


class _Words(QLabel):
    """A check box's words beside it (see ``wrapping``): a click on them ticks it."""

    def __init__(self, text: str, box: QCheckBox) -> None:
        super().__init__(text, wordWrap=True)
        self._box = box
        self.setProperty("role", "boxwords")  # (as a check box's own words: dim if it is off)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setBuddy(box)
        self.setEnabled(box.isEnabled())
        box.installEventFilter(self)  # (switched off and on with it)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._box and event.type() == QEvent.Type.EnabledChange:
            self.setEnabled(self._box.isEnabled())
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        """On one line, where there is room (a wrapped label's own hint is two lines of half
        the width: a form gave the row that height, a line too many below the words)."""
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self.text()) + 1, metrics.height())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        inside = self.rect().contains(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and inside and self._box.isEnabled():
            self._box.click()
        super().mouseReleaseEvent(event)


def wrapping(box: QCheckBox, text: str) -> QWidget:
    """``box`` with ``text`` beside it, wrapped in a narrow window (a check box's own words
    never wrap: long ones made Settings wider than a small screen, its right side cut off).
    The words are the box's name for a screen reader; a click on them ticks it too."""
    box.setText("")
    box.setAccessibleName(text)
    row = QWidget()  # (as wide as a form gives it, or it gets the height of a narrower one)
    row.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)  # (the box keeps its spacing before its words, as if they were its own)
    layout.addWidget(box, 0, Qt.AlignmentFlag.AlignTop)
    layout.addWidget(_Words(text, box), 1)
    return row


def copy_text(text: str, button: QPushButton, label: str = "Copy link") -> None:
    QGuiApplication.clipboard().setText(text)
    button.setText("Copied ✓")
    style.announce(button, "Link copied")  # (its name may be set: the new words go unsaid)
    timer = button.findChild(QTimer, "copied")
    if timer is None:  # owned by the button, so it dies with it
        timer = named(QTimer(button), "copied")
        timer.setSingleShot(True)
        timer.timeout.connect(lambda: button.setText(label))
    timer.start(1500)
