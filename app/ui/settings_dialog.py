"""Settings: your name, camera / microphone / speaker (with a live mic level), text size,
STUN/TURN servers."""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config import IceServer
from app.errors import StorageError
from app.media.camera import camera_name, list_cameras
from app.meeting.settings import Settings, SettingsStore, parse_ice_server
from app.ui import style
from app.ui.audio_present import ConnectedDevices
from app.ui.forms import form_layout, form_row, named, wrapping
from app.ui.geometry import ScrollingBody
from app.ui.preview import TEST_PATTERN, MicMeter, Note
from app.ui.theme import TEXT_SIZES

log = logging.getLogger(__name__)


DEFAULT, NOT_CONNECTED = "System default", " (not connected)"
NO_CAMERA = "No camera found: your video stays off"
#: the first entry of the microphone's and the speaker's lists when the system has none
NO_MIC = "No microphone found: the others hear silence"
NO_SPEAKER = "No speaker found: you cannot hear the others"


def _combo(default: str, devices: list[tuple[str, str]], current: str, none: str = "") -> QComboBox:
    combo = QComboBox()
    _fill(combo, default, devices, current, none)
    return combo


def _fill(
    combo: QComboBox, default: str, devices: list[tuple[str, str]], current: str, none: str = ""
) -> None:
    """The system default (``none`` instead, if given, when there is no device: "System
    default" read as if there were one), then each device; the chosen one stays, "(not
    connected)" if gone."""
    gone = NOT_CONNECTED
    name = combo.currentText().removesuffix(gone) if combo.currentData() == current else current
    blocked = combo.blockSignals(True)  # the choice itself does not change
    combo.clear()
    combo.addItem(default if devices or not none else none, "")
    for device_id, description in devices:
        combo.addItem(description, device_id)
    if current and combo.findData(current) < 0:
        combo.addItem(f"{name or current}{gone}", current)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(blocked)


def _text_sizes(current: int) -> QComboBox:
    """Text size: Normal, Large… (and a size set by hand in the file, as it is)."""
    combo = QComboBox()
    for percent, word in sorted({current: f"{current} %", **TEXT_SIZES}.items()):
        combo.addItem(word if percent == 100 else f"{word} ({percent} %)", percent)
    combo.setCurrentIndex(combo.findData(current))
    combo.setToolTip("How large PeerMeet draws its text (over your system's font size)")
    return combo


def _ice_text(server: IceServer) -> str:
    return f"{server.urls}  (user {server.username})" if server.username else server.urls


