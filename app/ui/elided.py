"""A one-line label that takes the width its layout gives it and elides what does not fit."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy

from app.ui.style import plain_tip


class ElidedLabel(QLabel):
    """Elided to its width ("…"), the whole text in the tooltip; never widens its window.
    With ``elide=False`` a plain label (``say`` still keeps the whole text in ``full``)."""

    def __init__(self, text: str = "", *, elide: bool = True) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)  # names from others: never markup
        self._elide, self.full = elide, ""
        if elide:  # take the width the layout gives, never widen the window for a long text
            self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.say(text)

    def say(self, text: str) -> None:
        self.full = text
        self.setToolTip(plain_tip(text) if self._elide else "")
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        text, width = self.full, self.width()
        if self._elide:
            text = QFontMetrics(self.font()).elidedText(text, Qt.TextElideMode.ElideRight, width)
        self.setText(text)
