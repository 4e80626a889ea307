"""Participants, and for each one how the connection is doing and the safety code to compare.

While visible, the panel polls connection figures every POLL_MS through the bridge (one task at
a time, owned by the panel) and turns byte counters into bit rates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.meeting.call_ops import PeerStats
from app.ui import style
from app.ui.elided import ElidedLabel

log = logging.getLogger(__name__)
StatsSource = Callable[[str], Awaitable[PeerStats | None]]
POLL_MS = 1500
PATHS = {
    "host": "Local network (direct)",
    "direct": "Internet (direct)",
    "srflx": "Internet (direct, through NAT)",
    "relay": "Relayed (TURN server)",
}
STATES = {
    "new": "Waiting…",
    "connecting": "Connecting…",
    "connected": "Connected",
    "reconnecting": "Reconnecting…",
    "failed": "Connection failed",
}
ROWS = ("Path", "Address", "Round trip", "In / out", "Video", "Lost")


def _label(text: str = "", role: str = "") -> QLabel:
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    return label


class PeerCard(QFrame):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName("PeerCard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.name = ElidedLabel(name)  # up to 64 characters: elided, whole in the tooltip
        self.name.setProperty("role", "title")
        # at the left whichever way it reads (a right-to-left name went to the right, against
        # "Waiting…")
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignAbsolute
        self.name.setAlignment(left | Qt.AlignmentFlag.AlignVCenter)
        self.state = _label("Waiting…", "dim")
        self.media = _label("", "dim")  # muted, camera off, sharing: what their tile shows
        self.media.hide()
        self._cam, self._screen = True, False  # what their tile shows (set_media)
        self.code = _label("—", "safety")
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values = {row: _label("—") for row in ROWS}
        self._keys = {row: _label(row, "dim") for row in ROWS}
        self._last: PeerStats | None = None
        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.state)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        for i, row in enumerate(ROWS):
            # (a long value wraps: "Internet (direct, through NAT)" at large text, an IPv6
            # address; the card stays as wide as the panel, not wider, its right end cut off)
            self.values[row].setWordWrap(True)
            grid.addWidget(self._keys[row], i, 0)
            grid.addWidget(self.values[row], i, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.media)
        layout.addWidget(_label("Safety code", "dim"))
        layout.addWidget(self.code)
        layout.addLayout(grid)
        self.show_address(False)
        # a stop for Tab, and read whole by a screen reader: the safety code is to be read out
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setAccessibleName(name)
        self._describe()

    def _describe(self) -> None:
        said = [self.state.text(), self.media.text() if self.media.isVisibleTo(self) else ""]
        code = self.code.text()
        said.append(f"safety code {code}" if code != "—" else "no safety code yet")
        path = self.values["Path"].text()
        said.append(f"path: {path}" if path != "—" else "")
        self.setAccessibleDescription(". ".join(w for w in said if w) + ".")

    def set_name(self, name: str) -> None:
        self.name.say(name)
        self.setAccessibleName(name)

    def set_state(self, state: str, was_connected: bool) -> None:
        text = STATES.get(state, state.capitalize())
        if state in ("new", "connecting") and was_connected:
            text = "Reconnecting…"
        elif state == "reconnecting" and not was_connected:  # a first try again
            text = STATES["connecting"]
        colour = style.SPEAKING if state == "connected" else style.WARNING
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self._describe()

    def set_media(self, mic: bool, cam: bool, screen: bool) -> None:
        said = [
            w
            for w, on in (("Muted", not mic), ("Camera off", not cam), ("Sharing screen", screen))
            if on
        ]
        self.media.setText(" · ".join(said))
        self.media.setVisible(bool(said))
        self._cam, self._screen = cam, screen
        if not cam:
            self.values["Video"].setText("camera off")
        self._describe()

    def set_connected(self, path: str, code: str) -> None:
        self.values["Path"].setText(PATHS.get(path, path or "—"))
        self.code.setText(code or "—")
        self._describe()

    def show_address(self, on: bool) -> None:
        self._keys["Address"].setVisible(on)
        self.values["Address"].setVisible(on)

    def forget_rates(self) -> None:
        """The next figures start a new bit-rate measurement."""
        self._last = None

    def update_stats(self, st: PeerStats) -> None:
        self.values["Path"].setText(PATHS.get(st.path, st.path or "—"))
        self.values["Address"].setText(st.address or "unknown")
        video = f"{st.fps:.0f} fps" if self._cam else "camera off"
        if st.screen_fps is not None and self._screen:  # (sharing their screen: its rate too)
            video += f" · screen {st.screen_fps:.0f} fps"
        self.values["Video"].setText(video)
        if not st.measured:
            return
        self.values["Round trip"].setText(f"{st.rtt_ms:.0f} ms" if st.rtt_ms else "measuring…")
        last, self._last = self._last, st
        if last is not None and st.at > last.at:
            dt = st.at - last.at
            rate_in = max(0, st.bytes_in - last.bytes_in) * 8 / 1000 / dt
            rate_out = max(0, st.bytes_out - last.bytes_out) * 8 / 1000 / dt
            self.values["In / out"].setText(f"{rate_in:.0f} / {rate_out:.0f} kbit/s")
        lost = st.packets_lost
        self.values["Lost"].setText(f"{lost} packet{'' if lost == 1 else 's'}")


class PeerPanel(QWidget):
    def __init__(
        self,
        stats: StatsSource,
        parent: QWidget | None = None,
        *,
        link: Callable[[], str] = lambda: "",
    ) -> None:
        """``link``: the meeting's share link now ("" for none), for Copy invite link."""
        super().__init__(parent)
        self.setObjectName("SidePanel")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self._stats = stats
        self.cards: dict[str, PeerCard] = {}
        self._connected: set[str] = set()  # peers that were connected at least once
        self._task: asyncio.Task[None] | None = None
        self.title = _label("People", "title")
        hint = _label(
            "Read the safety code aloud with each person. If the numbers match on both "
            "screens, nobody is listening in between.",
            "dim",
        )
        hint.setWordWrap(True)
        self.addresses = QCheckBox("Show network addresses")
        self.addresses.toggled.connect(self._show_addresses)
        self.me = ElidedLabel()
        self.me.setProperty("role", "dim")
        body = QWidget()
        self._cards = QVBoxLayout(body)
        self._cards.setContentsMargins(0, 0, 4, 0)
        self._cards.setSpacing(10)
        self._cards.addStretch(1)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (nothing to do there with keys)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 12, 16)
        layout.setSpacing(8)
        self._link = link
        self.invite = QPushButton("Copy invite link")
        self.invite.setToolTip("Copy this meeting's link to send to someone else")
        self.invite.clicked.connect(self._copy_link)
        self.invite.setVisible(bool(link()))
        title_row = QHBoxLayout()
        title_row.addWidget(self.title, 1)
        title_row.addWidget(self.invite)
        layout.addLayout(title_row)
        for widget in (self.me, hint, self.addresses):
            layout.addWidget(widget)
        layout.addWidget(scroll, 1)
        self.polls = 0  # rounds of figures asked for so far
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll_soon)
        self._timer.start()

    # --- participants ----------------------------------------------------------------------------
    def set_me(self, name: str) -> None:
        self.me.say(f"You: {name}")
        self.invite.setVisible(bool(self._link()))  # (known once joined)

    def _copy_link(self) -> None:
        if link := self._link():
            QGuiApplication.clipboard().setText(link)
            self.invite.setText("Copied")
            QTimer.singleShot(1500, self.invite, lambda: self.invite.setText("Copy invite link"))

    def add_peer(self, peer_id: str, name: str) -> None:
        card = self.cards.get(peer_id)
        if card is None:
            card = self.cards[peer_id] = PeerCard(name)
            card.show_address(self.addresses.isChecked())
            self._cards.insertWidget(self._cards.count() - 1, card)
            self._retitle()
        card.set_name(name or peer_id)

    def remove_peer(self, peer_id: str) -> None:
        card = self.cards.pop(peer_id, None)
        self._connected.discard(peer_id)
        if card is not None:
            card.deleteLater()
            self._retitle()

    def set_state(self, peer_id: str, state: str) -> None:
        if peer_id in self.cards:
            self.cards[peer_id].set_state(state, peer_id in self._connected)
        if state == "connected":
            self._connected.add(peer_id)

    def set_media(self, peer_id: str, mic: bool, cam: bool, screen: bool) -> None:
        if peer_id in self.cards:
            self.cards[peer_id].set_media(mic, cam, screen)

    def set_connected(self, peer_id: str, path: str, code: str) -> None:
        if peer_id in self.cards:
            self.cards[peer_id].set_connected(path, code)
            self.set_state(peer_id, "connected")

    def _retitle(self) -> None:
        self.title.setText(f"People ({len(self.cards) + 1})")

    def _show_addresses(self, on: bool) -> None:
        for card in self.cards.values():
            card.show_address(on)

    # --- polling ---------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """Fresh figures as it opens, not those of when it was last shown."""
        super().showEvent(event)
        for card in self.cards.values():
            card.forget_rates()  # (a rate over the time it was closed is no news)
        if self._timer.isActive():
            QTimer.singleShot(0, self, self._poll_soon)
        self.take_keyboard()

    def take_keyboard(self) -> bool:
        """The keyboard to the first person, as the chat's goes to its entry (else to Copy
        invite link); False if there is neither."""
        first = next(iter(self.cards.values()), None)
        target = first if first is not None else self.invite
        if not target.isVisibleTo(self):
            return False
        target.setFocus()
        return True

    def _poll_soon(self) -> None:
        if not (self.isVisible() and self.cards) or (self._task and not self._task.done()):
            return
        try:
            self._task = asyncio.get_running_loop().create_task(self._poll())
        except RuntimeError:  # no asyncio loop running (the window is shown without qasync)
            self._timer.stop()

    async def _poll(self) -> None:
        self.polls += 1
        for peer_id in list(self.cards):
            st = await self._stats(peer_id)
            card = self.cards.get(peer_id)
            if st is not None and card is not None:
                card.update_stats(st)

    async def aclose(self) -> None:
        """Stop polling and wait for a poll in flight to end. Idempotent."""
        self._timer.stop()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
