"""Knock-to-join dialogs. Both show the same 4-digit code, so people can compare it aloud.

* ``HostKnockPrompt``: "Alice wants to join — code 4 8 2 1  [Admit] [Deny]"; ``ask_host`` turns it
  into the ``ask`` coroutine ``app.meeting.lan.HostLan`` takes (closed if the knock is withdrawn).
* ``GuestWaitDialog``: "Waiting for the host… code 4 8 2 1  [Cancel]"; ``knock_with_dialog`` runs a
  knock (any ``(on_code) -> Link`` coroutine) under it.
* ``confirm_new_key``: the explicit warning before knocking on a host whose key changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import PeerMeetError
from app.net.knockdesk import KnockRequest
from app.net.pins import PinCheck
from app.ui import style

T = TypeVar("T")
OnCode = Callable[[str, int], None]
MIN_WIDTH = 380  # px: room for the hints on two or three lines
CASCADE = 32  # px between knock prompts open at once
KEYS_AFTER_MS = 1000  # a knock prompt ignores keys this long (they were meant for elsewhere)
#: in the main and the call window: the knock prompt waiting, with the keyboard on it (it
#: opens without taking the keyboard, and a keyboard-only host had to reach it with Alt+Tab)
KNOCK_KEY = "Ctrl+Shift+K"
_open_prompts: list[HostKnockPrompt] = []


def _code_label(code: str) -> QLabel:
    label = QLabel(code)
    label.setProperty("role", "safety")  # the app stylesheet sets font sizes; this role is large
    font = QFont()
    font.setPointSizeF(28 * style.text_scale())
    font.setBold(True)
    label.setFont(font)  # used where no app stylesheet is applied
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class HostKnockPrompt(QDialog):
    """Admit or deny one knock; ``on_decision`` is called once (closing the window = deny)."""

    def __init__(
        self,
        name: str,
        code: str,
        on_decision: Callable[[bool], None],
        parent: QWidget | None = None,
        room: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Someone is knocking")
        self._on_decision: Callable[[bool], None] | None = on_decision
        where = f" “{style.isolated(_escape(room))}”" if room else ""  # which of your meetings
        shown = style.shortened(name)
        who = style.isolated(_escape(shown))
        self.headline = QLabel(f"<b>{who}</b> wants to join{where} — code")
        if shown != name:  # the whole name on hover
            self.headline.setToolTip(style.plain_tip(name))
        self.headline.setWordWrap(True)
        self.setMinimumWidth(MIN_WIDTH)
        self.code = _code_label(code)
        hint = QLabel("Admit only if their screen shows the same code.")
        #: what a screen reader says as it opens (it does not take the keyboard: nothing was)
        meeting = f" “{room}”" if room else ""
        self.asks = f"{name} wants to join{meeting}, code {code}. {hint.text()}"
        self.said = f"{self.asks} {KNOCK_KEY} takes you there."
        self.admit_button, self.deny_button = QPushButton("Admit"), QPushButton("Deny")
        self.admit_button.clicked.connect(lambda: self._decide(True))
        self.deny_button.clicked.connect(lambda: self._decide(False))
        # it opens while the host may be typing (in the chat, say): it does not take the
        # keyboard, and for its first second no key presses a button (a click does)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        for button in (self.admit_button, self.deny_button):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        QTimer.singleShot(KEYS_AFTER_MS, self, self._take_keys)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.admit_button)
        self.admit_button.setProperty("role", "primary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)  # (as the app's other dialogs)
        for widget in (self.headline, self.code, hint):
            layout.addWidget(widget)
        layout.addLayout(buttons)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.deny_button.isDefault():  # (its first second over: keys count)
            super().keyPressEvent(event)

    def _take_keys(self) -> None:
        """Tab reaches the buttons, Enter and Esc deny, from now on."""
        for button in (self.admit_button, self.deny_button):
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.deny_button.setDefault(True)

    def withdraw(self) -> None:
        """The guest gave up or time ran out: close without a decision."""
        self._on_decision = None
        self.close()

    def _decide(self, admit: bool) -> None:
        callback, self._on_decision = self._on_decision, None
        if callback is not None:
            callback(admit)
        self.close()

    def reject(self) -> None:  # Esc or the window's close button
        self._decide(False)


async def ask_host(
    parent: QWidget | None, request: KnockRequest, cue: Callable[[str], None] = lambda kind: None
) -> bool:
    """Show the prompt until the host decides; a cancelled knock closes it. ``cue("knock")``
    sounds it (DeskSound.play: on the call's speaker, or on one opened for it)."""
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def decided(admit: bool) -> None:
        if not answer.done():
            answer.set_result(admit)

    prompt = HostKnockPrompt(request.name, request.code, decided, parent, room=request.room)
    prompt.show()
    style.announce(prompt, prompt.said)
    QApplication.alert(prompt)  # PeerMeet in the background: its taskbar entry asks for attention
    cue("knock")
    others = [p for p in _open_prompts if p.isVisible()]
    if others:  # several knocks at once: a cascade, not a pile where only the top one shows
        prompt.move(others[-1].pos() + QPoint(CASCADE, CASCADE))
    _open_prompts.append(prompt)
    try:
        return await answer
    finally:
        _open_prompts.remove(prompt)
        prompt.withdraw()
        prompt.deleteLater()


def to_front() -> bool:
    """The knock prompt waiting longest to the front, with the keyboard on Deny (Tab: Admit),
    and what it asks said again; False if none is waiting."""
    waiting = [p for p in _open_prompts if p.isVisible()]
    if not waiting:
        return False
    prompt = waiting[0]
    prompt._take_keys()  # (asked for: keys count at once)
    prompt.raise_()
    prompt.activateWindow()
    prompt.deny_button.setFocus()
    style.announce(prompt, prompt.asks)
    return True


def keep_prompts_of(window: QWidget) -> None:
    """``window`` goes away (a call window closes, then is deleted): the knock prompts shown
    over it stay on their own, still to be answered (as its children they would be deleted
    with it, and the knock left without an answer)."""
    for prompt in _open_prompts:
        if prompt.parentWidget() is window:
            where = prompt.pos()
            prompt.setParent(None, prompt.windowFlags())
            prompt.move(where)
            prompt.show()


class GuestWaitDialog(QDialog):
    """The guest's side while the host decides; ``on_cancel`` stops the knock."""

    def __init__(
        self,
        room: str,
        on_cancel: Callable[[], None],
        parent: QWidget | None = None,
        host: str = "",  # the host's announced name: two rooms may have one name
    ):
        super().__init__(parent)
        self.setWindowTitle("Knocking")
        self._on_cancel: Callable[[], None] | None = on_cancel
        self._room, self._host = room, style.isolated(style.shortened(host)) if host else ""
        self.status = QLabel(f"Knocking on “{room}”" + (f" ({self._host})" if host else "") + " …")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # (a host's words: never markup)
        self.status.setWordWrap(True)
        self.code = _code_label("· · · ·")
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.button = QPushButton("Cancel")
        self.button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.button)  # (not stretched across the whole dialog)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)  # (as the app's other dialogs)
        for widget in (self.status, self.code, self.hint):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.setMinimumWidth(MIN_WIDTH)

    def show_code(self, code: str, timeout_s: int) -> None:
        self.code.setText(code)
        who = self._host or "the host"  # (whose room, when two have the same name)
        self.status.setText(f"Waiting for {who} to let you in to “{self._room}” …")
        self.hint.setText(
            f"The host sees a code too: it must be the same. They have {timeout_s} s to answer."
        )
        style.grow_to_fit(self, wider=True)
        # (the keyboard is on Cancel: a screen reader said nothing of the code, nor below)
        style.announce(self.code, f"Your code: {code}. {self.hint.text()}")

    def fail(self, text: str) -> None:
        """Say why it did not work; the button now just closes."""
        self._on_cancel = None
        self.status.setText(text)
        self.hint.setText("")
        self.hint.hide()
        self.code.hide()  # (the code was for the knock that is over)
        self.button.setText("Close")
        layout = self.layout()
        if layout is not None:  # as high as what is left needs: no blank band for the code
            layout.activate()
            self.resize(self.width(), layout.totalHeightForWidth(self.width()))
        style.grow_to_fit(self, wider=True)  # (wrapped lines need more height)
        style.announce(self.status, urgent=True)

    def reject(self) -> None:
        callback, self._on_cancel = self._on_cancel, None
        if callback is not None:
            callback()
        super().reject()


async def knock_with_dialog(
    parent: QWidget | None, room: str, knock: Callable[[OnCode], Awaitable[T]], host: str = ""
) -> T | None:
    """Run ``knock(on_code)`` under a GuestWaitDialog: its result, or None if it failed or the
    person cancelled. A failure stays on screen until closed, but the knock is over at once
    (another one may start meanwhile)."""

    def cancel() -> None:
        task.cancel()

    dialog = GuestWaitDialog(room, cancel, parent, host)
    task = asyncio.ensure_future(knock(dialog.show_code))
    dialog.show()
    failed = False
    try:
        return await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # we ourselves are being cancelled
        return None
    except PeerMeetError as exc:
        dialog.fail(str(exc))
        failed = True
        return None
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        if failed:  # left for the person to read; gone when they close it
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        else:
            dialog.close()
            dialog.deleteLater()


def confirm_new_key(parent: QWidget | None, check: PinCheck) -> bool:
    """The explicit "host key changed" warning; True only if the person chooses to knock anyway."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Host key changed", check.warning, parent=parent)
    anyway = box.addButton("Knock anyway", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is anyway


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
