"""The call: video grid, toolbar, chat and people panels, and a banner for what happens.

It talks only to the Bridge. The toolbar (app.ui.call_toolbar), what is shown of each remote
peer (app.ui.call_peers), our own microphone and camera (app.ui.call_media), the side panels
(app.ui.call_sides) and the banner's news of the call (app.ui.call_news) have modules of their
own. Closing the window leaves the call first (``leave()``), then stops every timer, task and
converter thread the window owns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMenu, QVBoxLayout, QWidget

from app.ui import geometry, style
from app.ui.banner import Banner
from app.ui.bridge import Bridge
from app.ui.call_host import EndMeeting, HostLeave
from app.ui.call_keys import CallKeys, rest_on
from app.ui.call_media import MyMedia
from app.ui.call_news import CallNews
from app.ui.call_notes import ended_text
from app.ui.call_peers import ENDINGS, PeerViews
from app.ui.call_sides import SidePanels
from app.ui.call_size import LEAST, fit_panels, side_width
from app.ui.call_size import SIDE_NARROW as SIDE_NARROW  # (for tests: where they were)
from app.ui.call_size import SIDE_WIDTH as SIDE_WIDTH
from app.ui.call_tabs import tab_on, tab_stops
from app.ui.call_toolbar import CallToolbar
from app.ui.chat_memory import ChatMemory
from app.ui.chat_panel import ChatPanel
from app.ui.device_menu import DeviceMenus
from app.ui.knock_dialogs import KNOCK_KEY, keep_prompts_of, to_front
from app.ui.peer_panel import PeerPanel
from app.ui.share_control import ShareControl
from app.ui.task_set import TaskSet
from app.ui.text_least import TextLeast, text_changed
from app.ui.video_grid import VideoGrid

log = logging.getLogger(__name__)


class CallWindow(QWidget):
    closed = Signal()  # the call is left and the window closed

    def __init__(
        self,
        bridge: Bridge,
        parent: QWidget | None = None,
        *,
        end_meeting: EndMeeting | None = None,
        join_again: Callable[[str], object] | None = None,
    ) -> None:
        """``end_meeting``: for the meeting's host, ends it for everyone (Leave then offers it,
        while it is theirs: app.ui.call_host). ``join_again(link)``: after this window closed,
        join that link again (a call that was cut off offers it)."""
        super().__init__(parent)
        self.bridge = bridge
        self._join_again = join_again
        self._link = str(bridge.link) if bridge.link is not None else ""
        self._again = False  # join again once closed
        self._over = False  # the call has ended (Leave reads "Close")
        self.setObjectName("CallWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        style.own_sheet(self)
        self.setWindowTitle(f"{bridge.room_name or 'Meeting'} — PeerMeet")
        TextLeast(self, LEAST)  # (the toolbar's words whole, whatever the text size)
        geometry.fit_screen(self, style.by_text_size(1280, 800))  # (small screen, large text)
        self.tasks = TaskSet()  # (the main window deletes this one once they are done)
        self._leaving: asyncio.Task[None] | None = None
        self._done = False
        self._started = time.monotonic()
        self.grid = VideoGrid(bridge.audio_level)
        self.chat = ChatPanel()
        self.people = PeerPanel(bridge.peer_stats, link=lambda: str(bridge.link or ""))
        for panel in (self.chat, self.people):
            panel.setFixedWidth(side_width(self.width()))
            panel.hide()
        middle = QHBoxLayout()
        middle.setContentsMargins(0, 12, 0, 0)  # (12 at the right with a side panel open)
        middle.setSpacing(0)
        middle.addWidget(self.grid, 1)
        middle.addWidget(self.chat)
        middle.addWidget(self.people)
        self.peer_views = PeerViews(bridge, self.grid, self.people, self.chat, self._tick_clock)
        self.toolbar = self._toolbar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(middle, 1)
        layout.addWidget(self.toolbar)
        self.banner = Banner(self, area=self.grid.geometry, home=self.grid)
        bar, grid, tasks = self.toolbar, self.grid, self.tasks
        self.share = ShareControl(self, bridge, bar, grid, self.banner, tasks, lambda: self._over)
        self.hosting = HostLeave(
            self, bar, self.banner, tasks, end_meeting, close=self.close,
            leave=self._start_leaving, done=lambda: self._over or self._leaving is not None,
        )  # fmt: skip
        self.sides = SidePanels(self, middle, self.chat, self.people, bar, self.banner)
        self.my_media = MyMedia(
            bridge, bar, grid, self.banner, self.device_menus, lambda: self._over
        )
        self.news = CallNews(bridge, self.banner, host=lambda: self.hosting.host)
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick_clock)
        self._clock.start(1000)
        self.grid.set_me(bridge.display_name, bridge.local_frame)
        self.people.set_me(bridge.display_name)
        self.chat.send.connect(self._send_chat)
        self.chats = ChatMemory.of(bridge)  # (this meeting's chat so far, if it was left)
        if (earlier := self.chats.restore(self._link, self.chat)) and earlier.reopen:
            self.sides.show(self.chat, keyboard=False)  # (it rests on the video, rest_on)
        self.my_media.show()
        self._connections = self._wire(bridge)
        for peer_id, info in bridge.peers().items():
            self.peer_views.joined(peer_id, info.name)
            self.peer_views.state(peer_id, info.state)
            self.peer_views.media(peer_id, info.mic, info.cam, info.screen)
        self.news.said_while_joining()  # (before this window: no microphone, say)
        self._tick_clock()
        rest_on(self.grid)  # (not the first button: Mute)

    # --- building ----------------------------------------------------------------------------
    def _toolbar(self) -> CallToolbar:
        bar = CallToolbar()
        bar.mic_button.clicked.connect(self.toggle_mic)
        bar.cam_button.clicked.connect(self.toggle_camera)
        bar.chat_button.clicked.connect(lambda on: self.sides.show(self.chat if on else None))
        bar.people_button.clicked.connect(lambda on: self.sides.show(self.people if on else None))
        bar.leave_button.clicked.connect(lambda: self.hosting.leave_clicked())
        bar.again_button.clicked.connect(self._again_clicked)
        self.keys = CallKeys(self, self.chat.entry, {
            "Ctrl+D": self.toggle_mic, "Ctrl+E": self.toggle_camera,
            "Ctrl+Shift+C": lambda: self.sides.key(self.chat, bar.chat_button),
            "Ctrl+Shift+P": lambda: self.sides.key(self.people, bar.people_button),
            "Ctrl+W": self.close, "Escape": self._escape, "F11": self.toggle_full_screen,
            KNOCK_KEY: to_front,
        })  # fmt: skip
        self.device_menus = DeviceMenus(bar, self.bridge, self, self.toggle_camera)
        return bar

    def _wire(self, b: Bridge) -> list[tuple[Any, Any]]:
        peers = self.peer_views
        pairs: list[tuple[Any, Any]] = [
            (b.joined, self._on_room_joined), (b.peerJoined, peers.joined),
            (b.peerLeft, peers.left), (b.peerConnected, peers.connected),
            (b.peerState, peers.state), (b.peerMedia, peers.media),
            (b.chatReceived, self._on_chat),
            (b.notice, lambda text: self.banner.show_message(text)),
            (b.reconnecting, self.news.reconnecting), (b.ended, self._on_ended),
            (b.screenShared, self.share.shared),
        ]  # fmt: skip
        for signal, slot in pairs:
            signal.connect(slot)
        return pairs

    # --- engine events -----------------------------------------------------------------------
    def _on_room_joined(self) -> None:  # for a window opened before joining
        self.setWindowTitle(f"{self.bridge.room_name or 'Meeting'} — PeerMeet")
        if self.grid.me is not None:
            self.grid.me.set_name(self.bridge.display_name)
        self.people.set_me(self.bridge.display_name)
        self.my_media.show()
        self._tick_clock()

    def _on_chat(self, peer_id: str, name: str, text: str) -> None:
        self.chat.add_message(self.peer_views.label(peer_id, name), text, sender=peer_id)
        if not (self.isActiveWindow() and self.chat.isVisible()):  # not seen: a sound
            self.bridge.cue("chat")
            if not self.isActiveWindow():
                QApplication.alert(self)  # the taskbar entry asks for attention
        self.sides.count_unread()

    def _on_ended(self, reason: str) -> None:
        self._over = True
        self._clock.stop()
        rejoin = reason == "disconnected" and self._join_again is not None and bool(self._link)
        text = ended_text(reason, host=self.hosting.host, rejoin=rejoin)
        if reason != "left":
            self.banner.show_message(text, "ended", 0)
        typing = self.chat.entry.hasFocus()
        self.toolbar.show_ended(rejoin)  # (the head count then says the call ended)
        if typing:  # the keyboard to the video, not to Close: the next Space closed the window
            self.grid.setFocus()
        self.peer_views.clear(reason)
        self.grid.clear_me()
        self.chat.close_entry("The call has ended", reason)
        if reason in ENDINGS:  # its link no longer works
            self.people.invite.hide()
        for menu in (self.leave_menu, self.device_menus.menu, self.share.menu):
            if menu is not None:
                menu.close()

    # --- actions -----------------------------------------------------------------------------
    def toggle_mic(self) -> None:  # (app.ui.call_media)
        self.my_media.toggle_mic()

    def toggle_camera(self) -> None:
        self.my_media.toggle_camera()

    def toggle_full_screen(self) -> None:  # (a maximized window comes back maximized)
        self.setWindowState(self.windowState() ^ Qt.WindowState.WindowFullScreen)

    def _escape(self) -> None:
        """Out of full screen first, else close the side panel (the keyboard goes back to the
        button that opened it)."""
        if self.isFullScreen():
            self.toggle_full_screen()
            return
        self.sides.show(None)

    def _send_chat(self, parts: list[str]) -> None:
        alone = not self.bridge.peers()  # (waiting for others, or getting back in)
        self.bridge.send_chat(parts)  # (one message in parts: the others show it as one)
        self.chat.add_message(self.bridge.display_name, "".join(parts), mine=True)
        if alone:
            self.chat.add_notice("Nobody else is in the call right now: no one got this message.")

    def _tick_clock(self) -> None:
        count = len([k for k in self.grid.tiles if k[1] == "video"]) + 1
        room = self.bridge.room_name or "Meeting"
        self.toolbar.show_info(room, count, time.monotonic() - self._started)
        if self._over:
            return
        self.my_media.show()  # (a microphone plugged in or out)
        self.my_media.check_camera()
        self.news.warn_of_the_end()
        self.my_media.hint_muted()

    # --- leaving -----------------------------------------------------------------------------
    @property
    def leave_menu(self) -> QMenu | None:
        """The host's Leave menu: leave, or end the meeting for everyone (app.ui.call_host)."""
        return self.hosting.menu

    def _again_clicked(self) -> None:
        self._again = True
        self.close()

    def end_for_everyone(self) -> None:
        """End the meeting for everyone in it (host only), then leave and close; if it cannot
        be ended, say why and stay."""
        self.hosting.end_for_everyone()

    async def leave(self) -> None:
        """Leave the call, stop everything this window runs, and close it. Idempotent."""
        await asyncio.shield(self._start_leaving())

    def _start_leaving(self) -> asyncio.Task[None]:
        """The one leave of this window, started now unless it already is."""
        if self._leaving is None:
            self._leaving = asyncio.get_running_loop().create_task(self._leave())
        return self._leaving

    async def _leave(self) -> None:
        self.toolbar.show_leaving()
        self.hosting.stop()
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self.chats.keep(self._link, self.chat)  # for the next call of this meeting
        self._clock.stop()
        self.tasks.cancel()
        await self.tasks.wait()
        try:
            await self.people.aclose()
            await self.bridge.leave()
        except Exception:  # the window must close even if leaving went wrong
            log.exception("leaving the call failed")
        finally:
            self.grid.stop()
            self._done = True
            keep_prompts_of(self)  # (a knock still waiting is answered from outside the call)
            self.close()
            self.closed.emit()
            if self._again and self._join_again is not None:
                self._join_again(self._link)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._done:
            event.accept()
            return
        event.ignore()  # leave first; _leave closes the window when done
        self._start_leaving()

    def focusNextPrevChild(self, next: bool) -> bool:  # Tab's order: app.ui.call_tabs
        stops = tab_stops(self, self.grid, self.toolbar, self.banner, self.chat, self.people)
        return tab_on(self, next, stops) or super().focusNextPrevChild(next)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        fit_panels(self.width(), (self.chat, self.people))
        if self.banner.isVisible():
            self.banner.place()

    def changeEvent(self, event: QEvent) -> None:  # a text size chosen in Settings, in the call
        super().changeEvent(event)
        if text_changed(event) and hasattr(self, "people"):  # (not while being built; its
            fit_panels(self.width(), (self.chat, self.people))  # least size: TextLeast)
