"""The small menus beside Mute and Stop video: which microphone, speaker and camera the call
uses, switched on the spot (the choice is kept in Settings too; see app.ui.desktop_media).

The lists are read each time a menu opens, so a device plugged in during the call is there.
A call whose media has nothing to choose from (the headless test media) shows no arrows.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QPoint
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from app.meeting.settings import Settings
from app.ui.bridge import Bridge
from app.ui.call_toolbar import CallToolbar
from app.ui.desktop_media import Choices

TITLES = {"in": "Microphone", "out": "Speaker", "camera": "Camera"}
MIC_KINDS, CAMERA_KINDS = ("in", "out"), ("camera",)


class DeviceMenus:
    def __init__(
        self,
        toolbar: CallToolbar,
        bridge: Bridge,
        parent: QWidget,
        camera_off: Callable[[], None] = lambda: None,
    ) -> None:
        """``camera_off``: turns the video off, as the toolbar does (no camera was found)."""
        self.bridge, self._camera_off = bridge, camera_off
        self.menu = QMenu(parent)
        self.menu.setObjectName("DeviceMenu")
        self._buttons = {MIC_KINDS: toolbar.mic_more, CAMERA_KINDS: toolbar.cam_more}
        for button, kinds in ((toolbar.mic_more, MIC_KINDS), (toolbar.cam_more, CAMERA_KINDS)):
            button.clicked.connect(partial(self.open, button, kinds))
            button.setVisible(bridge.devices is not None)

    def open(self, button: QPushButton, kinds: tuple[str, ...]) -> None:
        """Show the devices of ``kinds`` above ``button`` (the toolbar is at the bottom)."""
        session, devices = self.bridge.session, self.bridge.devices
        if session is None or devices is None:
            return
        fill(self.menu, devices.choices(session.media), kinds, self.use)
        size = self.menu.sizeHint()
        spot = button.mapToGlobal(QPoint(0, -size.height() - 4))
        self.menu.popup(spot)

    def open_for(self, kinds: tuple[str, ...]) -> bool:
        """Show the menu of ``kinds`` (MIC_KINDS or CAMERA_KINDS) above its arrow; False if
        there is none (a call without device choices)."""
        button = self._buttons[kinds]
        if button.isHidden() or self.bridge.devices is None:
            return False
        self.open(button, kinds)
        return True

    def use(self, kind: str, device_id: str) -> None:
        session, devices = self.bridge.session, self.bridge.devices
        if session is not None and devices is not None:
            self._found(devices.use(session.media, kind, device_id))

    def follow(self, settings: Settings) -> None:
        """Settings were saved during the call: the devices chosen there are used at once."""
        session, devices = self.bridge.session, self.bridge.devices
        if session is not None and devices is not None:
            self._found(devices.follow(session.media, settings))

    def _found(self, camera: bool) -> None:
        if not camera and self.bridge.camera_on:  # else the others see a "no camera" pattern
            self._camera_off()


def fill(
    menu: QMenu, choices: Choices, kinds: tuple[str, ...], use: Callable[[str, str], None]
) -> None:
    """Put a titled, checkable list per kind into ``menu`` (emptied first); picking an entry
    calls ``use(kind, device_id)``."""
    menu.clear()
    for old in menu.findChildren(QActionGroup):
        old.deleteLater()
    for kind in kinds:
        if kind not in choices:
            continue
        options, current = choices[kind]
        if not menu.isEmpty():
            menu.addSeparator()
        title = menu.addAction(TITLES[kind])
        title.setEnabled(False)
        group = QActionGroup(menu)
        for device_id, name in options:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(device_id == current)
            action.setData(f"{kind}:{device_id}")
            group.addAction(action)
            action.triggered.connect(partial(use, kind, device_id))
    if menu.isEmpty():
        menu.addAction("No devices to choose from").setEnabled(False)
