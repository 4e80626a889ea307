"""Joining a meeting from the home window (app.ui.main_window): its Join dialog, one at a time.

A link comes from Join meeting, a pasted or opened link, My meetings, a started meeting or a
knock let in on this network. One join dialog at a time (each one's preview holds the camera and
microphone): a second one comes to the front, a link handed over replaces one not yet joining.
A link for another meeting while in a call, or while a join is under way, asks first
(``leave_to_join``, ``stop_joining_to_join``), then leaves that call or gives up that join
before this one starts; the link of the call already open brings that call to the front.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.errors import PeerMeetError
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.ui.bridge import Bridge
from app.ui.join_dialog import Choice, JoinDialog


def _ask(parent: QWidget, title: str, text: str, go_text: str, stay_text: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, "", parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    go = box.addButton(go_text, QMessageBox.ButtonRole.AcceptRole)
    stay = box.addButton(stay_text, QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stay)
    box.exec()
    return box.clickedButton() is go


def leave_to_join(parent: QWidget, here: str, there: str) -> bool:
    """Ask before leaving the call in the meeting ``here`` to join the meeting ``there``."""
    text = f"You are in “{here}”. Leave it to join “{there}”?"
    return _ask(parent, "Leave this call?", text, "Leave and join", "Stay")


def stop_joining_to_join(parent: QWidget, here: str, there: str) -> bool:
    """Ask, over the main window (the join's dialog may go), to join ``there``, not ``here``."""
    text = f"You are joining “{here}”. Stop that and join “{there}” instead?"
    return _ask(parent, "Join another meeting?", text, "Join the other one", "Keep joining")


def _room(link: str) -> str:
    try:
        return parse_link(link).room
    except PeerMeetError:
        return "the meeting of the link you opened"  # (the join dialog says what is wrong)


def _same_secret(a: str, b: str) -> bool:
    try:
        return parse_link(a).secret == parse_link(b).secret
    except PeerMeetError:
        return a.strip() == b.strip()


def same_meeting(bridge: Bridge, link: str) -> bool:
    """``link`` is for the meeting of ``bridge``'s call (in it, or last in it)."""
    current = bridge.link
    try:
        wanted = parse_link(link)
    except PeerMeetError:
        return False
    return current is not None and wanted.secret == current.secret


class Joins:
    """The home window's joins. ``home``: the home window (the dialogs' parent, where the
    questions are asked); ``dialogs``: its open dialogs, which ``keep`` adds to and shows;
    ``call``: its call window, if one is open; ``open_call``: opens the call window, once
    joined."""

    def __init__(
        self,
        home: QWidget,
        host: HostService,
        bridge: Bridge,
        settings: SettingsStore,
        open_call: Callable[[], None],
        *,
        dialogs: list[QDialog],
        keep: Callable[[QDialog], None],
        call: Callable[[], QWidget | None],
    ) -> None:
        self._home, self._host, self._bridge, self._settings = home, host, bridge, settings
        self._open_call, self._dialogs, self._keep, self._call = open_call, dialogs, keep, call
        self._switching: asyncio.Future[None] | None = None  # leaving one call for another

    def open(
        self, link: str = "", auto: bool = False, muted: bool = False, choice: Choice | None = None
    ) -> JoinDialog | None:
        """The join dialog for ``link``; None when that is the call already open (it comes to
        the front) or the person would rather stay in the call they are in."""
        if link and self._in_a_call_first(link, auto, muted) is not None:
            return None
        typed = ""  # a name typed into the dialog a handed-over link replaces
        for old in [d for d in self._dialogs if isinstance(d, JoinDialog)]:
            if link and old.joining and not _same_secret(old.link.text(), link):
                was = (
                    old.name.text(),
                    old.mic_box.isChecked() and not muted,
                    old.cam_box.isChecked(),
                )
                if not stop_joining_to_join(self._home, _room(old.link.text()), _room(link)):
                    return old if old in self._dialogs else None  # (kept: it may be done now)
                if old in self._dialogs and old.joining:  # (not done while asked)
                    self._switching = asyncio.ensure_future(self._rejoin(old, link, muted, was))
                    return None
                return self.open(link, True, muted, was)
            if not link or old.joining:  # one at a time: each one's preview holds the camera
                old.raise_()  # and microphone (and a join under way is not cut short)
                old.activateWindow()
                return old
            typed = old.name.text() if old.name.isModified() else typed
            old.reject()  # a link handed over replaces it (and the camera is let go)
        dialog = JoinDialog(
            self._bridge, self._settings, self._open_call, link, self._home, muted=muted,
            hosted=lambda text: self._host.store.find(text) is not None,
            in_a_call=lambda text, set_to: self._in_a_call_first(text, True, False, set_to),
            choice=choice,
        )  # fmt: skip
        self._keep(dialog)
        if typed:
            dialog.name.setText(typed)
            dialog.name.setModified(True)  # (typed still, should yet another link come)
        if auto and link:
            dialog.start_join()
        return dialog

    def _in_a_call_first(
        self, link: str, auto: bool, muted: bool, choice: Choice | None = None
    ) -> bool | None:
        """Joining ``link`` while in a call: that call to the front if it is the same one, or
        ask, and leave it first (True: taken care of; False: the person stays where they are);
        None: not in a call, go ahead."""
        call = self._call()
        if not (self._bridge.in_call and call is not None and call.isVisible()):
            return None
        try:
            there = parse_link(link).room
        except PeerMeetError:
            return None  # (the join dialog says what is wrong with it; the call goes on)
        if same_meeting(self._bridge, link):
            call.showNormal()
            call.raise_()
            call.activateWindow()
            return True
        if not leave_to_join(self._home, self._bridge.room_name, there):
            return False
        self._switching = asyncio.ensure_future(self._switch(call, link, auto, muted, choice))
        return True

    async def _switch(
        self, call: QWidget, link: str, auto: bool, muted: bool, choice: Choice | None = None
    ) -> None:
        await call.leave()  # type: ignore[attr-defined]  # (CallWindow: leaves, then closes)
        QTimer.singleShot(0, self._home, lambda: self.open(link, auto, muted, choice))  # (below)

    async def _rejoin(self, old: JoinDialog, link: str, muted: bool, choice: Choice) -> None:
        """Give up the join under way in ``old`` (what it opened is let go), then join ``link``
        as ``old`` was set, from Qt's loop: that may ask, in a dialog loop where no task runs."""
        old.reject()
        await old.tasks.wait()
        QTimer.singleShot(0, self._home, lambda: self.open(link, True, muted, choice))
