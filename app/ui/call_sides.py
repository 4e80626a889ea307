"""The call window's side panels, Chat and People (app.ui.call_window): one open at a time,
beside the video, its toolbar button checked.

The keyboard follows them: opening Chat puts it in the chat's entry, and a panel closing gives
it back to the button that opened it (the next one, Mute, took it: a Space muted the call).
Ctrl+Shift+C or P opens a panel with the keyboard in it. Chat messages that come while Chat is
closed are counted on its button, until it opens.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.ui.banner import Banner
from app.ui.call_toolbar import CallToolbar
from app.ui.chat_panel import ChatPanel
from app.ui.peer_panel import PeerPanel


class SidePanels:
    """``middle``: the row of the video and the panels (12 px at its right with a panel open);
    ``banner``: placed again over the video, once it is narrower or wider."""

    def __init__(
        self,
        window: QWidget,
        middle: QHBoxLayout,
        chat: ChatPanel,
        people: PeerPanel,
        toolbar: CallToolbar,
        banner: Banner,
    ) -> None:
        self._window, self._middle, self._chat, self._people = window, middle, chat, people
        self._toolbar, self._banner = toolbar, banner
        self.unread = 0  # chat messages that came while Chat was closed

    def show(self, panel: QWidget | None, keyboard: bool = True) -> None:
        """``panel`` open (None: neither); Chat takes the keyboard too, with ``keyboard``."""
        bar, focus = self._toolbar, self._window.focusWidget()
        for other, button in ((self._chat, bar.chat_button), (self._people, bar.people_button)):
            if other is not panel and other.isAncestorOf(focus):  # the keyboard back to its
                button.setFocus()  # button (the next one, Mute, took it: a Space muted)
            other.setVisible(other is panel)
            button.setChecked(other is panel)
        self._middle.setContentsMargins(0, 12, 12 if panel is not None else 0, 0)
        if self._banner.isVisible():  # the grid's new width is known once the layout has run
            QTimer.singleShot(0, self._banner.place)
        if panel is self._chat:
            self.unread = 0
            bar.show_unread(0)
        if panel is self._chat and keyboard:
            self._chat.take_keyboard()

    def key(self, panel: ChatPanel | PeerPanel, button: QPushButton) -> None:
        """Ctrl+Shift+C or P: the panel, with the keyboard in it (open already, with the
        keyboard elsewhere, it was closed instead); pressed in it, it closes."""
        focus = self._window.focusWidget()
        if not (panel.isVisible() and not panel.isAncestorOf(focus) and panel.take_keyboard()):
            button.click()

    def count_unread(self) -> None:
        """A chat message came: counted on Chat's button, unless Chat is open."""
        if not self._chat.isVisible():
            self.unread += 1
            self._toolbar.show_unread(self.unread)
