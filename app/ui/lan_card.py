"""The main window's "Rooms on this network": the live list from LAN discovery and Knock.

Knocking checks the host key pin first (a changed key needs an explicit "Knock anyway"), runs the
knock under the guest's wait dialog and, once the host admits, emits ``admitted(link)``: the main
window then joins exactly as with a pasted link. Owns its Discovery, the browser and the knock
task; ``shutdown()`` is idempotent (QWidget has its own ``close``). A room whose host could not
be reached shows as not answering (app.ui.lan_rooms) until it changes or its host answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.errors import PeerMeetError, RendezvousUnreachable
from app.meeting.lan import knock_room
from app.net.discovery import Discovery, RoomBrowser
from app.net.knocker import ODD
from app.net.lanroom import FoundRoom
from app.net.pins import PinCheck, PinStore
from app.ui.knock_dialogs import OnCode, confirm_new_key, knock_with_dialog
from app.ui.lan_rooms import LanRoomsWidget

log = logging.getLogger(__name__)
EMPTY = (
    "No meetings announced on this network yet.\n\n"
    "Meetings started nearby show up here, so you can join without a link."
)


class LanCard(QWidget):
    admitted = Signal(str)  # the link the host's answer unlocked

    def __init__(
        self,
        pins: PinStore,
        display_name: Callable[[], str],
        *,
        interfaces: Sequence[str] | None = None,  # None: every interface (tests: 127.0.0.1)
        hide: Callable[[FoundRoom], bool] = lambda room: False,  # e.g. our own rooms
        confirm: Callable[[QWidget, PinCheck], bool] = confirm_new_key,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._pins, self._display_name, self._interfaces = pins, display_name, interfaces
        self._hide, self._confirm = hide, confirm
        self.rooms = LanRoomsWidget(self.knock, pins.check, parent=self)
        if (inner := self.rooms.layout()) is not None:
            inner.setContentsMargins(0, 0, 0, 0)
        self.rooms.empty.setText(EMPTY)
        table = self.rooms.table
        table.setObjectName("LanTable")  # styled with the home window (app.ui.main_window)
        table.setShowGrid(False)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        table.verticalHeader().setDefaultSectionSize(44)
        header = table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setFixedHeight(30)
        self._knocking: asyncio.Task[None] | None = None
        self._discovery: Discovery | None = None
        self._browser: RoomBrowser | None = None
        self._found: list[FoundRoom] = []
        self._closed = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.rooms, 1)

    def start(self) -> None:
        """Start browsing (with the event loop running); says so in the card if it cannot."""
        if self._discovery is not None or self._closed:
            return
        try:
            self._discovery = Discovery(self._interfaces)
        except PeerMeetError as exc:
            self.rooms.empty.setText(str(exc))
            return
        self._browser = self._discovery.browse(self._show)

    def _show(self, rooms: Sequence[FoundRoom]) -> None:
        self._found = list(rooms)
        self.rooms.set_rooms([r for r in rooms if not self._hide(r)])

    def knock(self, room: FoundRoom) -> None:
        """Knock on ``room`` (one knock at a time; a changed host key asks first)."""
        if self.knocking or self._closed:
            return
        check = self._pins.check(room.info.room, room.info.fingerprint)
        if check.status == "changed" and not self._confirm(self.window(), check):
            return
        self._knocking = asyncio.ensure_future(self._knock(room))

    @property
    def knocking(self) -> bool:
        return self._knocking is not None and not self._knocking.done()

    async def _knock(self, room: FoundRoom) -> None:
        name = self._display_name().strip() or "Guest"

        async def knock(on_code: OnCode) -> str:
            try:
                link = str(await knock_room(room, name, on_code, pins=self._pins))
            except RendezvousUnreachable as exc:  # (a crashed host stays listed for minutes)
                if exc.reason == ODD:  # (it answered: not silent, whatever it said)
                    self.rooms.clear_silent(room)
                else:
                    self.rooms.mark_silent(room)
                raise
            except PeerMeetError:  # refused, denied …: whatever it said, the host answered
                self.rooms.clear_silent(room)
                raise
            self.rooms.clear_silent(room)
            return link

        try:
            link = await knock_with_dialog(self.window(), room.info.room, knock, room.info.host)
        except Exception:  # knock_with_dialog shows PeerMeetErrors; anything else is a bug
            log.exception("knocking on %s failed", room.info.room)
            return
        self._show(self._found)  # the host key is pinned now: show it as known
        if link is not None:
            self.admitted.emit(link)

    async def shutdown(self) -> None:
        """Stop a knock under way, stop browsing, close zeroconf. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._knocking is not None:
            self._knocking.cancel()
            await asyncio.gather(self._knocking, return_exceptions=True)
        if self._browser is not None:
            await self._browser.close()
        if self._discovery is not None:
            await self._discovery.close()
