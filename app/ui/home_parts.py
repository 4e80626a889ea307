"""Building blocks of the home window (app.ui.main_window): its labels, cards, the logo and
the two large action buttons (Start meeting, Join meeting)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
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
QWIDGETSIZE_MAX = (1 << 24) - 1  # (Qt's "no maximum")
EMPTY_PAD = 28  # px above and below what a card says when it has nothing, room allowing


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


class Placeholder(QLabel):
    """What a card says when it has nothing to list, centred: all of it where there is room
    (and some air above and below it), else its first paragraph (all of it in the tooltip).
    At the largest text on a short screen the card was too short for all of it: it showed
    cut at the top and the bottom (a label's text is centred on its height, and overflows)."""

    def __init__(self, text: str, alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter):
        super().__init__()
        self.setObjectName(EMPTY)
        self.setWordWrap(True)
        policy = self.sizePolicy()
        policy.setHeightForWidth(False)  # (see hasHeightForWidth)
        self.setSizePolicy(policy)
        self.setAlignment(alignment)
        self.full = ""
        self.setText(text)

    def setText(self, text: str) -> None:  # (as a QLabel's: what it shows depends on room)
        if text != self.full:
            self.full = text
            self._show()
            self.updateGeometry()

    def headline(self) -> str:
        return self.full.split("\n\n", 1)[0]

    def _needs(self, text: str, width: int) -> int:
        """How tall ``text`` is, wrapped ``width`` across (the label's own margins aside)."""
        margins = self.contentsMargins()
        across = max(1, width - margins.left() - margins.right())
        flags = int(Qt.TextFlag.TextWordWrap | self.alignment())
        return self.fontMetrics().boundingRect(QRect(0, 0, across, 1 << 20), flags, text).height()

    def hasHeightForWidth(self) -> bool:
        """No: a layout one above the other makes a height for width its item's least height
        (what cut the card's words: the cards got less than that, and overflowed). Its size
        hint says what all of it needs at its width now, its minimum its headline's."""
        return False

    def sizeHint(self) -> QSize:
        hint, margins = super().sizeHint(), self.contentsMargins()
        high = self._needs(self.full, self.width() or hint.width()) + 2 * EMPTY_PAD
        return QSize(hint.width(), high + margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        """Its first paragraph, whole (at its width now)."""
        hint, margins = super().minimumSizeHint(), self.contentsMargins()
        high = self._needs(self.headline(), self.width() or hint.width())
        return QSize(hint.width(), high + margins.top() + margins.bottom())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show()
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # (its headline may wrap on more lines, or fewer)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._show()
            self.updateGeometry()

    def _show(self) -> None:
        margins = self.contentsMargins()
        room = self.height() - margins.top() - margins.bottom()
        whole = not self.isVisible() or self._needs(self.full, self.width()) <= room
        shown = self.full if whole else self.headline()
        if self.text() != shown:
            super().setText(shown)
        self.setToolTip("" if shown == self.full else self.full)


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
            for each in self.cards:
                if isinstance(each, Card):
                    each.stacked = not side_by_side
                    each.updateGeometry()
        stretches, tallest = self._shares() if not side_by_side else ([1] * len(self.cards), [])
        for index, each in enumerate(self.cards):
            if self.box.stretch(index) != stretches[index]:
                self.box.setStretch(index, stretches[index])
            most = tallest[index] if tallest else QWIDGETSIZE_MAX
            if each.maximumHeight() != most:
                each.setMaximumHeight(most)

    def _shares(self) -> tuple[list[int], list[int]]:
        """One above the other: each card's stretch and its most height. They shared the
        height equally: "Rooms on this network" was mostly empty under a list cut short, or
        had half the height for one row while My meetings' ten scrolled. A card with nothing
        to list keeps the height of its words (unless all have nothing; short of room, the
        lists come first, the words go down to their headline); all listing something, the
        one that needs the least takes what it needs, the others the rest (they scroll),
        unless that leaves them less than their least height: then they share. (The most
        height: short of room for all, a layout takes from each alike, stretch or none.)"""
        count = len(self.cards)
        stretches, tallest = [1] * count, [QWIDGETSIZE_MAX] * count
        empty = [self.empty(each) for each in self.cards]
        needs = [each.sizeHint().height() for each in self.cards]
        least_high = [each.minimumSizeHint().height() for each in self.cards]
        room = self.height() - self.box.spacing() * (count - 1)
        if any(empty) and not all(empty):
            spare = room - sum(need for need, e in zip(needs, empty, strict=True) if not e)
            for index in (i for i, nothing in enumerate(empty) if nothing):
                stretches[index] = 0
                tallest[index] = max(least_high[index], min(needs[index], spare))
        elif not any(empty):
            least = min(range(count), key=needs.__getitem__)
            if needs[least] + sum(least_high) - least_high[least] <= room:
                stretches[least], tallest[least] = 0, needs[least]
        return stretches, tallest


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


class Card(QFrame):
    """A card of the home window. One above the other (``stacked``, set by Columns) its height
    is not one for its width: a layout one above the other makes that its least height, all
    it would show (every row), and cards too tall for the window overflowed, their words cut,
    whatever Columns asked."""

    stacked = False

    def hasHeightForWidth(self) -> bool:
        return not self.stacked and super().hasHeightForWidth()


def card(title: str, subtitle: str, body: QWidget) -> QFrame:
    card = named(Card(), "Card")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(4)
    layout.addWidget(label(title, role="heading"))
    layout.addWidget(label(subtitle, role="dim"))
    layout.addSpacing(8)
    layout.addWidget(body, 1)
    return card
