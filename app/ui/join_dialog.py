"""Join a meeting: paste the link, pick a name, watch each step; every failure said in words.

The dialog stays open on failure so the link can be fixed; on success it hands over to the call
window (``open_call``) and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.errors import PeerMeetError, StorageError
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.ui import style
from app.ui.bridge import Bridge
from app.ui.forms import form_layout, form_row, named
from app.ui.geometry import FRAME_PX, ScrollingBody, screen_of
from app.ui.join_news import JoinNews
from app.ui.preview import PREVIEW_SIZE, MediaPreview
from app.ui.task_set import TaskSet

log = logging.getLogger(__name__)
STEPS = (
    "Reach the meeting point",
    "Enter the room",
    "Find the others",
    "Secure handshake",
    "Video and sound flowing",
)
ICONS = {"todo": "○", "now": "◌", "done": "✓", "failed": "✕"}
LEAST_PREVIEW = (192, 108)  # px: the camera preview on a screen too short for it (16:9)

#: A headline per failure; the bridge's text then says what happened and what to do.
HEADLINES = {
    "malformed_link": "That link doesn't look right",
    "wrong_secret": "Wrong or outdated link",
    "no_such_room": "No meeting at this link",
    "room_expired": "This meeting has expired",
    "room_ended": "This meeting has ended",
    "room_full": "This meeting is full",
    "unreachable": "Can't reach the meeting host",
    "untrusted_certificate": "The meeting server's certificate is not trusted",
    "window": "Joined, but the call could not be shown",
}
#: "unreachable" on an https:// link: a rendezvous server, not the host's own computer
SERVER_UNREACHABLE = "Can't reach the meeting's server"
OWN_ROOM_FULL = (
    "Everyone your meeting has room for is in it. End it in My meetings and start a larger "
    "one, or wait for a free seat."
)
#: the step a failure belongs to (others: the step under way)
FAILED_STEP = {"malformed_link": 0, "unreachable": 1, "untrusted_certificate": 1} | {
    code: 2 for code in HEADLINES if code.startswith(("room_", "wrong_", "no_such"))
}


#: the engine's words for a step (its log's, the headless join's) as the steps above say them
STEP_WORDS = (
    ("reaching the rendezvous", "reaching the meeting point"),
    ("rendezvous reached", "meeting point reached"),
    ("peer found", "found the others"),
    ("media flowing", "video and sound flowing"),
)


def step_text(text: str) -> str:
    """What a step says once under way or done: "rendezvous reached (…)" became "Rendezvous
    reached (…)" under "Reach the meeting point", "Peer found" under "Find the others"."""
    for engine, ours in STEP_WORDS:
        if text.startswith(engine):
            text = ours + text[len(engine) :]
    return text[:1].upper() + text[1:]


def _plain(headline: str) -> str:
    """A headline as the engine's texts spell it ("Can't reach" -> "Cannot reach")."""
    return headline.replace("Can't", "Cannot")


def _on_a_server(text: str) -> bool:
    """Whether the link ``text`` is to a rendezvous server (its https:// form)."""
    try:
        return parse_link(text).secure
    except PeerMeetError:
        return False


def _same_start(text: str, headline: str) -> bool:
    return text.lower().startswith(_plain(headline).lower())


Choice = tuple[str, bool, bool]  # name, microphone on, camera on: what a join starts with


