"""The call window's Share screen button. With more than one monitor it first asks which one
(a menu over the button: each monitor by name and size, or all of them); a wide desktop of two
monitors squeezed into one picture is too small to read. Then the share itself, and what the
window shows of it: the "your screen" tile and a notice."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from app.media.screen import Region, ScreenCapture
from app.ui.banner import Banner
from app.ui.bridge import Bridge
from app.ui.call_notes import SHARING, SHARING_ALONE
from app.ui.call_toolbar import CallToolbar
from app.ui.task_set import TaskSet
from app.ui.video_grid import MY_SCREEN, VideoGrid

ANY_SCREEN = "All screens, as one picture"
#: (what a person reads, the part of the X screen it is in pixels)
Monitor = tuple[str, Region]


def monitors() -> list[Monitor]:
    """This desktop's monitors, as Qt knows them, in X's pixels: a screen's position is in
    them already (Qt scales only its size, by the device pixel ratio: HiDPI)."""
    found = []
    for number, screen in enumerate(QGuiApplication.screens(), start=1):
        g, scale = screen.geometry(), screen.devicePixelRatio()
        x, y, w, h = g.x(), g.y(), round(g.width() * scale), round(g.height() * scale)
        found.append((f"Screen {number}: {screen.name()} ({w}×{h})", (x, y, w, h)))
    return found


class ShareControl:
    def __init__(
        self,
        parent: QWidget,
        bridge: Bridge,
        toolbar: CallToolbar,
        grid: VideoGrid,
        banner: Banner,
        tasks: TaskSet,
        over: Callable[[], bool],
    ) -> None:
        """``tasks``: the window's (cancelled as it closes); ``over()``: the call has ended
        (no "your screen" tile then)."""
        self._parent, self.bridge, self.toolbar = parent, bridge, toolbar
        self.grid, self.banner, self.tasks, self._over = grid, banner, tasks, over
        self.monitors: Callable[[], list[Monitor]] = monitors  # (tests give their own)
        self.menu: QMenu | None = None  # which monitor, while it is asked
        self._switching = 0  # shares being started or stopped from the button
        self.alert: Callable[[QWidget], None] = QApplication.alert  # (tests see it called)
        toolbar.share_button.clicked.connect(self.toggle)

    def toggle(self, on: bool) -> None:
        """The button: stop sharing, or share (asking which monitor, when there are several)."""
        found = self.monitors() if on else []
        if len(found) < 2:
            self._share(on)
            return
        self.toolbar.share_button.setChecked(False)  # (not sharing until one is picked)
        if self.menu is not None:
            self.menu.deleteLater()  # (the one of the last share: not one kept per click)
        menu = self.menu = QMenu(self._parent)
        title = menu.addAction("Share which screen?")
        title.setEnabled(False)
        for text, region in found:
            menu.addAction(text).triggered.connect(lambda _=False, r=region: self._share(True, r))
        menu.addSeparator()
        menu.addAction(ANY_SCREEN).triggered.connect(lambda: self._share(True))
        self.toolbar.pop_up(menu, self.toolbar.share_button)

    def _share(self, on: bool, region: Region | None = None) -> None:
        self.toolbar.share_button.setEnabled(False)
        self.tasks.spawn(self._switch(on, region))

    async def _switch(self, on: bool, region: Region | None) -> None:
        bridge, default = self.bridge, self.bridge.screen_source
        if region is not None:  # (read as the share starts: the default is back at once)
            bridge.screen_source = partial(ScreenCapture, region=region)
        self._switching += 1
        try:
            await bridge.share_screen(on)
        finally:
            self._switching -= 1
            bridge.screen_source = default
            self.toolbar.share_button.setEnabled(True)
            self.toolbar.show_sharing(bridge.sharing_screen)

    def shared(self, on: bool) -> None:
        """The bridge's screenShared: our share started or stopped (by itself too)."""
        self.toolbar.show_sharing(on)
        if not on:
            self.grid.remove(MY_SCREEN)
            if not self._switching and self.bridge.in_call:
                self._stopped_by_itself()
        elif not self._over():
            self.grid.add(MY_SCREEN, self.bridge.display_name, self.bridge.local_screen_frame)
            self.banner.show_message(SHARING if self.bridge.peers() else SHARING_ALONE, seconds=5)

    def _stopped_by_itself(self) -> None:
        """The sharer is usually in another window: the taskbar entry asks for attention, and
        the notice saying why (shown just before) stays until they have seen it."""
        window = self._parent.window()
        if not window.isActiveWindow():
            self.alert(window)
            if self.banner.isVisible():
                level = str(self.banner.property("level") or "notice")
                self.banner.show_message(self.banner.text.text(), level, seconds=0)
