"""Building blocks of the home window (app.ui.main_window): its labels, cards, the logo and
the two large action buttons (Start meeting, Join meeting)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import style, theme
from app.ui.forms import named

LOGO_PX = 48  # the header's logo at the design text size (it grows with the text)


def label(text: str, name: str = "", role: str = "") -> QLabel:
    label = named(QLabel(text, wordWrap=True), name)
    if role:
        label.setProperty("role", role)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return label


class Logo(QLabel):
    """The app's icon beside the window's title, as large as that title's text size wants:
    drawn again when the text size changes (it stayed 48 px beside a title half as large
    again)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Logo")
        self._draw()

    def _draw(self) -> None:
        side = style.by_text(LOGO_PX)
        self.setFixedSize(side, side)
        self.setPixmap(QIcon(str(theme.ICON)).pixmap(QSize(side, side), self.devicePixelRatio()))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):  # set_text_size
            self._draw()


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
