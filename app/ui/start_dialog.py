"""Start a meeting: name, size, lifetime, where the rendezvous runs; then the link and QR code."""

from __future__ import annotations

import io
import time

import segno
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import PeerMeetError
from app.meeting.hosting import HostService
from app.meeting.links import generate_room_name, slugify
from app.meeting.store import MeetingRecord
from app.net.rooms import CAPACITY
from app.ui import style
from app.ui.elided import ElidedLabel
from app.ui.forms import copy_text, form_layout, form_row, named
from app.ui.geometry import screen_of
from app.ui.task_set import TaskSet

SIZES = {"small": ("Small", "720p"), "mid": ("Medium", "480p"), "large": ("Large", "360p")}
LIFETIMES = {"1 hour": 3600, "3 hours": 3 * 3600, "8 hours": 8 * 3600}
QR_PX = 184
LINK_PX = 640
FORM_PX = 580  # the form's width at the design text size (no wider than the screen)


def size_label(size: str) -> str:
    word, quality = SIZES[size]
    return f"{word} — up to {CAPACITY[size]} people, {quality}"


def qr_image(text: str, scale: int = 8, fit: int = 0) -> QImage:
    """The link as a QR code (dark on white, with a quiet zone phones need); ``fit``: the
    largest whole number of pixels per module that fits in that many pixels, instead of
    ``scale`` (scaled afterwards, the modules come out uneven and blurred)."""
    code = segno.make(text, error="m")
    if fit:
        scale = max(1, fit // int(code.symbol_size(border=3)[0]))
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=scale, border=3, dark="#111318")
    return QImage.fromData(buf.getvalue())


def _heading(text: str, role: str = "heading") -> QLabel:
    label = QLabel(text)
    label.setProperty("role", role)
    return label


