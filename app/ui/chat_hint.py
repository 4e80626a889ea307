"""The chat's "new messages" button (app.ui.chat_panel): someone reading older messages is left
where they are as new ones come (the view does not jump), but nothing told them that anything
had come. A button at the bottom of the messages says how many; it takes them to the end, and
goes once they get there by themselves.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QPushButton, QTextBrowser

MARGIN = 10  # px between the button and the bottom of the messages


class NewMessages(QPushButton):
    def __init__(self, view: QTextBrowser) -> None:
        super().__init__(view)
        self.view = view
        self.count = 0
        self.setProperty("role", "primary")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.clicked.connect(self.to_end)
        view.installEventFilter(self)  # (placed again as the panel resizes)
        self.hide()

    def came(self) -> None:
        """A message came while the person reads older ones (not at the end)."""
        self.count += 1
        s = "" if self.count == 1 else "s"
        self.setText(f"↓  {self.count} new message{s}")
        self.setAccessibleName(f"{self.count} new message{s}: go to the newest")
        self.adjustSize()
        self._place()
        self.show()
        self.raise_()

    def to_end(self) -> None:
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.done()

    def done(self) -> None:
        """The person is at the newest message (the chat panel says when they scroll there)."""
        focus = self.hasFocus()
        self.count = 0
        self.hide()
        if focus:  # (the keyboard stays in the chat)
            self.view.setFocus()

    def _place(self) -> None:
        area = self.view.viewport().geometry()
        x = area.x() + (area.width() - self.width()) // 2
        self.move(max(x, 0), area.bottom() - self.height() - MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return super().eventFilter(watched, event)
