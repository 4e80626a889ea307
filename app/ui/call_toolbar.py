"""The bar along the bottom of the call: room, head count and time on the left, then buttons
for the microphone, camera, screen sharing, the chat and people panels, and leaving.

It only shows state; CallWindow connects the buttons' ``clicked`` signals and acts on them.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QWidget

from app.ui import style

INFO_MAX_WIDTH = 380  # px the room / head count / time label may claim from the buttons


def _tool(text: str, tip: str, checkable: bool = False, role: str = "tool") -> QPushButton:
    button = QPushButton(text)
    button.setProperty("role", role)
    button.setToolTip(tip)
    button.setCheckable(checkable)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    # Tab reaches it (Space presses it); a click does not take the focus from the chat entry
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return button


def _more(tip: str) -> QPushButton:
    button = _tool("▴", tip, role="more")
    button.setAccessibleName(tip)
    return button


#: where the full labels do not fit (arrows, Join again and all), the bar is compact: short
#: labels, narrower buttons, no room name (its tip has everything), so that nothing is cut off
#: down to the window's minimum width
_LABELS = {  # what: (full, compact)
    "mute": ("Mute", "Mute"),
    "unmute": ("Unmute", "Unmute"),
    "no mic": ("No microphone", "No mic"),
    "stop video": ("Stop video", "Stop cam"),
    "start video": ("Start video", "Start cam"),
    "share": ("Share screen", "Share"),
    "stop sharing": ("Stop sharing", "Stop share"),
}


class CallToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Toolbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.info = QLabel()
        self.info.setProperty("role", "dim")
        self.mic_button = _tool("Mute", "Turn your microphone off (Ctrl+D)")
        self.cam_button = _tool("Stop video", "Turn your camera off (Ctrl+E)")
        #: the arrows beside them open the device menus (app.ui.device_menu)
        self.mic_more = _more("Choose the microphone and speaker")
        self.cam_more = _more("Choose the camera")
        self.share_button = _tool("Share screen", "Show your screen to everyone", True)
        self.chat_button = _tool("Chat", "Show the chat (Ctrl+Shift+C)", True)
        self.people_button = _tool(
            "People", "Participants, connections, safety codes (Ctrl+Shift+P)", True
        )
        self.leave_button = _tool("Leave", "Leave the meeting (Ctrl+W)", role="leave")
        self.again_button = _tool("Join again", "Join this meeting again (same link)", role="again")
        self.again_button.hide()  # (a call that was cut off)
        self.compact = False
        self._full_needs = 0  # px the full bar needed when it last went compact...
        self._measured: tuple[object, ...] = ()  # ...with these labels
        self._state = {"mic": "mute", "cam": "stop video", "share": "share"}
        self._info: tuple[str, int, float] | None = None
        self._over = False  # the call ended: the info says so, its time stops
        self._row = row = QHBoxLayout(self)
        self._pairs: list[QHBoxLayout] = []
        row.setContentsMargins(20, 10, 20, 14)
        row.setSpacing(10)
        row.addWidget(self.info, 1)
        for button in (self.mic_button, self.cam_button, self.share_button):
            more = {self.mic_button: self.mic_more, self.cam_button: self.cam_more}.get(button)
            pair = QHBoxLayout()  # the arrow snug against its button (hidden: no gap left)
            pair.setSpacing(0)
            for widget in (button, more) if more is not None else (button,):
                pair.addWidget(widget)
            row.addLayout(pair)
            self._pairs.append(pair)
        self._gap = QWidget()  # between the media buttons and the panels' buttons
        self._gap.setFixedWidth(14)
        row.addWidget(self._gap)
        row.addWidget(self.chat_button)
        row.addWidget(self.people_button)
        row.addStretch(1)
        row.addWidget(self.again_button)
        row.addWidget(self.leave_button)
        self._relabel()
        self._refresh_info()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        """A new text size (Settings, during the call): measured again once every button has
        its new font (the full bar's width, measured at the old size, no longer holds)."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._measured = ()
            QTimer.singleShot(0, self, self._refit)

    def _refit(self) -> None:
        self._refresh_info()  # (the room's name cut short for the new font)
        self._fit()

    def _fit(self) -> None:
        """Compact if the full bar does not fit its width; full again once it would (tried
        again when the labels changed since it was measured)."""
        room = self._info[0] if self._info else ""
        again = self.again_button.isHidden()
        labels = (*self._state.values(), self.chat_button.text(), again, room)
        if self.compact and (self.width() >= self._full_needs or labels != self._measured):
            self._set_compact(False)
        if not self.compact and (needs := self._needs()) > self.width():
            self._full_needs, self._measured = needs, labels
            self._set_compact(True)

    def _needs(self) -> int:
        """The width every label needs whole (the style sheet's min-width would let a button
        shrink below its text, so the layout's minimum is not it)."""
        for layout in (*self._pairs, self._row):  # (each caches its hint)
            layout.invalidate()
        return self._row.sizeHint().width()

    def _set_compact(self, compact: bool) -> None:
        self.compact = compact
        for button in self._tools():
            style.restyle(button, "compact", compact)
        margin = 10 if compact else 20
        self._row.setContentsMargins(margin, 10, margin, 14)
        self._row.setSpacing(6 if compact else 10)
        self._gap.setFixedWidth(0 if compact else 14)
        self._relabel()
        self._refresh_info()

    def _tools(self) -> tuple[QPushButton, ...]:
        return (
            self.mic_button,
            self.cam_button,
            self.share_button,
            self.chat_button,
            self.people_button,
        )

    def _relabel(self) -> None:
        """The media buttons' labels, for their state and the bar's width."""
        for button, key in (
            (self.mic_button, "mic"),
            (self.cam_button, "cam"),
            (self.share_button, "share"),
        ):
            button.setText(_LABELS[self._state[key]][self.compact])

    def _refresh_info(self) -> None:
        """The info label again, for the bar's width."""
        if self._info is not None:
            self._show_info(*self._info)
        else:
            self.info.setMinimumWidth(0 if self.compact else 200)

    def show_info(self, room: str, count: int, elapsed_s: float) -> None:
        """The room's name, how many are in the call (us included) and for how long."""
        if self._over and self._info is not None:
            elapsed_s = self._info[2]  # (how long it lasted)
        self._info = (room, count, elapsed_s)
        self._show_info(room, count, elapsed_s)
        self._fit()

    def _show_info(self, room: str, count: int, elapsed_s: float) -> None:
        minutes, seconds = divmod(int(elapsed_s), 60)
        people = "1 person" if count == 1 else f"{count} people"
        people = "call ended" if self._over else people
        clock = f"{minutes}:{seconds:02d}"
        self.info.setToolTip(f"{room} · {people} · {clock}")
        self.info.setMinimumWidth(0)  # (a QLabel's size hint never goes below its minimum)
        if self.compact:  # the head count and time only: the buttons need the width
            self.info.setText(f"{people}  ·  {clock}")
            self.info.setMinimumWidth(self.info.sizeHint().width())
            return
        rest = f"  ·  {people}  ·  {clock}"
        bold = QFont(self.info.font())
        bold.setBold(True)
        room_px = INFO_MAX_WIDTH - QFontMetrics(self.info.font()).horizontalAdvance(rest) - 4
        room = QFontMetrics(bold).elidedText(room, Qt.TextElideMode.ElideRight, room_px)
        self.info.setText(f"<b style='color:{style.TEXT}'>{html.escape(room)}</b>{rest}")
        # room for all of it, the buttons taking the squeeze (a long name is elided: see the tip)
        self.info.setMinimumWidth(min(max(200, self.info.sizeHint().width()), INFO_MAX_WIDTH))

    def show_media(self, mic: bool, cam: bool, mic_found: bool = True) -> None:
        """``mic``/``cam``: switched on; ``mic_found``: False while the call has no microphone
        at all (the button then says so, and what to do; muting is kept for when one comes)."""
        self._state["mic"] = "mute" if mic else "unmute"
        mic_tip = "Turn your microphone off (Ctrl+D)" if mic else "Turn your microphone on (Ctrl+D)"
        if not mic_found:
            self._state["mic"] = "no mic"
            mic_tip = "No microphone is connected: the others hear silence. Plug one in" + (
                ", or choose one here" if self.mic_more.isVisibleTo(self) else ""
            )
        self._state["cam"] = "stop video" if cam else "start video"
        self.mic_button.setToolTip(mic_tip)
        self.cam_button.setToolTip(
            "Turn your camera off (Ctrl+E)" if cam else "Turn your camera on (Ctrl+E)"
        )
        self._relabel()
        self._restyle(self.mic_button, "off", not (mic and mic_found))
        self._restyle(self.cam_button, "off", not cam)
        self._fit()

    def say_switched(self, what: str, on: bool) -> None:
        """A screen reader says what Ctrl+D (``what`` "mic") or Ctrl+E ("cam") did: nothing
        at all was said of it; on the button itself, its new label is read instead."""
        button, name = (
            (self.mic_button, "Microphone") if what == "mic" else (self.cam_button, "Camera")
        )
        if not button.hasFocus():
            style.announce(button, f"{name} {'on' if on else 'off'}")

    @staticmethod
    def _restyle(button: QPushButton, prop: str, value: bool) -> None:
        if button.property(prop) != value:  # (shown again every second: no needless repolish)
            style.restyle(button, prop, value)

    def show_sharing(self, on: bool) -> None:
        self.share_button.setChecked(on)
        self.share_button.setToolTip(
            "Stop showing your screen" if on else "Show your screen to everyone"
        )
        self._state["share"] = "stop sharing" if on else "share"
        self._relabel()
        self._fit()

    def show_unread(self, count: int) -> None:
        """Chat messages that arrived while the chat was hidden (0: none)."""
        self.chat_button.setText(f"Chat  {count}" if count else "Chat")
        self._fit()

    def show_ended(self, again: bool = False) -> None:
        """The call is over: nothing left to switch, Leave just closes the window; ``again``:
        it was cut off, and may be joined again with the same link."""
        self._over = True
        for button in (self.mic_button, self.cam_button, self.share_button):
            button.setEnabled(False)
            button.hide()  # (room for Join again; the chat and people stay to read)
        for button in (self.mic_more, self.cam_more):
            button.setEnabled(False)
            button.hide()
        self.leave_button.setText("Close")
        self.again_button.setVisible(again)
        (self.again_button if again else self.leave_button).setFocus()  # what is left to do
        self._refresh_info()
        self._fit()

    def pop_up(self, menu: QMenu, button: QWidget | None = None) -> None:
        """``menu`` just above ``button`` (default: Leave), their right edges lined up."""
        size, button = menu.sizeHint(), button or self.leave_button
        corner = button.mapToGlobal(button.rect().topRight())
        menu.popup(corner - QPoint(size.width(), size.height() + 6))

    def show_leaving(self) -> None:
        self.leave_button.setEnabled(False)
        self.leave_button.setText("Leaving…")


def leave_menu(parent: QWidget, leave: Callable[[], object], end: Callable[[], None]) -> QMenu:
    """The host's Leave: leave (the meeting stays open) or end it for everyone."""
    menu = QMenu(parent)
    menu.setObjectName("LeaveMenu")
    stay = menu.addAction("Leave meeting")
    stay.setToolTip("The meeting stays open: enter it again from My meetings.")
    stay.triggered.connect(leave)
    ending = menu.addAction("End meeting for everyone")
    ending.setToolTip("Everyone is told the meeting has ended, and its link stops working.")
    ending.triggered.connect(end)
    menu.setToolTipsVisible(True)
    return menu