class JoinDialog(QDialog):
    def __init__(
        self,
        bridge: Bridge,
        settings: SettingsStore,
        open_call: Callable[[], None],
        link: str = "",
        parent: QWidget | None = None,
        *,
        preview: bool = True,
        muted: bool = False,
        hosted: Callable[[str], bool] = lambda link: False,
        in_a_call: Callable[[str, Choice], bool | None] = lambda link, choice: None,
        choice: Choice | None = None,
    ) -> None:
        """``hosted(link)``: this computer hosts that meeting (a full one is then theirs).
        ``in_a_call(link)``: while in a call, what joining ``link`` means for it (the main
        window asks, and leaves it first): True done, False stay, None not in a call; it gets
        what this dialog was set to, and gives it as ``choice`` to the dialog that joins."""
        super().__init__(parent)
        self.setWindowTitle("Join a meeting")
        self.bridge, self._settings, self._open_call = bridge, settings, open_call
        self._hosted, self._in_a_call = hosted, in_a_call
        self.tasks = TaskSet()
        self.failure: tuple[str, str] | None = None  # (code, text) of the last failure
        self._step = 0
        self.news = JoinNews(self)  # (what a screen reader hears meanwhile)
        self.link = QLineEdit(link, placeholderText="peermeet://…/meeting-name#k=…")
        self.link.setCursorPosition(0)  # a link handed over shows where it goes: its host
        self.link.setClearButtonEnabled(True)
        saved = settings.load()  # the name, and the boxes as the person last joined
        self.name = QLineEdit(saved.display_name, maxLength=64)
        self.name.setPlaceholderText("How the others see you")
        self._live_preview = preview
        self.preview = MediaPreview(settings, live=preview)  # the call needs the camera: stop()
        self.name.textChanged.connect(self.preview.set_name)
        self.mic_box, self.cam_box = QCheckBox("Microphone"), QCheckBox("Camera")
        self._asked_muted = muted  # this once (--muted): not remembered for the next join
        self.mic_box.setChecked(saved.join_mic and not muted)
        self.cam_box.setChecked(saved.join_camera)
        if choice is not None:  # (name, microphone, camera) as set in an earlier dialog
            self.name.setText(choice[0])
            self.mic_box.setChecked(choice[1])
            self.cam_box.setChecked(choice[2])
        self.mic_box.setToolTip("Off: you join muted, and nothing you say is sent until you unmute")
        self.cam_box.setToolTip("Off: you join with your video stopped")
        join_with = QHBoxLayout()
        join_with.setSpacing(18)
        join_with.addWidget(self.mic_box)
        join_with.addWidget(self.cam_box)
        join_with.addStretch()
        for box in (self.mic_box, self.cam_box):
            box.toggled.connect(self._show_join_with)
        self._show_join_with()
        self.error = named(QLabel(wordWrap=True), "ErrorBox")
        self.error.setTextFormat(Qt.TextFormat.RichText)
        self.error.hide()
        self.icons: list[QLabel] = []
        self.texts: list[QLabel] = []
        steps = QGridLayout()
        steps.setContentsMargins(16, 12, 16, 12)
        steps.setHorizontalSpacing(10)
        steps.setVerticalSpacing(6)
        for i, text in enumerate(STEPS):
            icon, label = named(QLabel(), "StepIcon"), named(QLabel(text), "StepText")
            icon.setFixedWidth(18)
            label.setWordWrap(True)  # (a step's text names the room and the address: long)
            steps.addWidget(icon, i, 0)
            steps.addWidget(label, i, 1)
            self.icons.append(icon)
            self.texts.append(label)
        steps.setColumnStretch(1, 1)
        self.join_button = QPushButton("Join", default=True)
        self.join_button.setProperty("role", "primary")
        self.join_button.clicked.connect(self.start_join)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        form = form_layout()
        form_row(form, "Meeting link", self.link)
        form_row(form, "Your name", self.name)
        form_row(form, "Camera and mic", self.preview, like=self.name)
        form_row(form, "Join with", join_with, like=self.mic_box)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.join_button)
        title = QLabel("Join a meeting")
        title.setProperty("role", "hero")
        hint = QLabel("Paste the link the host sent you.")
        hint.setProperty("role", "dim")
        layout = QVBoxLayout()  # all but the buttons: it scrolls on a screen too short for it
        layout.setContentsMargins(28, 24, 28, 8)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(form)
        panel = named(QWidget(), "StepsPanel")
        panel.setLayout(steps)
        # (not Fixed: that made its size hint, each long step wrapped on three lines, its
        # least height, and a failed join's body outgrew the dialog: a scroll bar came)
        panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(panel)
        layout.addWidget(self.error)
        layout.addStretch()
        buttons.setContentsMargins(28, 8, 28, 24)
        self._body = ScrollingBody(self, layout, buttons)
        self.setMinimumWidth(style.by_text(580))
        self._paint_steps(0)
        self._fit()  # not squeezed to 2/3 of a small screen, nor off it
        if link.strip():  # the link is in already: on to the name, or straight to Join
            (self.join_button if self.name.text().strip() else self.name).setFocus()
        else:  # ready for the paste
            self.link.setFocus()
        bridge.progress.connect(self._on_progress)
        bridge.failed.connect(self._on_failed)
        bridge.joined.connect(self._on_joined)

    def _fit(self) -> None:
        """As large as what it shows needs (it grows for an error, never shrinks), within the
        screen's free part, the camera preview smaller if that makes it fit: beyond that, all
        but the buttons scrolls."""
        self._size_preview()
        self._body.fit()

    def _size_preview(self) -> None:
        """The camera preview as designed (grown with the text), but smaller, down to
        LEAST_PREVIEW, on a screen too short for the dialog with it: at the largest text on a
        screen 1000 px high, a failed join scrolled its title half out of view."""
        full = style.by_text_size(*PREVIEW_SIZE)
        self._preview_size(full)
        if (screen := screen_of(self)) is None:
            return
        free = screen.availableGeometry().height() - FRAME_PX
        short = self._body.wanted().height() - free
        if short > 0:
            high = max(full.height() - short, LEAST_PREVIEW[1], 1)
            self._preview_size(QSize(round(high * full.width() / full.height()), high))

    def _preview_size(self, size: QSize) -> None:
        if self.preview.box.size() != size:
            self.preview.box.setFixedSize(size)
            self.preview.meter.bar.setFixedWidth(size.width())

    def _show_join_with(self) -> None:
        self.preview.set_media(self.mic_box.isChecked(), self.cam_box.isChecked())

    @property
    def joining(self) -> bool:
        return self.tasks.busy

    def start_join(self) -> None:
        if self.joining:
            return
        if self.bridge.in_call:  # (joining would leave that call without a word)
            choice = (self.name.text(), self.mic_box.isChecked(), self.cam_box.isChecked())
            switched = self._in_a_call(self.link.text(), choice)
            if switched:
                self.accept()  # the main window leaves the call, then joins in a new dialog
            if switched is not None:
                return
        self.failure = None
        self.error.hide()
        self.link.setAccessibleDescription("")
        self._step = 0
        self._paint_steps(0)
        self.join_button.setEnabled(False)
        self.join_button.setText("Joining…")
        self.preview.stop()  # hand the camera and microphone to the call
        for box in (self.mic_box, self.cam_box):  # what the join starts with is what is saved
            box.setEnabled(False)
        self.tasks.spawn(self._join(self.link.text(), self.name.text()))
        self.news.started(self.link.text())

    async def _join(self, link: str, name: str) -> None:
        try:
            await self.bridge.join(
                link, name, mic=self.mic_box.isChecked(), camera=self.cam_box.isChecked()
            )
        except asyncio.CancelledError:
            await self.bridge.leave()  # the user gave up half-way: release what was opened
            raise
        finally:
            self.news.stop()
            self.join_button.setEnabled(True)
            self.join_button.setText("Join")
            for box in (self.mic_box, self.cam_box):
                box.setEnabled(True)
            if self.failure is not None:  # (Join takes the focus only once enabled again)
                self._focus_after_failure(self.failure[0])
            if self._live_preview and self.failure is not None and self.isVisible():
                self.preview.start()  # still here to fix the link: check yourself again

    def _on_progress(self, step: int, text: str) -> None:
        if self.joining and 1 <= step <= len(STEPS):
            self._step = step
            self.news.step(step)
            self._paint_steps(step)
            self.texts[step - 1].setText(step_text(text))

    def _on_failed(self, code: str, text: str) -> None:
        if not self.joining:
            return
        self.failure = (code, text)
        if code == "room_full" and self._hosted(self.link.text().strip()):
            text = OWN_ROOM_FULL  # (not "ask the host": they are the host)
        headline = HEADLINES.get(code, "Could not join")
        if code == "unreachable" and _on_a_server(self.link.text()):
            headline = SERVER_UNREACHABLE
        if _same_start(text, headline):  # say it once
            text = text[len(_plain(headline)) :].lstrip(" :.—-")
            text = text[:1].upper() + text[1:]
        self.error.setText(f"<b>{html.escape(headline)}</b><br>{html.escape(text)}")
        self.error.show()
        said = f"{headline}. {text}"
        style.announce(self.error, said, urgent=True)
        self.link.setAccessibleDescription(said)
        self._fit()  # (a short screen: the error is scrolled into view)
        QTimer.singleShot(0, self, lambda: self._body.scroll.ensureWidgetVisible(self.error))
        step = FAILED_STEP.get(code, self._step)
        self._paint_steps(step, failed=step > 0)

    def _focus_after_failure(self, code: str) -> None:
        """To fix the link, or (unreachable) to press Join again once the host is back."""
        target = self.link if code != "unreachable" or not self.link.text() else self.join_button
        target.setFocus()

    def _on_joined(self) -> None:
        if not self.joining:
            return
        settings = self._settings.load()
        mic = self.mic_box.isChecked() or (self._asked_muted and settings.join_mic)
        joined = (self.name.text().strip() or settings.display_name, mic, self.cam_box.isChecked())
        if joined != (settings.display_name, settings.join_mic, settings.join_camera):
            settings.display_name, settings.join_mic, settings.join_camera = joined
            with contextlib.suppress(StorageError):  # a convenience for next time: join anyway
                self._settings.save(settings)
        try:
            self._open_call()
        except Exception as exc:  # a bug: say it, and leave the call nobody could see
            log.exception("could not open the call window")
            self._on_failed("window", f"Could not open the call window ({exc}). Try again.")
            self.tasks.spawn(self.bridge.leave())
            return
        self.accept()

    def _paint_steps(self, current: int, failed: bool = False) -> None:
        for i, (icon, label) in enumerate(zip(self.icons, self.texts, strict=True), start=1):
            state = "done" if i < current else "todo"
            if i == current:
                state = "failed" if failed else "now"
            if state in ("todo", "failed"):  # a failed step says what it was, not "…ing"
                label.setText(STEPS[i - 1])
            icon.setText(ICONS[state])
            for widget in (icon, label):
                widget.setProperty("state", state)
                widget.style().unpolish(widget)
                widget.style().polish(widget)

    def done(self, result: int) -> None:
        self.preview.stop()
        for signal, slot in (
            (self.bridge.progress, self._on_progress),
            (self.bridge.failed, self._on_failed),
            (self.bridge.joined, self._on_joined),
        ):
            signal.disconnect(slot)
        if result != QDialog.DialogCode.Accepted:
            self.tasks.cancel()
        super().done(result)
