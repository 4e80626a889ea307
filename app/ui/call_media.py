"""This person's own microphone and camera in the call window (app.ui.call_window).

Mute and Video (their buttons, Ctrl+D, Ctrl+E) switch them; the toolbar and our own tile show
them, and the others are told when a microphone is plugged in or out (without one they see us
muted). The banner says what is wrong with them, and takes that back once it is over: no
microphone to unmute (unless the device menu can offer one), a camera that stopped working
(video off), and talking while muted (a reminder, unless other news is showing).
"""

from __future__ import annotations

from collections.abc import Callable

from app.ui.banner import Banner
from app.ui.bridge import Bridge
from app.ui.call_notes import CAMERA_OFF, MUTED_HINT, NO_MIC
from app.ui.call_toolbar import CallToolbar
from app.ui.device_menu import MIC_KINDS, DeviceMenus
from app.ui.video_grid import VideoGrid


class MyMedia:
    """``over``: the call has ended (nothing to switch any more)."""

    def __init__(
        self,
        bridge: Bridge,
        toolbar: CallToolbar,
        grid: VideoGrid,
        banner: Banner,
        device_menus: DeviceMenus,
        over: Callable[[], bool],
    ) -> None:
        self._bridge, self._toolbar, self._grid, self._banner = bridge, toolbar, grid, banner
        self._device_menus, self._over = device_menus, over
        self._mic_found = True  # a microphone, as far as the others know
        self._muted_speech = bridge.muted_speech()  # hints already given (none, in a new call)

    def toggle_mic(self) -> None:
        if self._over():
            return
        if not self._bridge.mic_found:  # nothing to switch: where to find a microphone instead
            if not self._device_menus.open_for(MIC_KINDS):
                self._banner.show_message(NO_MIC, seconds=8)
            return
        self._bridge.set_mic(not self._bridge.mic_on)
        self.show()
        self._toolbar.say_switched("mic", self._bridge.mic_on)
        if self._bridge.mic_on:
            self._banner.drop(MUTED_HINT)  # unmuted: the reminder is done (other news stays)

    def toggle_camera(self) -> None:
        if self._over():
            return
        self._bridge.set_camera(not self._bridge.camera_on)
        if self._bridge.camera_on:  # the camera is back: "Your video is off" is done
            self._banner.drop(CAMERA_OFF)
        self.show()
        self._toolbar.say_switched("cam", self._bridge.camera_on)

    def show(self) -> None:
        """The microphone and camera as they are now, on the toolbar and our own tile."""
        bridge = self._bridge
        if bridge.mic_found != self._mic_found:  # plugged in or out: the others are told
            self._mic_found = bridge.mic_found  # (without one they see us muted)
            bridge.set_mic(bridge.mic_on)
        self._toolbar.show_media(bridge.mic_on, bridge.camera_on, bridge.mic_found)
        self._show_my_tile()

    def check_camera(self) -> None:
        """A camera that stopped working in the call (unplugged): video off, and why."""
        failed = self._bridge.camera_failed
        if failed and self._bridge.camera_on and not self._over():
            self.toggle_camera()
            self._banner.show_message(f"{failed} {CAMERA_OFF}", seconds=0)

    def _show_my_tile(self) -> None:
        """Our own tile's microphone and camera (none at all shows as off: nobody hears us)."""
        if self._grid.me is not None:
            bridge = self._bridge
            self._grid.me.set_media(bridge.mic_on and bridge.mic_found, bridge.camera_on)

    def hint_muted(self) -> None:
        """Talking while muted, heard since the last time: a reminder (a notice shown stays)."""
        heard = self._bridge.muted_speech()
        if heard > self._muted_speech:
            self._muted_speech = heard
            other_news = self._banner.isVisible() and self._banner.text.text() != MUTED_HINT
            if not self._bridge.mic_on and not other_news:  # a notice shown now stays
                self._banner.show_message(MUTED_HINT, seconds=6)
