"""The chat as someone uses it all day: a message half typed as the call ends, messages coming
while one reads older ones, long and pasted ones. Real calls over loopback (a meeting hosted
in this process, two people in it), real widgets under Xvfb."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.net.text import clean_chat
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.chat_panel import MAX_LEN, ChatPanel, split_message
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home
from tests.ui.test_call_window import make_bridge

Scenario = Callable[[CallWindow, Bridge, str], Awaitable[None]]


def in_a_meeting(qloop: qasync.QEventLoop, host: HostService, scenario: Scenario) -> None:
    """``scenario(window, olga, link)``: Ada's call window, with Olga in the call too."""
    ada, olga = make_bridge("Ada"), make_bridge("Olga")

    async def body() -> None:
        record = await host.start("Chat", lifetime_s=3600)
        assert await ada.join(record.link, "Ada")
        window = CallWindow(ada)
        window.show()
        window.activateWindow()
        try:
            await until(window.isActiveWindow, what="the call window active")
            assert await olga.join(record.link, "Olga")
            await until(lambda: any(k[1] == "video" for k in window.grid.tiles), what="Olga")
            await scenario(window, olga, record.link)
        finally:
            await window.leave()

    try:
        run(qloop, body(), 40)
    finally:
        run(qloop, olga.leave(), 10)
        run(qloop, ada.leave(), 10)


def test_a_message_half_typed_as_the_call_ends_is_kept_to_copy(
    qloop: qasync.QEventLoop, host: HostService
) -> None:
    """The meeting ended while Ada was typing: the chat's entry was cleared and what she had
    typed was gone without a word. It stays in the entry, read-only (Enter sends nothing),
    where it can be selected and copied; the chat says it was not sent."""

    async def scenario(window: CallWindow, olga: Bridge, link: str) -> None:
        window.toolbar.chat_button.click()
        entry = window.chat.entry
        QTest.keyClicks(entry, "the numbers for Q3 are")
        await host.end(link)
        await until(lambda: window._over, what="the end reached Ada")
        assert entry.text() == "the numbers for Q3 are"
        assert entry.isEnabled() and entry.isReadOnly()
        assert "not sent" in entry.accessibleDescription()
        assert "not sent" in window.chat.view.toPlainText()
        assert window.chat.take_keyboard() and entry.hasFocus()  # Ctrl+Shift+C gets there
        entry.selectAll()
        entry.copy()
        assert QApplication.clipboard().text() == "the numbers for Q3 are"
        QTest.keyClick(entry, Qt.Key.Key_Return)  # the call is over: nothing is sent
        QTest.keyClicks(entry, "x")
        assert entry.text() == "the numbers for Q3 are"
        assert not [m for m in window.chat.messages if m[2]], window.chat.messages

    in_a_meeting(qloop, host, scenario)


def test_messages_coming_while_one_reads_older_ones_are_counted_on_a_button(
    qloop: qasync.QEventLoop, host: HostService
) -> None:
    """Reading back up, new messages left the view where it was (good) but nothing said any
    had come: the chat being open, not even the unread count. A button at the bottom says how
    many; it takes you to the newest, and goes when you scroll there yourself."""

    async def scenario(window: CallWindow, olga: Bridge, link: str) -> None:
        window.toolbar.chat_button.click()
        chat, bar = window.chat, window.chat.view.verticalScrollBar()
        for i in range(40):
            olga.send_chat(f"older message {i} " + "words " * 6)
        await until(lambda: len(chat.messages) == 40, what="40 messages")
        await until(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), what="at the end")
        assert chat.new_messages.isHidden()  # following the end: nothing to say
        bar.setValue(0)  # reading back
        olga.send_chat("are you there?")
        olga.send_chat("hello?")
        await until(lambda: len(chat.messages) == 42, what="two more")
        button = chat.new_messages
        assert bar.value() == 0  # not moved
        assert button.isVisible() and "2 new messages" in button.text()
        assert chat.view.viewport().geometry().contains(button.geometry())  # (on the view)
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        assert bar.value() == bar.maximum() and button.isHidden()
        bar.setValue(0)
        olga.send_chat("one more")
        await until(button.isVisible, what="the button again")
        assert "1 new message" in button.text()
        bar.setValue(bar.maximum())  # scrolled down by hand: it goes
        assert button.isHidden()

    in_a_meeting(qloop, host, scenario)