class SettingsDialog(QDialog):
    saved = Signal(object)  # the new Settings

    def __init__(
        self, store: SettingsStore, parent: QWidget | None = None, *, live_meter: bool = True
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.store = store
        settings = self._opened = store.load()
        self.name = QLineEdit(settings.display_name, maxLength=64)
        cameras = [(path, camera_name(path)) for path in list_cameras()]
        automatic = "Automatic (first camera found)" if cameras else NO_CAMERA
        pattern = (TEST_PATTERN, "Test pattern (a moving picture, no camera needed)")
        self.camera = _combo(automatic, [*cameras, pattern], settings.camera)
        # (Qt alone went on listing an unplugged headset, as if there, and chosen)
        self.devices = ConnectedDevices(self)  # plugged in or out
        self.mic = _combo(DEFAULT, self.devices.listed("in"), settings.microphone, NO_MIC)
        self.speaker = _combo(DEFAULT, self.devices.listed("out"), settings.speaker, NO_SPEAKER)
        self.meter = MicMeter()
        self.devices.changed.connect(
            lambda kind: self._mics_changed() if kind == "in" else self._speakers_changed()
        )
        self.servers = named(QListWidget(), "IceList")
        self.servers.setFixedHeight(84)
        for server in settings.ice_servers:
            self._add_item(server)
        self.url = QLineEdit(placeholderText="stun:stun.example.org:3478")
        self.user = QLineEdit(placeholderText="user (TURN)")
        self.password = QLineEdit(placeholderText="password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        for widget, name in (
            (self.servers, "STUN and TURN servers"),
            (self.url, "Server address"),
            (self.user, "TURN user name"),
            (self.password, "TURN password"),
        ):
            widget.setAccessibleName(name)
        for field in (self.url, self.user, self.password):
            field.installEventFilter(self)  # Enter adds the server typed (Save is a click away)
        QShortcut(
            QKeySequence.StandardKey.Delete,
            self.servers,
            self._remove_server,
            context=Qt.ShortcutContext.WidgetShortcut,
        )
        add = self.add_button = QPushButton("Add")
        remove = self.remove_button = QPushButton("Remove")
        for button, said, tip in (  # ("Add" alone, a screen reader said: add what?)
            (add, "Add server", "Add the server typed to the list (Enter in its fields)"),
            (remove, "Remove server", "Remove the server picked in the list (Delete)"),
        ):
            button.setAccessibleName(said)
            button.setToolTip(tip)
        add.clicked.connect(self.add_server)
        remove.clicked.connect(self._remove_server)
        self.error = named(QLabel(wordWrap=True), "ErrorBox")
        self.error.hide()
        entry = QHBoxLayout()
        entry.addWidget(self.url, 4)  # (its example whole, port and all)
        entry.addWidget(self.user, 2)
        entry.addWidget(self.password, 2)
        entry.addWidget(add)
        entry.addWidget(remove)
        ice_help = QLabel(
            "Without servers PeerMeet connects people directly, which works on the same "
            "network. Add a STUN server to reach people across the internet, and a TURN "
            "server for networks that block direct connections.",
            wordWrap=True,
        )
        ice_help.setProperty("role", "dim")
        form = form_layout()
        form_row(form, "Your name", self.name)
        form_row(form, "Camera", self.camera)
        form_row(form, "Microphone", self.mic)
        form.addRow("", self.meter)
        self.test_speaker = QPushButton("Test")
        self.test_speaker.clicked.connect(self._test_speaker)
        self.speaker_note = Note(elide=False)  # what Test found (not in the microphone's note)
        self.speaker_note.setWordWrap(True)
        self.speaker_note.hide()
        self.meter.speakerNews.connect(self._speaker_news)
        speaker_row = QHBoxLayout()
        speaker_row.setSpacing(10)
        speaker_row.addWidget(self.speaker, 1)
        speaker_row.addWidget(self.test_speaker)
        form_row(form, "Speaker", speaker_row, like=self.speaker, names=self.speaker)
        form.addRow("", self.speaker_note)
        self.sounds = QCheckBox()
        self.sounds.setChecked(settings.sounds)
        sounds = wrapping(
            self.sounds, "Play a sound when someone joins, leaves, knocks or sends a message"
        )
        sounds.setToolTip(
            "Short, quiet sounds on this speaker only: in a call, and for a knock at any time"
        )
        form.addRow("", sounds)
        self.text_size = _text_sizes(settings.text_size)
        form_row(form, "Text size", self.text_size)
        self._form = form
        save, cancel = QPushButton("Save", default=True), QPushButton("Cancel")
        save.setProperty("role", "primary")
        save.clicked.connect(self.save)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(save)
        title = QLabel("Settings")
        title.setProperty("role", "hero")
        self.relay_only = QCheckBox()
        self.relay_only.setChecked(settings.relay_only)
        relay_only = wrapping(
            self.relay_only,
            "Hide my IP address from the others (relay only: needs a TURN server above)",
        )
        ice_title = QLabel("Connection helpers (STUN / TURN)")
        ice_title.setProperty("role", "heading")
        layout = QVBoxLayout()  # all but the buttons: it scrolls on a screen too short for it
        layout.setContentsMargins(28, 24, 28, 8)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(ice_title)
        layout.addWidget(ice_help)
        layout.addWidget(self.servers)
        layout.addLayout(entry)
        layout.addWidget(relay_only)
        layout.addWidget(self.error)
        layout.addStretch()
        buttons.setContentsMargins(28, 8, 28, 24)
        self._body = ScrollingBody(self, layout, buttons)
        self.setMinimumWidth(style.by_text(620))
        self._show_devices()  # (before fit: its size is that of what shows)
        self._body.fit()  # not squeezed to 2/3 of a small screen, nor off it
        self.mic.currentIndexChanged.connect(self._switch_mic)
        if live_meter:
            self.meter.start(self.mic.currentData() or None)
        if store.problem:  # the file was damaged: say so, rather than show defaults as if saved
            self._say(store.problem)

    # --- STUN/TURN list -------------------------------------------------------------------
    def _add_item(self, server: IceServer) -> None:
        item = QListWidgetItem(_ice_text(server))
        item.setData(256, server)  # Qt.UserRole
        self.servers.addItem(item)

    def add_server(self) -> bool:
        try:
            server = parse_ice_server(self.url.text(), self.user.text(), self.password.text())
        except ValueError as exc:
            self._say(str(exc))
            return False
        listed = [self.servers.item(i).data(256) for i in range(self.servers.count())]
        if any(s.urls == server.urls for s in listed):
            self._say(f"{server.urls} is in the list already (remove it first to change it).")
            return False
        style.hide_note(self, self.error)
        self._add_item(server)
        for field in (self.url, self.user, self.password):
            field.clear()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter in a server's fields adds the server typed, and the dialog stays open."""
        key = event.key() if isinstance(event, QKeyEvent) else None
        enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.type() == QEvent.Type.KeyPress and self.url.text().strip():
            self.add_server()
            return True
        return super().eventFilter(watched, event)

    @staticmethod
    def _chosen(combo: QComboBox) -> str:
        return str(combo.currentData() or "")

    def _say(self, text: str) -> None:
        """Show what is wrong, growing the dialog for it (instead of squeezing the form)."""
        style.show_note(self, self.error, text, grow=self._body.fit)
        scroll = self._body.scroll  # (on a short screen it is below the fold: brought up)
        QTimer.singleShot(0, self, lambda: scroll.ensureWidgetVisible(self.error))

    def _remove_server(self) -> None:
        for item in self.servers.selectedItems():
            self.servers.takeItem(self.servers.row(item))

    def ice_servers(self) -> list[IceServer]:
        return [self.servers.item(i).data(256) for i in range(self.servers.count())]

    # --- saving ---------------------------------------------------------------------------
    def settings(self) -> Settings:
        """What the dialog shows, over what is saved (so settings it does not show are kept)."""
        latest, opened = self.store.load(), self._opened

        def picked(combo: QComboBox, was: str, now: str) -> str:
            """The device picked here; left as it was: the one saved now (a call's device
            menu may have picked another since this opened: that choice stands)."""
            value = str(combo.currentData())
            return now if value == was else value

        return dataclasses.replace(
            latest,
            display_name=self.name.text().strip() or Settings().display_name,
            camera=picked(self.camera, opened.camera, latest.camera),
            microphone=picked(self.mic, opened.microphone, latest.microphone),
            speaker=picked(self.speaker, opened.speaker, latest.speaker),
            ice_servers=self.ice_servers(),
            relay_only=self.relay_only.isChecked(),
            sounds=self.sounds.isChecked(),
            text_size=int(self.text_size.currentData()),
            unreadable=[],  # said when the dialog opened: saving lets them go
        )

    def save(self) -> None:
        if self.url.text().strip() and not self.add_server():
            return  # a server typed but not added: add it, or say what is wrong with it
        settings = self.settings()
        if settings.relay_only and not any(s.urls.startswith("turn") for s in settings.ice_servers):
            self._say(
                "Relay only sends everything through a TURN server: add one above first "
                "(turn:host:3478 with its user and password), or untick relay only."
            )
            return
        try:
            self.store.save(settings, reviewed=True)
        except StorageError as exc:  # stay open: nothing typed is lost
            self._say(str(exc))
            return
        self.saved.emit(settings)
        self.accept()

    def _test_speaker(self) -> None:
        """A chime on the speaker picked; what went wrong is said under it, beside its Test
        button (it replaced the microphone's note, far from the button, and what it said)."""
        self.meter.test_speaker(self.speaker.currentData() or None, self.speaker_note)
        self._speaker_news(self.speaker_note.full)

    def _speaker_news(self, text: str) -> None:
        """Under Test: what it found, or what became of its speaker since (unplugged mid-chime:
        the list alone said "not connected", not where the rest of the chime went)."""
        self.speaker_note.say(text)
        if self.speaker_note.isHidden() == bool(self.speaker_note.full):
            self.speaker_note.setVisible(bool(self.speaker_note.full))
            self._body.fit()

    # --- devices ----------------------------------------------------------------------------
    def _mics_changed(self) -> None:
        _fill(self.mic, DEFAULT, self.devices.listed("in"), self._chosen(self.mic), NO_MIC)
        self._show_devices()

    def _speakers_changed(self) -> None:
        devices = self.devices.listed("out")
        _fill(self.speaker, DEFAULT, devices, self._chosen(self.speaker), NO_SPEAKER)
        self._show_devices()

    def _show_devices(self) -> None:
        """Without a microphone its level (and "Speak to test…") is hidden, without a speaker
        Test is off (both showed, as if they could work); back when one is plugged in."""
        mic, speaker = self.mic.itemText(0) != NO_MIC, self.speaker.itemText(0) != NO_SPEAKER
        if self._form.isRowVisible(self.meter) != mic:
            self._form.setRowVisible(self.meter, mic)
            self._body.fit()
        self.test_speaker.setEnabled(speaker)
        self.test_speaker.setToolTip(
            "Play a short chime on this speaker" if speaker else "No speaker to play it on"
        )

    # --- microphone level -----------------------------------------------------------------
    def _switch_mic(self) -> None:
        self.meter.set_device(self.mic.currentData() or None)

    def done(self, result: int) -> None:
        self.meter.stop()
        self.devices.close()
        super().done(result)