class StartDialog(QDialog):
    enterRequested = Signal(str)  # the share link: the main window opens the join dialog

    def __init__(self, host: HostService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a meeting")
        self.host = host
        self.tasks = TaskSet()
        self.record: MeetingRecord | None = None
        self.pages = QStackedWidget()
        self._page_widgets = [self._form_page(), self._share_page()]
        for page in self._page_widgets:
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(self.pages)
        self._show_page(0)
        self.name.setFocus()
        self.name.selectAll()
        # made the default before it was in the dialog, Start did not count as its default:
        # showing the dialog then made the first button in the Tab order, "1 hour", the one
        # Enter presses
        self.start_button.setDefault(False)  # (setting it again is a no-op: off, then on)
        self.start_button.setDefault(True)

    def _show_page(self, index: int) -> None:
        """Size the dialog for the page shown (a stack is otherwise as big as its largest)."""
        for i, page in enumerate(self._page_widgets):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        self.pages.setCurrentIndex(index)
        self._fit_screen()
        self.pages.adjustSize()
        self.resize(self.sizeHint())

    def _fit_screen(self) -> None:
        """On a screen too narrow for the dialog as designed (800 px across): the form no
        wider than the screen, and the QR code under the link, not beside it (the dialog was
        928 px wide there, 926 at the largest text: its right side off the screen)."""
        screen, layout = screen_of(self), self.layout()
        room = screen.availableGeometry().width() if screen is not None else 1 << 16
        if layout is not None:  # (its margins)
            room -= layout.contentsMargins().left() + layout.contentsMargins().right()
        self._page_widgets[0].setMinimumWidth(min(style.by_text(FORM_PX), room))
        beside = room >= LINK_PX + self.qr.width() + self._link_and_qr.spacing()
        self._link_and_qr.setDirection(
            QBoxLayout.Direction.LeftToRight if beside else QBoxLayout.Direction.TopToBottom
        )

    # --- page 1: the form -------------------------------------------------------------------
    def _form_page(self) -> QWidget:
        self.name = QLineEdit(generate_room_name())
        self.name.setMaxLength(64)
        self.slug = named(QLabel(), "Hint")
        self.name.textChanged.connect(self._show_slug)
        self.size_box = QComboBox()
        for key in SIZES:
            self.size_box.addItem(size_label(key), key)
        self.lifetime = QButtonGroup(self)
        lifetimes = QHBoxLayout()
        lifetimes.setSpacing(6)
        for i, (text, seconds) in enumerate(LIFETIMES.items()):
            button = QPushButton(text)
            button.setCheckable(True)
            button.setChecked(seconds == 3 * 3600)
            button.setProperty("role", "segment")
            button.setAccessibleName(f"Lifetime: {text}")  # (a screen reader heard "3 hours")
            button.installEventFilter(self)  # Enter starts, arrows pick (see eventFilter)
            self.lifetime.addButton(button, seconds)
            lifetimes.addWidget(button)
            button.setProperty("pos", ("first", "mid", "last")[min(i, 2)])
        lifetimes.addStretch()
        self.lifetime.idToggled.connect(self._tab_to_picked)
        self._tab_to_picked()
        self.here = QRadioButton("This computer")
        self.here.setChecked(True)
        self.here.setToolTip("Others on your network join you directly. Keep PeerMeet open.")
        self.outside = QRadioButton("A rendezvous server:")
        self.server = QLineEdit(placeholderText="https://meet.example.org")
        self.server.setAccessibleName("Rendezvous server address")  # (it had no name at all)
        self.server.setEnabled(False)
        self.outside.toggled.connect(self.server.setEnabled)
        where = QVBoxLayout()
        where.setSpacing(6)
        where.addWidget(self.here)
        outside = QHBoxLayout()
        outside.addWidget(self.outside)
        outside.addWidget(self.server, 1)
        where.addLayout(outside)
        self.ipv6 = QCheckBox("Also accept IPv6 connections")
        self.show_lan = QCheckBox("Show on this network")
        self.show_lan.setChecked(True)
        self.show_lan.setToolTip(
            "People nearby see the meeting's name in PeerMeet and can knock; you admit each one."
        )
        self._show_lan_choice = True  # the box as the person left it (see _outside_toggled)
        self.outside.toggled.connect(self._outside_toggled)
        self.error = named(QLabel(wordWrap=True), "ErrorBox")
        self.error.hide()
        self.start_button = QPushButton("Start meeting", default=True)
        self.start_button.setProperty("role", "primary")
        self.start_button.clicked.connect(self.start)
        # Enter in a field presses Start meeting, the default button, once. (Also starting on
        # the field's returnPressed had the dialog press another button after Start turned
        # itself off: "1 hour", so every meeting started with Enter lasted an hour.)
        self.server.textChanged.connect(lambda _: style.hide_note(self, self.error))
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        form = form_layout()
        name_box = QVBoxLayout()
        name_box.setSpacing(4)
        name_box.addWidget(self.name)
        name_box.addWidget(self.slug)
        form_row(form, "Meeting name", name_box, like=self.name, names=self.name)
        form_row(form, "Size", self.size_box)
        form_row(form, "Lifetime", lifetimes, like=self.lifetime.buttons()[0])
        form_row(form, "Meeting point", where, like=self.here)
        form.addRow("", self.ipv6)
        form.addRow("", self.show_lan)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(self.start_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        layout.addWidget(_heading("Start a meeting", "hero"))
        layout.addWidget(_heading("You get a link to send. Anyone with it can join.", "dim"))
        layout.addSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addStretch()
        layout.addLayout(buttons)
        self._show_slug(self.name.text())
        return page

    def _tab_to_picked(self, *_: object) -> None:
        """Tab reaches the lifetime picked, not "1 hour" (the arrows pick another), as with
        radio buttons."""
        for button in self.lifetime.buttons():
            picked = button.isChecked()
            button.setFocusPolicy(
                Qt.FocusPolicy.StrongFocus if picked else Qt.FocusPolicy.ClickFocus
            )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On a Lifetime button, Enter starts the meeting (as everywhere in the form) and the
        arrow keys pick the next or previous lifetime, as radio buttons do."""
        buttons = sorted(self.lifetime.buttons(), key=self.lifetime.id)  # shortest first
        key = Qt.Key(event.key()) if isinstance(event, QKeyEvent) else None
        if event.type() != QEvent.Type.KeyPress or watched not in buttons or key is None:
            return super().eventFilter(watched, event)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.start()
            return True
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1}
        if key in step:
            at = buttons.index(watched) + step[key]
            if 0 <= at < len(buttons):
                buttons[at].setChecked(True)
                buttons[at].setFocus()
            return True
        return super().eventFilter(watched, event)

    def _show_slug(self, text: str) -> None:
        style.hide_note(self, self.error)  # what it said was about what was typed before
        try:
            self.slug.setText(f"In the link as: {slugify(text)}")
        except PeerMeetError:
            self.slug.setText("Use at least one letter or digit.")
        self.name.setAccessibleDescription(self.slug.text())  # read with the field

    def _outside_toggled(self, outside: bool) -> None:
        """Only a meeting on this computer is announced: on a server the box shows unticked
        (and greyed); back here it shows the person's choice again."""
        if outside:
            self._show_lan_choice = self.show_lan.isChecked()
        self.show_lan.setChecked(not outside and self._show_lan_choice)
        self.show_lan.setEnabled(not outside)

    def start(self) -> None:
        if self.tasks.busy:
            return
        if self.outside.isChecked() and not self.server.text().strip():
            self._fail("Type the rendezvous server's address, or choose “This computer”.")
            self.server.setFocus()
            return
        style.hide_note(self, self.error)
        self.start_button.setEnabled(False)
        self.start_button.setText("Starting…")
        self.tasks.spawn(self._start())

    async def _start(self) -> None:
        try:
            record = await self.host.start(
                self.name.text(),
                str(self.size_box.currentData()),
                self.lifetime.checkedId(),
                self.server.text() if self.outside.isChecked() else "",
                self.ipv6.isChecked(),
                lan=self.show_lan.isChecked() and self.here.isChecked(),
            )
        except PeerMeetError as exc:
            self._fail(str(exc))
            return
        finally:
            self.start_button.setEnabled(True)
            self.start_button.setText("Start meeting")
        self.show_record(record)

    def _fail(self, text: str) -> None:
        style.show_note(self, self.error, text)

    # --- page 2: the link -------------------------------------------------------------------
    def _share_page(self) -> QWidget:
        self.room_name = named(ElidedLabel(), "RoomName")  # (up to 48 characters, large)
        self.room_slug = named(ElidedLabel(), "Hint")  # the link's form of the name, if other
        self.link = named(QLabel(wordWrap=True), "ShareLink")
        self.link.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link.setMinimumWidth(LINK_PX)
        self.expiry = QLabel(wordWrap=True)
        self.expiry.setProperty("role", "dim")
        self.copy = QPushButton("Copy link")
        self.copy.setProperty("role", "outline")
        self.copy.clicked.connect(lambda: copy_text(self.link.text(), self.copy))
        self.qr = named(QLabel(alignment=Qt.AlignmentFlag.AlignCenter), "QrCode")
        self.qr.setFixedSize(QR_PX + 16, QR_PX + 16)
        self.qr.setAccessibleName("QR code of the share link, to scan with a phone")
        self.enter = QPushButton("Enter meeting")
        self.enter.setProperty("role", "primary")
        self.enter.clicked.connect(self._enter)
        done = QPushButton("Close")
        done.clicked.connect(self.accept)
        copy_row = QHBoxLayout()
        copy_row.setSpacing(12)
        copy_row.addWidget(self.copy)
        copy_row.addWidget(self.expiry, 1)
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(_heading("Your meeting is ready", "dim"))
        left.addWidget(self.room_name)
        left.addWidget(self.room_slug)
        left.addSpacing(14)
        left.addWidget(_heading("Share this link", "heading"))
        left.addWidget(self.link)
        left.addSpacing(2)
        left.addLayout(copy_row)
        left.addStretch()
        privacy = _heading(
            "Anyone who has this link can join, so send it only to the people you invite.", "dim"
        )
        privacy.setWordWrap(True)
        left.addWidget(privacy)
        qr_box = QVBoxLayout()
        qr_box.setSpacing(8)
        qr_box.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignHCenter)  # (over its words, also
        scan = _heading("Scan to take the link\nto your phone", "dim")
        scan.setAlignment(Qt.AlignmentFlag.AlignCenter)  # when both are under the link)
        qr_box.addWidget(scan)
        qr_box.addStretch()
        top = self._link_and_qr = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        top.setSpacing(32)
        top.addLayout(left, 1)
        top.addLayout(qr_box)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(done)
        buttons.addWidget(self.enter)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top, 1)
        layout.addSpacing(16)
        layout.addLayout(buttons)
        return page

    def show_record(self, record: MeetingRecord) -> None:
        self.record = record
        self.room_name.say(record.title or record.room)  # as typed (週次ミーティング too)
        self.room_slug.say(f"In the link as {record.room}")
        self.room_slug.setVisible(bool(record.title) and record.title != record.room)
        self.link.setText(record.link)
        ends = time.strftime("%H:%M", time.localtime(record.expires_at))
        hours = max(0.0, record.expires_at - self.host.now()) / 3600
        self.expiry.setText(f"Open until {ends} ({hours:.2g} h). Extend it in My meetings.")
        ratio = self.devicePixelRatioF()  # (sharp on a scaled display too)
        pixmap = QPixmap.fromImage(qr_image(record.link, fit=round(QR_PX * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        self.qr.setPixmap(pixmap)
        self._show_page(1)
        self.enter.setFocus()  # (a screen reader says that button: what it is for, here)
        style.announce(
            self.room_name,
            f"Your meeting “{record.title or record.room}” is ready. "
            f"{self.expiry.text()} Copy link, then send it to the people you invite.",
        )

    def _enter(self) -> None:
        if self.record is not None:
            self.enterRequested.emit(self.record.link)
        self.accept()

    def done(self, result: int) -> None:
        self.tasks.cancel()
        super().done(result)
