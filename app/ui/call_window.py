"""The call: video grid, toolbar, chat and people panels, and a banner for what happens.

It talks only to the Bridge. Closing the window leaves the call first (``leave()``), then stops
every timer, task and converter thread the window owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui import style
from app.ui.bridge import Bridge
from app.ui.chat_panel import ChatPanel
from app.ui.peer_panel import PeerPanel
from app.ui.video_grid import VideoGrid

log = logging.getLogger(__name__)
SIDE_WIDTH = 340
UNNAMED = "Someone"  # a peer whose name has not arrived yet
SCREEN_GRACE_MS = 600  # a screen tile outlives "screen off" this long (it may come straight back)
ENDED_TEXT = {
    "ended": "The host ended the meeting.",
    "expired": "The meeting reached the end of its time.",
}


def _tool(text: str, tip: str, checkable: bool = False, role: str = "tool") -> QPushButton:
    button = QPushButton(text)
    button.setProperty("role", role)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class CallWindow(QWidget):
    closed = Signal()  # the call is left and the window closed

    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setObjectName("CallWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(style.QSS)
        self.setWindowTitle(f"{bridge.room_name or 'Meeting'} — PeerMeet")
        self.setMinimumSize(720, 480)
        self.resize(1280, 800)
        self.unread = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._leaving: asyncio.Task[None] | None = None
        self._done = False
        self._was_connected: set[str] = set()
        self._announced: set[str] = set()  # peers whose arrival the chat has mentioned
        self._started = time.monotonic()
        self.grid = VideoGrid(bridge.audio_level)
        self.chat = ChatPanel()
        self.people = PeerPanel(bridge.peer_stats)
        for panel in (self.chat, self.people):
            panel.setFixedWidth(SIDE_WIDTH)
            panel.hide()
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 12, 12, 0)
        middle.setSpacing(0)
        middle.addWidget(self.grid, 1)
        middle.addWidget(self.chat)
        middle.addWidget(self.people)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(middle, 1)
        layout.addWidget(self._toolbar())
        self.banner = style.Banner(self)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick_clock)
        self._clock.start(1000)
        self.grid.set_me(bridge.display_name, bridge.local_frame)
        self.people.set_me(bridge.display_name)
        self.chat.send.connect(self._send_chat)
        self._show_my_media()
        self._connections = self._wire(bridge)
        for peer_id, info in bridge.peers().items():
            self._on_joined(peer_id, info.name)
            self._on_state(peer_id, info.state)
            self._on_media(peer_id, info.mic, info.cam, info.screen)
        self._tick_clock()

    # --- building ----------------------------------------------------------------------------
    def _toolbar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("Toolbar")
        bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.info = QLabel()
        self.info.setProperty("role", "dim")
        self.info.setMinimumWidth(200)
        self.mic_button = _tool("Mute", "Turn your microphone off (Ctrl+D)")
        self.cam_button = _tool("Stop video", "Turn your camera off (Ctrl+E)")
        self.share_button = _tool("Share screen", "Show your screen to everyone", True)
        self.chat_button = _tool("Chat", "Show the chat", True)
        self.people_button = _tool("People", "Participants, connections, safety codes", True)
        self.leave_button = _tool("Leave", "Leave the meeting", role="leave")
        self.mic_button.clicked.connect(self.toggle_mic)
        self.cam_button.clicked.connect(self.toggle_camera)
        self.share_button.clicked.connect(self._toggle_share)
        self.chat_button.clicked.connect(lambda on: self._show_side(self.chat if on else None))
        self.people_button.clicked.connect(lambda on: self._show_side(self.people if on else None))
        self.leave_button.clicked.connect(self.close)
        QShortcut(QKeySequence("Ctrl+D"), self, self.toggle_mic)
        QShortcut(QKeySequence("Ctrl+E"), self, self.toggle_camera)
        row = QHBoxLayout(bar)
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
        return bar

    def _wire(self, b: Bridge) -> list[tuple[Any, Any]]:
        pairs: list[tuple[Any, Any]] = [
            (b.joined, self._on_room_joined),
            (b.peerJoined, self._on_joined),
            (b.peerLeft, self._on_left),
            (b.peerConnected, self._on_connected),
            (b.peerState, self._on_state),
            (b.peerMedia, self._on_media),
            (b.chatReceived, self._on_chat),
            (b.notice, lambda text: self.banner.show_message(text)),
            (b.ended, self._on_ended),
            (b.screenShared, self._on_screen_shared),
        ]
        for signal, slot in pairs:
            signal.connect(slot)
        return pairs

    # --- engine events -----------------------------------------------------------------------
    def _on_room_joined(self) -> None:  # for a window opened before joining
        self.setWindowTitle(f"{self.bridge.room_name or 'Meeting'} — PeerMeet")
        if self.grid.me is not None:
            self.grid.me.set_name(self.bridge.display_name)
        self.people.set_me(self.bridge.display_name)
        self._show_my_media()
        self._tick_clock()

    def _peer_name(self, peer_id: str) -> str:
        info = self.bridge.peers().get(peer_id)
        return info.name if info and info.name else UNNAMED

    def _on_joined(self, peer_id: str, name: str) -> None:
        name = name or self._peer_name(peer_id)
        known = self.grid.tile(peer_id) is not None
        tile = self.grid.add((peer_id, "video"), name, lambda: self.bridge.remote_frame(peer_id))
        tile.set_name(name)
        if not known:
            tile.set_state("connecting…")
        if name != UNNAMED and peer_id not in self._announced:
            self._announced.add(peer_id)
            self.chat.add_notice(f"{name} joined")
        self.people.add_peer(peer_id, name)
        self._tick_clock()

    def _on_left(self, peer_id: str, name: str, reason: str) -> None:
        self.grid.remove((peer_id, "video"))
        self.grid.remove((peer_id, "screen"))
        self.people.remove_peer(peer_id)
        self._was_connected.discard(peer_id)
        self._announced.discard(peer_id)
        why = "" if reason in ("left", "") else f" ({reason})"
        self.chat.add_notice(f"{name or UNNAMED} left{why}")
        self._tick_clock()

    def _on_connected(self, peer_id: str, name: str, path: str, code: str, ms: float) -> None:
        self._on_state(peer_id, "connected")
        self.people.set_connected(peer_id, path, code)

    def _on_state(self, peer_id: str, state: str) -> None:
        if self.grid.tile(peer_id) is None:
            self._on_joined(peer_id, self._peer_name(peer_id))
        tile = self.grid.tile(peer_id)
        assert tile is not None
        if state == "connected":
            self._was_connected.add(peer_id)
            tile.set_state("")
        elif state == "reconnecting" or (
            state in ("new", "connecting") and peer_id in self._was_connected
        ):
            tile.set_state("reconnecting…")
        elif state in ("new", "connecting"):
            tile.set_state("connecting…")
        elif state == "failed":
            tile.set_state("connection failed")
        self.people.set_state(peer_id, state)

    def _on_media(self, peer_id: str, mic: bool, cam: bool, screen: bool) -> None:
        tile = self.grid.tile(peer_id)
        if tile is not None:
            tile.set_media(mic, cam)
        if screen:
            name = tile.name if tile else self._peer_name(peer_id)
            self.grid.add(
                (peer_id, "screen"), name, lambda: self.bridge.remote_frame(peer_id, "screen")
            )
        elif self.grid.tile(peer_id, "screen") is not None:
            QTimer.singleShot(SCREEN_GRACE_MS, self, lambda: self._drop_screen(peer_id))

    def _drop_screen(self, peer_id: str) -> None:
        info = self.bridge.peers().get(peer_id)
        if info is None or not info.screen:
            self.grid.remove((peer_id, "screen"))

    def _on_chat(self, peer_id: str, name: str, text: str) -> None:
        self.chat.add_message(name, text)
        if not self.chat.isVisible():
            self.unread += 1
            self.chat_button.setText(f"Chat  {self.unread}")

    def _on_ended(self, reason: str) -> None:
        text = ENDED_TEXT.get(reason, f"The call ended: {reason}.")
        if reason != "left":
            self.banner.show_message(
                f"{text} Close this window, or join again with a new link.", "ended", 0
            )
        for key in list(self.grid.tiles):
            self.grid.remove(key)
        self.leave_button.setText("Close")

    def _on_screen_shared(self, on: bool) -> None:
        self._show_sharing(on)
        if on:
            self.banner.show_message(
                "You are sharing your screen with everyone in the call.", seconds=5
            )

    # --- actions -----------------------------------------------------------------------------
    def toggle_mic(self) -> None:
        self.bridge.set_mic(not self.bridge.mic_on)
        self._show_my_media()

    def toggle_camera(self) -> None:
        self.bridge.set_camera(not self.bridge.camera_on)
        self._show_my_media()

    def _show_my_media(self) -> None:
        mic, cam = self.bridge.mic_on, self.bridge.camera_on
        self.mic_button.setText("Mute" if mic else "Unmute")
        self.cam_button.setText("Stop video" if cam else "Start video")
        style.restyle(self.mic_button, "off", not mic)
        style.restyle(self.cam_button, "off", not cam)
        if self.grid.me is not None:
            self.grid.me.set_media(mic, cam)

    def _toggle_share(self, on: bool) -> None:
        self.share_button.setEnabled(False)
        self._spawn(self._share(on))

    async def _share(self, on: bool) -> None:
        try:
            await self.bridge.share_screen(on)
        finally:
            self.share_button.setEnabled(True)
            self._show_sharing(self.bridge.sharing_screen)

    def _show_sharing(self, on: bool) -> None:
        self.share_button.setChecked(on)
        self.share_button.setText("Stop sharing" if on else "Share screen")

    def _send_chat(self, text: str) -> None:
        self.bridge.send_chat(text)
        self.chat.add_message(self.bridge.display_name, text, mine=True)

    def _show_side(self, panel: QWidget | None) -> None:
        for other, button in ((self.chat, self.chat_button), (self.people, self.people_button)):
            other.setVisible(other is panel)
            button.setChecked(other is panel)
        if panel is self.chat:
            self.unread = 0
            self.chat_button.setText("Chat")
            self.chat.entry.setFocus()

    def _tick_clock(self) -> None:
        minutes, seconds = divmod(int(time.monotonic() - self._started), 60)
        count = len([k for k in self.grid.tiles if k[1] == "video"]) + 1
        room = self.bridge.room_name or "Meeting"
        people = "1 person" if count == 1 else f"{count} people"
        self.info.setText(
            f"<b style='color:{style.TEXT}'>{room}</b>  ·  {people}  ·  {minutes}:{seconds:02d}"
        )

    # --- leaving -----------------------------------------------------------------------------
    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def leave(self) -> None:
        """Leave the call, stop everything this window runs, and close it. Idempotent."""
        if self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())
        await asyncio.shield(self._leaving)

    async def _leave(self) -> None:
        self.leave_button.setEnabled(False)
        self.leave_button.setText("Leaving…")
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._clock.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self.people.aclose()
            await self.bridge.leave()
        except Exception:  # the window must close even if leaving went wrong
            log.exception("leaving the call failed")
        finally:
            self.grid.stop()
            self._done = True
            self.close()
            self.closed.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._done:
            event.accept()
            return
        event.ignore()  # leave first; _leave closes the window when done
        if self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.banner.isVisible():
            self.banner.place()
