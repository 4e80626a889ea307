"""The home window: Start meeting, Join meeting, My meetings, and rooms on this network.

Its building blocks are in app.ui.home_parts; joining from it (one join dialog at a time, and
leaving a call or a join under way for another meeting) in app.ui.home_joins."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.meeting.hosting import HostService
from app.meeting.settings import Settings, SettingsStore
from app.ui import geometry, host_controls, knock_dialogs, style, theme
from app.ui.bridge import Bridge
from app.ui.home_joins import Joins, same_meeting
from app.ui.home_parts import Columns, Logo, Placeholder, action, card, label
from app.ui.join_dialog import Choice, JoinDialog
from app.ui.lan_card import LanCard
from app.ui.meetings_view import MeetingsView
from app.ui.settings_dialog import SettingsDialog
from app.ui.start_dialog import StartDialog
from app.ui.task_set import TaskSet
from app.ui.text_least import TextLeast

log = logging.getLogger(__name__)
DISPOSE_RETRY_MS = 200  # a closed dialog still finishing a task is deleted after it
MIN_SIZE = (940, 580)
NEARBY = "Open meetings nearby: knock, and the host lets you in."
LAN_LEAST = 340  # px the rooms' table needs across for names, people, host key and Knock


class MainWindow(QMainWindow):
    def __init__(
        self,
        host: HostService,
        bridge: Bridge,
        settings: SettingsStore,
        open_call: Callable[[], None] | None = None,
        lan: LanCard | None = None,  # None: LAN discovery is off (the placeholder list shows)
    ) -> None:
        super().__init__()
        self.setObjectName("Home")
        self.setWindowTitle("PeerMeet")
        self.host, self.bridge, self.settings = host, bridge, settings
        host_controls.link_calls(host, bridge)  # our own meetings' calls: titles, reopening
        self._text_size = settings.load().text_size  # (as app.ui.main drew it at start)
        self.dialogs: list[QDialog] = []  # kept alive while open
        self.call_window: QWidget | None = None
        self.quit_box: QMessageBox | None = None  # "Quit PeerMeet?", while it asks
        self.joins = Joins(
            self, host, bridge, settings, open_call or self._show_call_window,
            dialogs=self.dialogs, keep=self._keep, call=lambda: self.call_window,
        )  # fmt: skip
        self.start_button = action(
            "+", "Start meeting", "Get a link to share. This computer hosts it.", accent=True
        )
        self.join_button = action("→", "Join meeting", "Paste a link someone sent you.")
        self.start_button.clicked.connect(self.open_start)
        self.join_button.clicked.connect(lambda: self.open_join())
        settings_button = QPushButton("Settings")
        settings_button.clicked.connect(self.open_settings)
        self.meetings = MeetingsView(
            host, in_it=lambda link: self.bridge.in_call and same_meeting(self.bridge, link)
        )
        self.meetings.enterRequested.connect(lambda link: self.open_join(link, auto=True))
        self.lan_list = QListWidget()  # (as tall as its rows: app.ui.home_parts.Columns)
        self.lan_list.setSizeAdjustPolicy(QListWidget.SizeAdjustPolicy.AdjustToContents)
        self.lan_list.itemActivated.connect(lambda item: self.open_join(item.data(256)))
        self.lan_empty = Placeholder(
            "No rooms found yet.\n\nMeetings started on this network will show up here, "
            "so you can join without a link."
        )
        lan_box = QWidget()
        lan_layout = QVBoxLayout(lan_box)
        lan_layout.setContentsMargins(0, 0, 0, 0)
        lan_layout.addWidget(self.lan_list)
        lan_layout.addWidget(self.lan_empty)
        self.lan = lan
        if lan is not None:  # admitted after a knock: join as with a pasted link, from Qt's
            # loop: the knock's task emits it, and in a call "Leave this call?" runs a dialog
            # loop, where no other task could wake while that one is running
            lan.admitted.connect(
                lambda link: QTimer.singleShot(0, self, lambda: self.open_join(link, auto=True))
            )
            lan_layout.addWidget(lan, 1)
        else:
            lan_layout.addStretch()
        self.show_lan_rooms([])
        header = QHBoxLayout()
        header.setSpacing(14)
        header.addWidget(Logo())
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(label("PeerMeet", role="hero"))
        tagline = "Private video meetings, straight from computer to computer."
        titles.addWidget(label(tagline, role="dim"))
        header.addLayout(titles, 1)
        header.addWidget(settings_button, 0, Qt.AlignmentFlag.AlignTop)
        actions = QHBoxLayout()
        actions.setSpacing(16)
        actions.addWidget(self.start_button)
        actions.addWidget(self.join_button)
        mine = card("My meetings", "Meetings you host, open while PeerMeet runs.", self.meetings)
        nearby = card("Rooms on this network", NEARBY, lan_box)
        self.cards = Columns([mine, nearby], least=LAN_LEAST)  # (narrow: one above the other)
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.setContentsMargins(28, 24, 28, 28)
        layout.setSpacing(20)
        layout.addLayout(header)
        layout.addLayout(actions)
        layout.addWidget(self.cards, 1)
        self.setCentralWidget(root)
        TextLeast(self, MIN_SIZE)  # below it, rows get cut (more of them with larger text)
        for keys, slot, button in (
            ("Ctrl+N", self.open_start, self.start_button),
            ("Ctrl+J", self.open_join, self.join_button),
            ("Ctrl+,", self.open_settings, settings_button),
            ("Ctrl+Q", self.close, None),
            (knock_dialogs.KNOCK_KEY, knock_dialogs.to_front, None),  # (someone knocking)
        ):
            shortcut = QShortcut(QKeySequence(keys), self, lambda slot=slot: slot())
            if button is not None:  # the shortcut in its tip
                text = shortcut.key().toString(QKeySequence.SequenceFormat.NativeText)
                button.setToolTip(f"{button.accessibleName() or button.text()} ({text})")
        self.start_button.setFocus()  # the first thing most people do
        # (a small or scaled screen: less; larger text: more)
        geometry.fit_screen(self, style.by_text_size(1080, 700))
        geometry.restore(self, settings, "main")  # where it was last, if it was

    def show_lan_rooms(self, rooms: list[tuple[str, str]]) -> None:
        """(name, link) rows for the placeholder list, shown only when LAN discovery is off."""
        self.lan_list.clear()
        for name, link in rooms:
            item = QListWidgetItem(name)
            item.setData(256, link)
            self.lan_list.addItem(item)
        self.lan_list.setVisible(bool(rooms) and self.lan is None)
        self.lan_empty.setVisible(not rooms and self.lan is None)

    def knock_parent(self) -> QWidget:
        """Where the host's "… wants to join" prompt goes: over the call if one is open."""
        return call if (call := self.call_window) is not None and call.isVisible() else self

    # --- dialogs -----------------------------------------------------------------------------
    def _keep(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _: self._forget(dialog))
        dialog.show()

    def _forget(self, dialog: QDialog) -> None:
        if dialog in self.dialogs:  # (finished can come twice: accept, then close)
            self.dialogs.remove(dialog)
            self._dispose(dialog)

    def _dispose(self, widget: QWidget) -> None:
        """Delete a closed dialog or call window once the tasks it started are done: a dialog
        is this window's child and would live as long as it (each join kept one, with its
        preview; each call its whole window)."""
        tasks = getattr(widget, "tasks", None)
        if isinstance(tasks, TaskSet) and tasks.busy:
            QTimer.singleShot(DISPOSE_RETRY_MS, self, lambda: self._dispose(widget))
            return
        widget.deleteLater()

    def open_start(self) -> StartDialog:
        dialog = StartDialog(self.host, self)
        dialog.enterRequested.connect(lambda link: self.open_join(link, auto=True))
        self._keep(dialog)
        return dialog

    def open_join(
        self, link: str = "", auto: bool = False, muted: bool = False, choice: Choice | None = None
    ) -> JoinDialog | None:
        """The join dialog for ``link`` (app.ui.home_joins); None when that is the call already
        open (it comes to the front) or the person would rather stay in the call they are in."""
        return self.joins.open(link, auto, muted, choice)

    def open_settings(self) -> SettingsDialog:
        for open_already in self.dialogs:  # one at a time: each opens the microphone
            if isinstance(open_already, SettingsDialog):
                open_already.raise_()
                open_already.activateWindow()
                return open_already
        dialog = SettingsDialog(self.settings, self)
        dialog.saved.connect(self._settings_saved)
        self._keep(dialog)
        return dialog

    def say_settings_problem(self) -> QMessageBox | None:
        """At start: settings that could not be read are said at once, not only in Settings
        (relay only, which hides this computer's address, may be off because of it)."""
        self.settings.load()
        if not self.settings.problem:
            return None
        box = QMessageBox(QMessageBox.Icon.Warning, "Your settings", "", parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(self.settings.problem)
        review = box.addButton("Open Settings", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(review)
        box.finished.connect(
            lambda _: self.open_settings() if box.clickedButton() is review else None
        )
        box.open()
        return box

    def _settings_saved(self, settings: Settings) -> None:
        timeout = self.bridge.config.connect_timeout_s
        self.bridge.config = settings.engine_config(connect_timeout_s=timeout)
        self.bridge.sounds = settings.sounds
        app = QApplication.instance()
        if isinstance(app, QApplication) and settings.text_size != self._text_size:
            self._text_size = settings.text_size
            theme.set_text_size(app, settings.text_size)
        menus = getattr(self.call_window, "device_menus", None)  # in a call: switch its devices
        if menus is not None:
            menus.follow(settings)

    def _show_call_window(self) -> None:
        try:
            from app.ui.call_window import CallWindow  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            log.warning("the call window is not available in this build")
            return
        window = self.call_window = CallWindow(
            self.bridge,
            end_meeting=host_controls.ending(self.host, self.bridge),
            join_again=lambda link: self.open_join(link, auto=True),
        )
        geometry.restore(window, self.settings, "call")
        window.closed.connect(lambda: self._call_closed(window))
        window.show()

    def _call_closed(self, window: QWidget) -> None:
        geometry.keep(window, self.settings, "call")
        if self.call_window is window:
            self.call_window = None
        self._dispose(window)

    def may_quit(self) -> bool:
        """Before the app quits (its last window closed): True, unless people are in meetings
        this computer hosts and the person would rather keep them going (app.ui.host_controls;
        this window is shown again then)."""
        busy = host_controls.busy_meetings(self.host)
        if not busy:
            return True
        self.show()
        self.raise_()
        self.quit_box = host_controls.quit_question(self, busy)
        quit_now = host_controls.ask(self.quit_box)
        self.quit_box = None
        if quit_now:
            self.hide()
        return quit_now

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.meetings.open_view()  # (ticking again after the window was closed, then shown)

    def closeEvent(self, event: QCloseEvent) -> None:
        geometry.keep(self, self.settings, "main")
        self.meetings.close_view()
        for dialog in list(self.dialogs):
            dialog.close()
        super().closeEvent(event)
