"""Building blocks of the home window (app.ui.main_window): its labels, cards and the two
large action buttons (Start meeting, Join meeting)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.meetings_view import named


def label(text: str, name: str = "", role: str = "") -> QLabel:
    label = named(QLabel(text, wordWrap=True), name)
    if role:
        label.setProperty("role", role)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return label


class CardButton(QPushButton):
    """A button laid out as a card: as large as its words need (a plain button's size comes
    from its own text, which a card has none of), so large text is not cut off."""

    def sizeHint(self) -> QSize:
        layout = self.layout()
        return super().sizeHint() if layout is None else layout.totalSizeHint()

    def minimumSizeHint(self) -> QSize:
        layout = self.layout()
        return super().minimumSizeHint() if layout is None else layout.totalMinimumSize()


def action(glyph: str, title: str, text: str, accent: bool = False) -> QPushButton:
    button = named(CardButton(), "ActionCard")
    button.setProperty("accent", accent)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setMinimumHeight(88)
    button.setAutoDefault(True)  # Enter presses it when it has the focus, as Space does
    button.setAccessibleName(title)  # (its words are child labels a screen reader misses)
    button.setAccessibleDescription(text)
    layout = QHBoxLayout(button)
    layout.setContentsMargins(22, 14, 22, 14)
    layout.setSpacing(18)
    mark = label(glyph, "ActionGlyph")
    mark.setFixedSize(40, 40)
    mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
    layout.addWidget(mark)
    words = QVBoxLayout()
    words.setSpacing(2)
    words.addStretch()
    words.addWidget(label(title, "ActionTitle"))
    words.addWidget(label(text, role="dim"))
    words.addStretch()
    layout.addLayout(words, 1)
    return button


def card(title: str, subtitle: str, body: QWidget) -> QFrame:
    card = named(QFrame(), "Card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(4)
    layout.addWidget(label(title, role="heading"))
    layout.addWidget(label(subtitle, role="dim"))
    layout.addSpacing(8)
    layout.addWidget(body, 1)
    return card
