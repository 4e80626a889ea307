"""Keyboard-only use and what a screen reader is told: where the keyboard goes in the call
window, the call's keys, and names and tips of buttons. Real widgets under Xvfb."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.ui.call_window import CallWindow
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import run
from tests.ui.test_call_window import make_bridge

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def call(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[CallWindow]:
    """A call window, shown and active (its bridge has not joined: nothing here needs a call)."""
    window = CallWindow(make_bridge("Ada"))
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)
    yield window
    run(qloop, window.leave(), 10)


def key(widget: QWidget | None, key: Qt.Key, modifiers: object = None) -> None:
    assert widget is not None
    if modifiers is None:
        QTest.keyClick(widget, key)
    else:
        QTest.keyClick(widget, key, modifiers)  # type: ignore[arg-type]
    QApplication.processEvents()


def test_the_call_window_opens_with_the_keyboard_on_the_video_not_on_mute(
    call: CallWindow,
) -> None:
    """It opened with the keyboard on Mute, the first button: a stray Space muted the call.
    The keyboard rests on the video, which a screen reader names with the call's keys; Tab
    goes on to the buttons."""
    focus = QApplication.focusWidget()
    assert focus is call.grid, focus
    key(focus, Qt.Key.Key_Space)
    key(focus, Qt.Key.Key_Return)
    assert call.bridge.mic_on and call.toolbar.mic_button.text() == "Mute"
    assert call.grid.accessibleName() == "Call video"
    said = call.grid.accessibleDescription()
    for shortcut in call.keys.shortcuts:  # every key the window has, in the words said
        assert shortcut.key().toString() in said, shortcut.key().toString()
    key(focus, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is call.toolbar.mic_button


def test_closing_a_side_panel_by_its_key_gives_the_keyboard_back_to_its_button(
    call: CallWindow,
) -> None:
    """Ctrl+Shift+C typed in the chat's entry closed the chat and the keyboard went on to the
    next control, Mute: the next Space muted. It goes back to the Chat button, as with Esc;
    what was typed stays for later."""
    bar = call.toolbar
    key(QApplication.focusWidget(), Qt.Key.Key_C, CTRL_SHIFT)
    assert call.chat.isVisible() and call.chat.entry.hasFocus()
    QTest.keyClicks(call.chat.entry, "half a thought")
    key(call.chat.entry, Qt.Key.Key_C, CTRL_SHIFT)
    assert not call.chat.isVisible()
    assert QApplication.focusWidget() is bar.chat_button
    key(QApplication.focusWidget(), Qt.Key.Key_C, CTRL_SHIFT)
    assert call.chat.entry.hasFocus() and call.chat.entry.text() == "half a thought"
    call.people.invite.show()  # (a call with a link: Copy invite link is the first stop)
    bar.people_button.click()  # the people, with the keyboard in them: closed by a click
    assert call.people.invite.hasFocus()
    bar.people_button.click()
    assert QApplication.focusWidget() is bar.people_button


def test_ctrl_shift_c_takes_the_keyboard_to_the_chat_that_is_open_already(
    call: CallWindow,
) -> None:
    """With the chat open and the keyboard on the toolbar (or the video), Ctrl+Shift+C closed
    the chat: the key that says "chat" hid it. It puts the keyboard in the chat's entry; from
    there, it closes the chat. Ctrl+Shift+P does the same for the people."""
    bar = call.toolbar
    bar.chat_button.click()
    bar.mic_button.setFocus()
    key(bar.mic_button, Qt.Key.Key_C, CTRL_SHIFT)
    assert call.chat.isVisible() and call.chat.entry.hasFocus()
    QTest.keyClicks(call.chat.entry, "hello")
    key(call.chat.entry, Qt.Key.Key_Return)
    assert call.chat.messages[-1] == ("Ada", "hello", True)  # Enter sends
    key(call.chat.entry, Qt.Key.Key_C, CTRL_SHIFT)
    assert not call.chat.isVisible()
    call.people.invite.show()  # (a call with a link: Copy invite link is the first stop)
    bar.people_button.click()
    bar.mic_button.setFocus()
    key(bar.mic_button, Qt.Key.Key_P, CTRL_SHIFT)
    assert call.people.isVisible() and call.people.invite.hasFocus()
    key(call.people.invite, Qt.Key.Key_P, CTRL_SHIFT)
    assert not call.people.isVisible() and bar.people_button.hasFocus()


def test_ctrl_shift_c_still_closes_the_chat_once_the_call_is_over(call: CallWindow) -> None:
    """The chat stays to read after the call (its entry off): the key closes it, as before."""
    call.toolbar.chat_button.click()
    call.chat.close_entry("The call has ended")
    call.grid.setFocus()
    key(call.grid, Qt.Key.Key_C, CTRL_SHIFT)
    assert not call.chat.isVisible()


def test_dismissing_a_notice_with_the_keyboard_leaves_it_on_the_video(call: CallWindow) -> None:
    """Space on a notice's ✕ hid it, and the keyboard went on to the next control, Mute: the
    next Space muted. It goes back to the video, where it rests."""
    call.banner.show_message("Your speaker was unplugged.", seconds=0)
    close = call.banner.findChild(QPushButton)
    assert close is not None and close.accessibleName() == "Dismiss notice"
    close.setFocus()
    key(close, Qt.Key.Key_Space)
    assert call.banner.isHidden()
    assert QApplication.focusWidget() is call.grid, QApplication.focusWidget()
    key(call.grid, Qt.Key.Key_Space)
    assert call.bridge.mic_on


def test_the_settings_server_buttons_say_what_they_add_and_remove_and_their_keys(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The buttons Add and Remove had no tip, and a screen reader said just "Add": what? Their
    keys (Enter in the server's fields, Delete in the list) were said nowhere."""
    dialog = SettingsDialog(SettingsStore(tmp_path / "settings.json"), live_meter=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    add, remove = dialog.add_button, dialog.remove_button
    assert (add.accessibleName(), remove.accessibleName()) == ("Add server", "Remove server")
    assert "(Enter in its fields)" in add.toolTip() and "(Delete)" in remove.toolTip()
    dialog.url.setText("stun:stun.example.org:3478")  # the keys do what the tips say
    key(dialog.url, Qt.Key.Key_Return)
    assert dialog.servers.count() == 1 and dialog.isVisible()
    dialog.servers.setCurrentRow(0)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=3000)
    dialog.servers.setFocus()
    key(dialog.servers, Qt.Key.Key_Delete)
    assert dialog.servers.count() == 0


