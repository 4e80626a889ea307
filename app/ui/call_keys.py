"""The call window's keyboard shortcuts, and what makes them work while typing in the chat.

Ctrl+D microphone, Ctrl+E camera (as in other meeting apps), Ctrl+Shift+C chat, Ctrl+Shift+P
people, Ctrl+W leave, F11 full screen, Esc (leaves full screen, then closes a side panel). Not
Ctrl+Alt: Windows reports AltGr, which types letters (ć, &), as Ctrl+Alt. The chat entry would
take Ctrl+D and Ctrl+E for itself (delete, end of line): ``CallKeys`` hands those to the window.

As the window opens the keyboard rests on the video (``rest_on``), where no key does anything:
on Mute, the first button, a stray Space muted the call.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

#: what a screen reader says of the video, where the keyboard rests: the keys to use from there
KEYS_SAID = (
    "Tab goes to the buttons. Ctrl+D mutes or unmutes, Ctrl+E stops or starts your video, "
    "Ctrl+Shift+C chat, Ctrl+Shift+P people, F11 full screen (Esc leaves it, or closes a "
    "panel), Ctrl+W leaves, Ctrl+Shift+K answers someone knocking."
)
_CALL_KEYS = {
    QKeyCombination(Qt.KeyboardModifier.ControlModifier, key)
    for key in (Qt.Key.Key_D, Qt.Key.Key_E)
}


class CallKeys(QObject):
    def __init__(
        self, window: QWidget, entry: QWidget, keys: dict[str, Callable[[], object]]
    ) -> None:
        """``keys``: key sequence ("Ctrl+D") -> what it does, in ``window``; ``entry``: the
        chat's line, whose own uses of the call's keys lose to the window's."""
        super().__init__(window)
        self.shortcuts = [QShortcut(QKeySequence(k), window, slot) for k, slot in keys.items()]
        entry.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        override = event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
        if override and event.keyCombination() in _CALL_KEYS:  # type: ignore[attr-defined]
            event.ignore()  # not the entry's: the window's shortcut gets it
            return True
        return super().eventFilter(watched, event)


def rest_on(video: QWidget) -> None:
    """The keyboard on ``video`` (it stays out of the Tab order: a click on a tile must not
    take the keyboard from the chat entry), named for a screen reader with the call's keys."""
    video.setAccessibleName("Call video")
    video.setAccessibleDescription(KEYS_SAID)
    video.setFocus()
