"""What the call window's banner says of the call itself (app.ui.call_window), besides what its
parts say of theirs (our microphone and camera: app.ui.call_media; sharing the screen:
app.ui.share_control; the host's Leave: app.ui.call_host).

Notices given while joining, before the window opened (no microphone, no speaker); the meeting's
server lost, for as long as that lasts when alone (with others the call goes on: for a while),
and back in touch in its place; and the meeting's end coming near (app.ui.call_notes).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.ui.banner import Banner
from app.ui.bridge import Bridge
from app.ui.call_notes import BACK_IN_TOUCH, end_warning


class CallNews:
    """``host``: this person hosts the meeting (what they are told of its end differs)."""

    def __init__(self, bridge: Bridge, banner: Banner, host: Callable[[], bool]) -> None:
        self._bridge, self._banner, self._host = bridge, banner, host
        self._lost: list[str] = []  # what was said of the meeting's server lost, since in touch
        self._warned: set[tuple[float, int]] = set()  # (end, warning) already given

    def said_while_joining(self) -> None:
        """What was said while joining, before this window (the last three of it)."""
        bridge = self._bridge
        if bridge.in_call and bridge.call_notices:  # said while joining, before this window
            said = list(dict.fromkeys(bridge.call_notices))[-3:]  # e.g. no microphone, no speaker
            self._banner.show_message(" ".join(said))

    def reconnecting(self, text: str, with_others: bool) -> None:
        """Alone, say it for as long as it lasts; with others the call goes on: for a while.
        Back in touch takes the place of that, not of other news (someone else opened the
        meeting again, say: it stays readable, with this under it)."""
        if text:  # (in the place of what it said before: alone now, say)
            self._banner.show_message(text, seconds=12 if with_others else 0, over=self._lost)
            self._lost.append(text)
        else:
            lost, self._lost = self._lost, []
            self._banner.show_message(BACK_IN_TOUCH, "status", 6, over=lost)

    def warn_of_the_end(self) -> None:
        """The meeting's end near: 5 minutes and 1 minute before it, once each."""
        warning = end_warning(self._bridge.expires_at, time.time(), self._warned, self._host())
        if warning is not None:
            self._banner.show_message(warning, "warning", 20)