def test_the_readme_lists_the_keys_the_windows_have(
    host: HostService, call: CallWindow, tmp_path: Path
) -> None:
    """The desktop app's quick start lists the main window's and the call's keys, no more and
    no fewer (Ctrl+Q, which quits, was not there). (``host`` first: its teardown lets the
    app quit once its last window closes, and the call's must close before.)"""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    desktop = readme.split("## Quick start: the desktop app")[1].split("\n## ")[0]
    listed = set(re.findall(r"\b(?:Ctrl\+(?:Shift\+)?[A-Z,]|F\d+|Esc)(?![\w+])", desktop))
    home = MainWindow(host, call.bridge, SettingsStore(tmp_path / "s.json"), lambda: None)
    shortcuts = [*home.findChildren(QShortcut), *call.keys.shortcuts]
    have = {shortcut.key().toString() for shortcut in shortcuts}
    home.deleteLater()
    assert listed == have


def test_the_call_ending_while_you_type_in_the_chat_does_not_put_your_next_space_on_close(
    call: CallWindow,
) -> None:
    """The keyboard went to Close (or Join again) as the call ended: someone typing a message
    closed the window, chat and all, with their next Space. Typing, it stays on the video;
    otherwise Close is where it goes, as before (what is left to do)."""
    call.toolbar.chat_button.click()
    QTest.keyClicks(call.chat.entry, "see you")
    call.bridge.ended.emit("ended")
    focus = QApplication.focusWidget()
    assert focus is call.grid, focus
    key(focus, Qt.Key.Key_Space)
    assert call.isVisible() and call.toolbar.leave_button.text() == "Close"
    key(focus, Qt.Key.Key_Tab)  # Close is a Tab away
    for _ in range(6):
        if QApplication.focusWidget() is call.toolbar.leave_button:
            break
        key(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is call.toolbar.leave_button


def test_the_call_ending_puts_the_keyboard_on_close_when_you_were_not_typing(
    call: CallWindow,
) -> None:
    call.bridge.ended.emit("ended")
    assert QApplication.focusWidget() is call.toolbar.leave_button


def test_a_focused_button_shows_its_ring_and_no_box_inside_it(call: CallWindow) -> None:
    """Besides its ring, a button with the keyboard on it had a square box drawn behind its
    words (the style's own focus frame), as if they were selected text. Only the ring changes."""
    button = call.toolbar.cam_button
    before = button.grab().toImage()
    key(call.grid, Qt.Key.Key_Tab)  # (the box came with keys only, not with a click)
    key(call.toolbar.mic_button, Qt.Key.Key_Tab)
    assert button.hasFocus()
    after = button.grab().toImage()
    ring, corner = 4, 20  # px of the edge where the ring is drawn (at the ends: round)
    inside = [
        (x, y)
        for x in range(corner, before.width() - corner)
        for y in range(ring, before.height() - ring)
        if before.pixel(x, y) != after.pixel(x, y)
    ]
    changed = [
        (x, y)
        for x in range(before.width())
        for y in range(before.height())
        if before.pixel(x, y) != after.pixel(x, y)
    ]
    assert changed, "no focus ring at all"
    assert not inside, f"{len(inside)} px changed inside the ring, e.g. {inside[:3]}"


def test_the_chat_box_of_several_lines_keeps_the_calls_keys(call: CallWindow) -> None:
    """The chat's box takes several lines now (Shift+Enter); Tab still goes on from it (it
    does not write a tab), and Ctrl+D and Ctrl+E are still the call's from it (a box of text
    would take them: delete, end of line)."""
    key(QApplication.focusWidget(), Qt.Key.Key_C, CTRL_SHIFT)
    entry = call.chat.entry
    assert entry.hasFocus() and entry.accessibleName() == "Message everyone"
    assert "Shift+Enter" in entry.accessibleDescription()  # (a screen reader says how)
    QTest.keyClicks(entry, "one")
    key(entry, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    QTest.keyClicks(entry, "two")
    fired: list[str] = []
    for shortcut in call.keys.shortcuts:
        shortcut.activated.connect(lambda s=shortcut: fired.append(s.key().toString()))
    key(entry, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    key(entry, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert fired == ["Ctrl+D", "Ctrl+E"]  # the window's (this call has not joined: no effect)
    assert entry.text() == "one\ntwo"
    key(entry, Qt.Key.Key_Tab)
    assert not entry.hasFocus() and entry.text() == "one\ntwo"


def _tab_through(start: QWidget, presses: int, back: bool = False) -> list[QWidget]:
    seen, focus = [], start
    for _ in range(presses):
        key(focus, Qt.Key.Key_Backtab if back else Qt.Key.Key_Tab)
        focus = QApplication.focusWidget()
        seen.append(focus)
    return seen


def test_tab_goes_through_the_call_window_as_it_reads_not_person_by_person(
    call: CallWindow,
) -> None:
    """With people in the call and the people panel open, Tab from the video went first to the
    panel's "Show network addresses", then the toolbar, then Hana's tile, Hana's card, Olga's
    tile, Olga's card...: back and forth across the window, person by person (the order the
    widgets were made in). It goes: the toolbar, the open panel top to bottom, the tiles row
    by row, and round; Shift+Tab goes back the same way. Nothing is left out."""
    names = ["Hana", "Olga", "Zoë"]
    for i, name in enumerate(names):
        call.peer_views.joined(f"p{i}", name)
        call.peer_views.state(f"p{i}", "connected")
    bar, people = call.toolbar, call.people
    people.invite.show()  # (a call with a link)
    bar.people_button.click()
    QApplication.processEvents()
    call.grid.relayout()
    QTest.qWait(50)
    call.grid.setFocus()
    tiles = [call.grid.tile(f"p{i}") for i in range(3)]
    tiles.sort(key=lambda t: (t.y(), t.x()))  # type: ignore[union-attr]
    media = (bar.mic_button, bar.mic_more, bar.cam_button, bar.cam_more, bar.share_button)
    rest = (bar.chat_button, bar.people_button, bar.leave_button)
    buttons = [b for b in (*media, *rest) if b.isVisible()]  # (the arrows: devices to pick)
    cards = [people.cards[f"p{i}"] for i in range(3)]
    order = [*buttons, people.invite, people.addresses, *cards, *tiles]
    assert _tab_through(call.grid, len(order) + 1) == [*order, order[0]]
    back = _tab_through(order[0], len(order), back=True)
    assert back == [*order[:0:-1], order[0]]
