"""The bar along the bottom of the call: room, head count and time on the left, then buttons
for the microphone, camera, screen sharing, the chat and people panels, and leaving.

It only shows state; CallWindow connects the buttons' ``clicked`` signals and acts on them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from app.ui import style

INFO_MAX_WIDTH = 380  # px the room / head count / time label may claim from the buttons


def _tool(text: str, tip: str, checkable: bool = False, role: str = "tool") -> QPushButton:
    button = QPushButton(text)
    button.setProperty("role", role)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class CallToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Toolbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.info = QLabel()
        self.info.setProperty("role", "dim")
        self.info.setMinimumWidth(200)
        self.mic_button = _tool("Mute", "Turn your microphone off (Ctrl+D)")
        self.cam_button = _tool("Stop video", "Turn your camera off (Ctrl+E)")
        self.share_button = _tool("Share screen", "Show your screen to everyone", True)
        self.chat_button = _tool("Chat", "Show the chat", True)
        self.people_button = _tool("People", "Participants, connections, safety codes", True)
        self.leave_button = _tool("Leave", "Leave the meeting", role="leave")
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 10, 20, 14)
        row.setSpacing(10)
        row.addWidget(self.info, 1)
        for button in (self.mic_button, self.cam_button, self.share_button):
            row.addWidget(button)
        row.addSpacing(14)
        row.addWidget(self.chat_button)
        row.addWidget(self.people_button)
        row.addStretch(1)
        row.addWidget(self.leave_button)

    def show_info(self, room: str, count: int, elapsed_s: float) -> None:
        """The room's name, how many are in the call (us included) and for how long."""
        minutes, seconds = divmod(int(elapsed_s), 60)
        people = "1 person" if count == 1 else f"{count} people"
        self.info.setText(
            f"<b style='color:{style.TEXT}'>{room}</b>  ·  {people}  ·  {minutes}:{seconds:02d}"
        )
        self.info.setToolTip(f"{room} · {people} · {minutes}:{seconds:02d}")
        # room for all of it, the buttons taking the squeeze (a very long name: see the tip)
        self.info.setMinimumWidth(min(max(200, self.info.sizeHint().width()), INFO_MAX_WIDTH))

    def show_media(self, mic: bool, cam: bool) -> None:
        self.mic_button.setText("Mute" if mic else "Unmute")
        self.cam_button.setText("Stop video" if cam else "Start video")
        style.restyle(self.mic_button, "off", not mic)
        style.restyle(self.cam_button, "off", not cam)

    def show_sharing(self, on: bool) -> None:
        self.share_button.setChecked(on)
        self.share_button.setText("Stop sharing" if on else "Share screen")

    def show_unread(self, count: int) -> None:
        """Chat messages that arrived while the chat was hidden (0: none)."""
        self.chat_button.setText(f"Chat  {count}" if count else "Chat")

    def show_ended(self) -> None:
        self.leave_button.setText("Close")

    def show_leaving(self) -> None:
        self.leave_button.setEnabled(False)
        self.leave_button.setText("Leaving…")
