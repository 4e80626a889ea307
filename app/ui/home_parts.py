"""Building blocks of the home window (app.ui.main_window): its labels, cards, the logo and
the two large action buttons (Start meeting, Join meeting)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QIcon, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import style, theme
from app.ui.forms import named

LOGO_PX = 48  # the header's logo at the design text size (it grows with the text)
GLYPH_PX = 40  # the circle of an action card's mark, likewise
EMPTY = "EmptyState"  # the name of what a card says when it has nothing to list


def label(text: str, name: str = "", role: str = "") -> QLabel:
    label = named(QLabel(text, wordWrap=True), name)
    if role:
        label.setProperty("role", role)
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return label


class Square(QLabel):
    """A square ``px`` across at the design text size, grown with the text size, and again
    when it changes (set_text_size)."""

    def __init__(self, px: int, text: str = "") -> None:
        super().__init__(text)
        self._px = px
        self._draw()

    def _draw(self) -> None:
        side = style.by_text(self._px)
        self.setFixedSize(side, side)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._draw()


class Logo(Square):
    """The app's icon beside the window's title, as large as that title's text size wants (it
    stayed 48 px beside a title half as large again)."""

    def __init__(self) -> None:
        super().__init__(LOGO_PX)
        self.setObjectName("Logo")

    def _draw(self) -> None:
        super()._draw()
        side = self.size()
        self.setPixmap(QIcon(str(theme.ICON)).pixmap(side, self.devicePixelRatio()))


class Columns(QWidget):
    """Cards side by side, or one above the other in a window too narrow for them side by side
    at their least width (``least``: what each needs across at the design text size, if more
    than its own least). Side by side, a window 800 px wide (a small screen) cut off My
    meetings' rows at the right: their countdown and Enter button."""

    def __init__(self, cards: list[QWidget], least: int = 0, spacing: int = 16) -> None:
        super().__init__()
        self.cards, self._least = cards, least
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(spacing)
        for each in cards:
            self.box.addWidget(each, 1)
            for empty in each.findChildren(QLabel, EMPTY):  # (shown or hidden: arranged anew)
                empty.installEventFilter(self)

    @staticmethod
    def empty(card: QWidget) -> bool:
        """Whether ``card`` shows nothing but what it says when it has nothing to list."""
        return any(label.isVisibleTo(card) for label in card.findChildren(QLabel, EMPTY))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self._arrange(self.width())
        return super().eventFilter(watched, event)

    def across(self) -> int:
        """The width the cards need side by side."""
        least = style.by_text(self._least)
        widths = [max(each.minimumSizeHint().width(), least) for each in self.cards]
        return sum(widths) + self.box.spacing() * (len(widths) - 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(event.size().width())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # (a card's least width may have grown)
            self._arrange(self.width())
        return super().event(event)

    def _arrange(self, width: int) -> None:
        side_by_side = width >= self.across()
        direction = (
            QBoxLayout.Direction.LeftToRight if side_by_side else QBoxLayout.Direction.TopToBottom
        )
        if self.box.direction() != direction:
            self.box.setDirection(direction)
        # one above the other, they shared the height equally: "Rooms on this network" was
        # mostly empty under a list cut short. A card with nothing to list keeps the height of
        # its words (unless all have nothing), the others share the rest.
        empty = [self.empty(each) for each in self.cards]
        for index, nothing in enumerate(empty):
            stretch = 0 if nothing and not side_by_side and not all(empty) else 1
            if self.box.stretch(index) != stretch:
                self.box.setStretch(index, stretch)


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
    mark = named(Square(GLYPH_PX, glyph), "ActionGlyph")  # (40 px cut the arrow's tip off at
    mark.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the largest text)
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
