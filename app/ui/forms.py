"""Small pieces the home window and its dialogs share: the names the style sheet and tests
find widgets by, form rows whose labels name their fields, and a Copy link button's copy."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFormLayout, QLabel, QLayout, QPushButton, QWidget

from app.ui import style

W = TypeVar("W", bound=QObject)


def named(widget: W, name: str) -> W:
    """Give an object the name the style sheet and tests find it by."""
    widget.setObjectName(name)
    return widget


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
