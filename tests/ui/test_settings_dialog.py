"""Settings, and what the home window says of settings it cannot read, driven like a person
would."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QStyle, QStyleOptionButton
from pytestqt.qtbot import QtBot

from app.media.camera import list_cameras
from app.meeting.hosting import HostService
from app.meeting.settings import Settings, SettingsStore
from app.ui import style, theme
from app.ui.audio_io import QtAudioIO
from app.ui.bridge import Bridge
from app.ui.home_parts import Logo
from app.ui.main_window import MainWindow
from app.ui.preview import TEST_PATTERN
from app.ui.settings_dialog import NO_MIC, NO_SPEAKER, SettingsDialog
from tests.ui.dialog_fixtures import (
    bridge_fixture,  # noqa: F401 (the "bridge" fixture)
    clock_fixture,  # noqa: F401 (the "clock" fixture: the "host" fixture's)
    host_fixture,  # noqa: F401 (the "host" fixture)
    keep_running,  # noqa: F401 (a fixture: closing dialogs does not quit)
    settings_fixture,  # noqa: F401 (the "settings" fixture)
)


def test_settings_dialog_saves_and_explains(qtbot: QtBot, settings: SettingsStore) -> None:
    dialog = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(dialog)
    saved: list[object] = []
    dialog.saved.connect(saved.append)
    dialog.name.setText("Ada")
    if not list_cameras():  # (this machine has none) say so, instead of "Automatic"
        assert dialog.camera.itemText(0) == "No camera found: your video stays off"
    if not QtAudioIO.input_devices():  # (no sound server here) nor "System default"
        assert [dialog.mic.itemText(i) for i in range(dialog.mic.count())] == [NO_MIC]
    if not QtAudioIO.output_devices():
        assert [dialog.speaker.itemText(i) for i in range(dialog.speaker.count())] == [NO_SPEAKER]
        assert not dialog.test_speaker.isEnabled()  # (nothing to play a chime on)
        dialog.test_speaker.setEnabled(True)  # (as with a speaker listed, but none open)
    dialog.test_speaker.click()  # no sound device open here: it says so, nothing breaks
    assert dialog.meter.chimes == 0 and "No sound device" in dialog.speaker_note.full
    dialog.url.setText("stun.example.org:3478")
    assert not dialog.add_server() and "stun:" in dialog.error.text()
    dialog.url.setText("turn:turn.example.org:3478")
    dialog.user.setText("ada")
    dialog.password.setText("secret")
    assert dialog.add_server() and dialog.servers.count() == 1 and not dialog.url.text()
    dialog.url.setText("turn:turn.example.org:3478")  # the same one again
    dialog.user.setText("ada")
    dialog.password.setText("secret")
    assert not dialog.add_server() and "already" in dialog.error.text()
    assert dialog.servers.count() == 1
    for field in (dialog.url, dialog.user, dialog.password):
        field.clear()
    dialog.url.setText("stun:stun.example.org:3478")  # typed, not added: Save adds it
    dialog.save()
    loaded = settings.load()
    assert loaded.display_name == "Ada" and saved == [loaded]
    assert [s.urls for s in loaded.ice_servers] == [
        "turn:turn.example.org:3478",
        "stun:stun.example.org:3478",
    ]
    assert loaded.engine_config().ice_servers[0].credential == "secret"
    again = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(again)
    assert again.servers.count() == 2 and again.name.text() == "Ada"
    again.reject()
    kept = settings.load()  # what this dialog does not show survives its Save
    kept.join_mic = False
    settings.save(kept)
    third = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(third)
    third.save()
    assert not settings.load().join_mic


def shown_settings(qtbot: QtBot, settings: SettingsStore) -> SettingsDialog:
    dialog = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_a_device_picked_in_a_call_while_settings_is_open_stands(
    qtbot: QtBot, settings: SettingsStore
) -> None:
    """Settings open, the person picks another microphone in the call's menu (saved at once),
    then changes only their name in Settings and saves: the call's pick stands (Settings
    wrote back the microphone it had shown, and the call switched back to it)."""
    settings.save(Settings(display_name="Ada", microphone="mic-a", camera=TEST_PATTERN))
    dialog = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(dialog)
    settings.save(dataclasses.replace(settings.load(), microphone="mic-b"))  # the call's menu
    dialog.name.setText("Ada L.")
    dialog.save()
    saved = settings.load()
    assert (saved.display_name, saved.microphone, saved.camera) == ("Ada L.", "mic-b", TEST_PATTERN)
    again = SettingsDialog(settings, live_meter=False)  # picked in Settings: that choice counts
    qtbot.addWidget(again)
    again.camera.setCurrentIndex(0)  # "Automatic"
    again.save()
    assert settings.load().camera == "" and settings.load().microphone == "mic-b"


def test_settings_keys_enter_adds_a_server_and_delete_removes_it(
    qtbot: QtBot, settings: SettingsStore
) -> None:
    dialog = shown_settings(qtbot, settings)
    dialog.url.setText("stun:stun.example.org:3478")
    QTest.keyClick(dialog.url, Qt.Key.Key_Return)
    assert dialog.servers.count() == 1 and dialog.isVisible()  # added, not saved and closed
    assert settings.load().ice_servers == []
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    dialog.servers.setFocus()
    dialog.servers.setCurrentRow(0)
    QTest.keyClick(dialog.servers, Qt.Key.Key_Delete)
    assert dialog.servers.count() == 0
    names = {w.accessibleName() for w in (dialog.name, dialog.url, dialog.password)}
    assert names == {"Your name", "Server address", "TURN password"}  # for screen readers
    QTest.keyClick(dialog.name, Qt.Key.Key_Return)  # nothing typed for a server: Save
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted


def test_a_server_port_typed_in_full_width_digits_is_refused_not_saved(
    qtbot: QtBot, settings: SettingsStore
) -> None:
    """A Japanese input method types "３４７８": the server was listed and saved, and then each
    peer connection failed in aiortc ("malformed uri"): calls had no sound nor video. Now the
    dialog says how to write it and saves nothing; one in the file is not used."""
    settings.save(Settings(display_name="Ada"))
    before = settings.path.read_bytes()
    dialog = shown_settings(qtbot, settings)
    QTest.keyClicks(dialog.url, "stun:stun.example.org:")
    typed = QInputMethodEvent()  # (the digits, as an input method commits them)
    typed.setCommitString("３４７８")
    QApplication.sendEvent(dialog.url, typed)
    assert dialog.url.text() == "stun:stun.example.org:３４７８"
    dialog.save()  # (a server typed, not added: Save adds it first)
    assert dialog.isVisible() and dialog.servers.count() == 0
    assert "digits 0-9, like 3478" in dialog.error.text() and dialog.error.isVisible()
    assert settings.path.read_bytes() == before
    data = json.loads(before)  # an older version saved one: said, kept aside, not used
    data["ice_servers"] = [{"urls": "stun:stun.example.org:３４７８"}]
    settings.path.write_text(json.dumps(data), encoding="utf-8")
    assert settings.load().engine_config().ice_servers == ()
    again = shown_settings(qtbot, settings)
    assert "could not be read" in again.error.text() and again.servers.count() == 0


def test_an_error_in_settings_grows_the_dialog_and_gives_the_height_back(
    qtbot: QtBot, settings: SettingsStore
) -> None:
    dialog = shown_settings(qtbot, settings)
    height = dialog.height()
    dialog.url.setText("stun.example.org:3478")  # no scheme: refused, and why
    assert not dialog.add_server() and dialog.error.isVisible()
    assert dialog.height() > height  # the form is not squeezed for the message
    dialog.url.setText("stun:stun.example.org:3478")
    assert dialog.add_server() and not dialog.error.isVisible()
    assert dialog.height() == height  # the empty space is given back
    dialog.url.setText("nonsense")
    assert not dialog.add_server()
    dialog.resize(dialog.width(), dialog.height() + 40)  # the person made it taller
    tall = dialog.height()
    dialog.url.setText("stun:stun2.example.org:3478")
    assert dialog.add_server() and dialog.height() == tall  # their size is kept


def test_a_damaged_settings_file_is_said_in_the_dialog(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"display_name": "Ada", "ice_servers": [{"urls": "http://x"}]}')
    store = SettingsStore(path)
    dialog = SettingsDialog(store, live_meter=False)
    qtbot.addWidget(dialog)
    assert dialog.name.text() == "Ada"  # what could be read is there
    assert dialog.error.isVisibleTo(dialog) and "http://x" in dialog.error.text()
    dialog.save()
    assert store.problem == ""
    again = SettingsDialog(store, live_meter=False)
    qtbot.addWidget(again)
    assert not again.error.isVisibleTo(again)


def test_settings_that_cannot_be_written_keep_the_dialog_open(qtbot: QtBot, tmp_path: Path) -> None:
    (tmp_path / "peermeet").write_text("")  # a file where the folder should be (fails as root)
    settings = SettingsStore(tmp_path / "peermeet" / "settings.json")
    dialog = shown_settings(qtbot, settings)
    saved: list[object] = []
    dialog.saved.connect(saved.append)
    dialog.name.setText("Grace")
    form_height = dialog.name.height()
    dialog.save()
    assert dialog.isVisible() and saved == [] and dialog.name.text() == "Grace"
    assert "Could not save your settings" in dialog.error.text() and dialog.error.isVisible()
    assert dialog.name.height() >= form_height  # the dialog grew for the message
    dialog.reject()


def test_relay_only_needs_a_turn_server_and_reaches_the_engine(
    qtbot: QtBot, settings: SettingsStore
) -> None:
    dialog = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(dialog)
    dialog.relay_only.setChecked(True)
    dialog.save()  # no TURN server: refused, in words, nothing saved
    assert dialog.error.isVisibleTo(dialog) and "TURN server" in dialog.error.text()
    assert not settings.load().relay_only
    dialog.url.setText("turn:turn.example.org:3478")
    dialog.user.setText("ada")
    dialog.password.setText("secret")
    dialog.save()
    loaded = settings.load()
    assert loaded.relay_only and loaded.engine_config().relay_only
    again = SettingsDialog(settings, live_meter=False)
    qtbot.addWidget(again)
    assert again.relay_only.isChecked()
    again.reject()


def test_the_text_size_in_settings_redraws_what_is_open_and_nothing_is_cut_off(
    qtbot: QtBot, qapp: QApplication, host: HostService, bridge: Bridge, settings: SettingsStore
) -> None:
    font = qapp.font()
    window = MainWindow(host, bridge, settings, open_call=lambda: None)
    qtbot.addWidget(window)
    theme.set_text_size(qapp, settings.load().text_size)  # as the app draws it at start
    try:
        window.show()
        qtbot.waitExposed(window)
        hero = next(w for w in window.findChildren(QLabel) if w.property("role") == "hero")
        before = hero.fontInfo().pointSizeF()
        logo = window.findChild(Logo)
        assert logo.width() == logo.pixmap().width() == 48  # (beside a title of 20 pt)
        dialog = window.open_settings()
        assert dialog.text_size.currentText() == "Normal"
        dialog.text_size.setCurrentIndex(dialog.text_size.findData(150))
        assert dialog.sounds.isChecked() and bridge.sounds  # (on unless turned off)
        dialog.sounds.setChecked(False)
        dialog.save()
        assert settings.load().text_size == 150
        assert not settings.load().sounds and not bridge.sounds  # (a call going on too)
        assert hero.fontInfo().pointSizeF() == pytest.approx(before * 1.5, abs=0.5)
        # the logo grows with the title beside it (it stayed 48 px)
        assert logo.width() == logo.height() == logo.pixmap().width() == 72
        for button in (window.start_button, window.join_button):  # and the cards' marks with
            mark = button.findChild(QLabel, "ActionGlyph")  # theirs (40 px cut the arrow off)
            room = mark.width() - mark.fontMetrics().horizontalAdvance(mark.text())
            assert mark.width() == mark.height() == 60 and room >= 12, (mark.text(), room)
        card = window.start_button
        qtbot.waitUntil(lambda: logo.geometry().bottom() < card.geometry().top())  # (laid out)
        words = card.layout()  # (as tall as its words need at its width: the window grows
        qtbot.waitUntil(lambda: card.height() >= words.totalHeightForWidth(card.width()))  # too)
        again = SettingsDialog(settings, live_meter=False)  # a new window: larger to begin with
        qtbot.addWidget(again)
        assert again.text_size.currentText() == "Largest (150 %)"
        assert again.minimumWidth() == 930 and again.name.fontInfo().pointSizeF() > 14
        box = again.relay_only  # a check box's square grows with its words (it stayed 13 px)
        option = QStyleOptionButton()
        box.initStyleOption(option)
        square = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        assert square.height() >= 24  # (16 px at normal size, and its edge)
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


def test_unreadable_settings_are_said_at_start_and_settings_opens_once(
    qtbot: QtBot, host: HostService, bridge: Bridge, tmp_path: Path
) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    window = MainWindow(host, bridge, store, open_call=lambda: None)
    qtbot.addWidget(window)
    assert window.say_settings_problem() is None  # nothing to say
    store.path.write_text('{"relay_only": "yes please"}')
    box = window.say_settings_problem()
    assert box is not None and box.isVisible() and "hide my IP address" in box.text()
    box.defaultButton().click()  # Open Settings
    qtbot.waitUntil(lambda: any(isinstance(d, SettingsDialog) for d in window.dialogs))
    (dialog,) = [d for d in window.dialogs if isinstance(d, SettingsDialog)]
    assert "hide my IP address" in dialog.error.text() and dialog.error.isVisible()
    assert window.open_settings() is dialog  # raised, not a second one (each opens the mic)
    dialog.reject()


def test_a_folder_where_the_settings_go_is_said_as_it_is_at_start(
    qtbot: QtBot, host: HostService, bridge: Bridge, tmp_path: Path
) -> None:
    """It was said "damaged … a copy is kept beside it: settings.json.bad": there was none, and
    saving could not work until the folder was moved away."""
    store = SettingsStore(tmp_path / "settings.json")
    store.path.mkdir()
    window = MainWindow(host, bridge, store, open_call=lambda: None)
    qtbot.addWidget(window)
    box = window.say_settings_problem()
    assert box is not None and box.isVisible() and "(a folder, not a file)" in box.text()
    assert "Move it away" in box.text() and ".bad" not in box.text()
    assert store.path.is_dir() and not list(tmp_path.glob("settings.json.bad*"))
    box.reject()