def test_a_long_message_arrives_as_typed_its_indented_lines_too(
    qloop: qasync.QEventLoop, host: HostService
) -> None:
    """A message longer than the others take goes in parts (cut at a line's end, or at a space
    in a long line): the part after the cut lost the spaces it began with, and an indented
    line (code, a quoted list) came out of line; then each part came as a message of its own,
    a long line broken in two where it was cut. Olga gets one message, what Ada typed; her
    chat shows it as typed, and so does Ada's."""
    first = " ".join(["word"] * (MAX_LEN // 5 - 2)) + "\n"  # ends just before the limit
    typed = first + "    indented: the spaces stay\n" + "  also these " * 400 + "\nend"

    async def scenario(window: CallWindow, olga: Bridge, link: str) -> None:
        got: list[str] = []
        shown = ChatPanel()  # Olga's chat, as her call window fills it
        olga.chatReceived.connect(lambda peer, name, text: got.append(text))
        olga.chatReceived.connect(
            lambda peer, name, text: shown.add_message(name, text, sender=peer)
        )
        assert len(split_message(typed)) == 3  # (the 2nd cut inside "  also these …")
        window.chat.entry.setPlainText(typed)
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        await until(lambda: got, 15, "the message")
        await asyncio.sleep(0.3)  # (nothing more comes)
        assert got == [typed]
        assert len(shown.messages) == len(window.chat.messages) == 1
        for chat in (shown, window.chat):  # under the heading, line by line as typed
            found = re.search(r"\d\d:\d\d\n(.*)$", chat.view.toPlainText(), re.S)
            assert found is not None and found[1] == typed
        shown.deleteLater()

    in_a_meeting(qloop, host, scenario)


def test_what_ada_sends_shows_in_her_chat_as_the_others_see_it(
    qloop: qasync.QEventLoop, host: HostService
) -> None:
    """What others send loses its bidi overrides and isolates and its control characters
    (app.net.text: they reorder text, "name spoofing"); what Ada sent showed in her own chat
    with them, reordered, unlike what Olga saw. It shows as Olga sees it."""
    typed = "pay \u202eSTOP\u202c now \u2067شكرا\u2069 \x07ok\tdone\u200d"

    async def scenario(window: CallWindow, olga: Bridge, link: str) -> None:
        got: list[str] = []
        olga.chatReceived.connect(lambda peer, name, text: got.append(text))
        window.chat.entry.setPlainText(typed)
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        await until(lambda: got, 15, "the message at Olga's")
        assert got == [clean_chat(typed)] == ["pay STOP now شكرا ok\tdone\u200d"]
        assert window.chat.messages == [("Ada", got[0], True)]
        shown = window.chat.view.toPlainText()
        assert got[0] in shown and not {"\u202e", "\u2067", "\x07"} & set(shown), shown

    in_a_meeting(qloop, host, scenario)


def test_joining_the_same_meeting_again_brings_back_its_chat_and_what_was_typed(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Join again (a call cut off), My meetings or the link: the meeting's new call window had
    an empty chat, the conversation so far and a message half typed gone. The earlier messages
    are back, above a divider that says when Ada left and came back, and what she was typing is
    in the box again, to finish and send; the chat is open (it was closed: the text out of
    sight), the keyboard still on the video. Another meeting starts with an empty chat, closed;
    the chat left open opens again."""
    bridge, home = ada_at_home(qtbot, host, tmp_path)
    olga, got = make_bridge("Olga"), []
    olga.chatReceived.connect(lambda _peer, _name, text: got.append(text))

    async def enter(link: str, old: QWidget | None = None) -> CallWindow:
        home.open_join(link, auto=True)  # (what Join again does, with the call's link)
        await until(lambda: home.call_window not in (None, old), 20, "the call window")
        assert isinstance(home.call_window, CallWindow)
        return home.call_window

    async def scenario() -> None:
        record = await host.start("Chat", lifetime_s=3600)
        other = await host.start("Other", lifetime_s=3600)
        assert await olga.join(record.link, "Olga")
        call = await enter(record.link)
        await until(lambda: len(bridge.peers()) == 1, 15, "Olga")
        olga.send_chat("agenda:\n1. budget\n2. hiring")
        await until(lambda: len(call.chat.messages) == 1, what="Olga's message")
        call.chat.entry.setPlainText("see you")
        QTest.keyClick(call.chat.entry, Qt.Key.Key_Return)
        QTest.keyClicks(call.chat.entry, "the numbers")
        call.close()  # Leave
        await until(lambda: closed(call) and not bridge.in_call, 15, "left")
        again = await enter(record.link, call)
        chat = again.chat
        said = [(text, mine) for _name, text, mine in chat.messages]
        assert said == [("agenda:\n1. budget\n2. hiring", False), ("see you", True)]
        shown = chat.view.toPlainText()
        divider = re.search(r"You left at \d\d:\d\d · joined again at \d\d:\d\d", shown)
        assert divider is not None and shown.index("2. hiring") < divider.start(), shown
        assert chat.entry.text() == "the numbers" and not chat.entry.isReadOnly()
        assert not chat.isHidden() and again.toolbar.chat_button.isChecked()  # the text in view
        again.activateWindow()
        await until(again.isActiveWindow, 5, "the window active")
        assert QApplication.focusWidget() is again.grid  # (not the box: no key types by mistake)
        ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        QTest.keyClick(again.grid, Qt.Key.Key_C, ctrl_shift)  # the keyboard in the box
        assert chat.entry.hasFocus() and not chat.isHidden()
        QTest.keyClicks(chat.entry, " are in")  # (at the end of the text)
        QTest.keyClick(chat.entry, Qt.Key.Key_Return)
        await until(lambda: "the numbers are in" in got, 10, "the rest sent")
        assert got == ["see you", "the numbers are in"]
        again.close()
        await until(lambda: closed(again) and not bridge.in_call, 15, "left again")
        elsewhere = await enter(other.link, again)  # another meeting: nothing of that one
        assert elsewhere.chat.messages == [] and elsewhere.chat.entry.text() == ""
        assert elsewhere.chat.view.toPlainText() == "" and elsewhere.chat.isHidden()
        elsewhere.close()
        await until(lambda: closed(elsewhere) and not bridge.in_call, 15, "left the other")
        third = await enter(record.link, elsewhere)  # nothing typed, but the chat was open
        assert third.chat.entry.text() == "" and not third.chat.isHidden()
        assert "the numbers are in" in third.chat.view.toPlainText()
        assert third.focusWidget() is third.grid
        await third.leave()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, olga.leave(), 10)
        run(qloop, bridge.leave(), 10)
        home.close()
