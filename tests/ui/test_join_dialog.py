"""Join meeting, and links handed to the home window, driven like a person would, on real
embedded servers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import Link, new_secret, parse_link
from app.meeting.settings import SettingsStore
from app.net import tlsfiles
from app.net.rendezvous import RendezvousServer
from app.ui.bridge import Bridge
from app.ui.join_dialog import JoinDialog
from app.ui.main import hand_over, listen_for_links
from app.ui.main_window import MainWindow
from app.ui.start_dialog import StartDialog
from tests import certs
from tests.ui.conftest import run, until
from tests.ui.dialog_fixtures import (
    Clock,
    bridge_fixture,  # noqa: F401 (the "bridge" fixture)
    clock_fixture,  # noqa: F401 (the "clock" fixture)
    fill,
    host_fixture,  # noqa: F401 (the "host" fixture)
    keep_running,  # noqa: F401 (a fixture: closing dialogs does not quit)
    settings_fixture,  # noqa: F401 (the "settings" fixture)
)


def test_a_call_window_that_cannot_open_is_said_and_the_call_left(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, bridge: Bridge,
    settings: SettingsStore,
) -> None:  # fmt: skip
    """A bug while opening the call window (seen after an upgrade under a running app) left
    the join dialog on step 2 for good, in a call nobody could see."""

    def broken() -> None:
        raise AttributeError("'Bridge' object has no attribute 'devices'")

    async def scenario() -> None:
        record = await host.start("Broken Window")
        join = JoinDialog(bridge, settings, broken, record.link)
        qtbot.addWidget(join)
        join.show()
        join.start_join()
        await until(lambda: join.failure is not None, what="the failure said")
        assert join.failure is not None and join.failure[0] == "window"
        assert "could not be shown" in join.error.text() and join.isVisible()
        await until(lambda: not bridge.in_call and not join.joining, what="the call left")
        assert join.join_button.isEnabled()  # may try again
        join.reject()

    run(qloop, scenario(), 30)


def test_the_host_entering_their_own_full_meeting_is_not_told_to_ask_the_host(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, bridge: Bridge,
    settings: SettingsStore,
) -> None:  # fmt: skip
    record = run(qloop, host.start("Packed", size="small"), 10)
    clients = run(qloop, fill(record.link, 4), 10)
    hosted = {record.link}
    join = JoinDialog(bridge, settings, lambda: None, record.link, hosted=hosted.__contains__)
    qtbot.addWidget(join)
    try:
        join.start_join()
        run(qloop, until(lambda: join.failure is not None, what="full"), 10)
        assert join.failure is not None and join.failure[0] == "room_full"
        assert "Everyone your meeting has room for" in join.error.text()
        assert "Ask the host" not in join.error.text()
    finally:
        join.reject()
        for client in clients:
            run(qloop, client.close(), 5)


def test_join_dialog_says_every_failure_and_stays_open(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    clock: Clock,
    bridge: Bridge,
    settings: SettingsStore,
) -> None:
    calls: list[int] = []
    dialog = JoinDialog(bridge, settings, lambda: calls.append(1))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()

    async def attempt(link: str, code: str, words: str) -> None:
        dialog.link.setText(link)
        dialog.join_button.click()
        await until(lambda: not dialog.joining, what=code)
        assert dialog.failure is not None and dialog.failure[0] == code, dialog.failure
        assert words in dialog.error.text(), dialog.error.text()
        assert dialog.isVisible() and dialog.error.isVisible() and dialog.join_button.isEnabled()
        assert dialog.result() != QDialog.DialogCode.Accepted and not calls

    async def scenario() -> None:
        live = await host.start("team sync", "small", 3600)
        parsed = parse_link(live.link)
        await attempt("hello there", "malformed_link", "not a PeerMeet link")
        await attempt("peermeet://127.0.0.1:8765/room", "malformed_link", "secret part")
        cut = live.link[: live.link.index("#k=") + 3 + 21]  # a length base64 cannot have
        await attempt(cut, "malformed_link", "too short or damaged")
        other = Link(parsed.host, parsed.port, parsed.room, new_secret())
        await attempt(str(other), "wrong_secret", "Wrong or outdated link")
        assert dialog.icons[0].property("state") == "done"
        assert dialog.icons[1].property("state") == "failed"
        await asyncio.sleep(0.05)  # (layout) a tall enough screen: all of it, no scrolling
        assert not dialog._body.scroll.verticalScrollBar().isVisible()
        short = await host.start("short one", "small", 60)
        clock.t += 61
        await attempt(short.link, "room_expired", "expired")
        ended = await host.start("ended one")
        await host.end(ended.link)
        await attempt(ended.link, "room_ended", "ended")
        full = await host.start("full one", "small")
        guests = await fill(full.link, 4)
        try:
            await attempt(full.link, "room_full", "full")
        finally:
            for guest in guests:
                await guest.close()
        nowhere = Link("127.0.0.1", 1, "team-sync", parsed.secret)
        await attempt(str(nowhere), "unreachable", "reach")
        assert dialog.error.text().lower().count("reach the meeting host") == 1  # said once
        # under the headline, a sentence with the address and the reason (it read "At 127…")
        said = "<br>Nothing is answering at 127.0.0.1:1 (connection refused). Check the link"
        assert said in dialog.error.text(), dialog.error.text()
        assert dialog.icons[0].property("state") == "failed"
        assert dialog.texts[0].text() == "Reach the meeting point"  # not "reaching … …"
        assert dialog.focusWidget() is dialog.join_button  # to try again once the host is back
        assert "reach" in dialog.link.accessibleDescription()  # what a screen reader says
        # an https:// link is to a rendezvous server: it is the server that does not answer
        on_a_server = Link("127.0.0.1", 1, "team-sync", parsed.secret, secure=True)
        await attempt(str(on_a_server), "unreachable", "reach the meeting&#x27;s server")
        text = dialog.error.text()
        assert "server at 127.0.0.1:1 is not answering" in text, text
        assert "meeting host" not in text and "PeerMeet is still running" not in text, text

        # fixed: the https form of the link, pasted with words around it, now works
        https = live.link.replace("peermeet://", "https://")
        dialog.link.setText(f"Join us here: {https}\nSee you, Ann")
        dialog.name.setText("Grace")
        dialog.join_button.click()
        await until(lambda: calls, what="the call window")
        assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
        assert host.participants(live.link) == 1  # the host's app joins like anyone else
        assert settings.load().display_name == "Grace"

    run(qloop, scenario(), 60)


def test_main_window_and_links_from_a_second_start(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    bridge: Bridge,
    settings: SettingsStore,
) -> None:
    window = MainWindow(host, bridge, settings, open_call=lambda: None)
    qtbot.addWidget(window)
    window.resize(300, 200)  # no smaller than the size where nothing is cut
    window.show()
    assert (window.width(), window.height()) >= (900, 560)
    assert window.meetings.empty.isVisible() and window.lan_empty.isVisible()
    assert not window.lan_list.isVisible()
    window.show_lan_rooms([("team-sync", "peermeet://10.0.0.2:8765/team-sync#k=x")])
    assert window.lan_list.isVisible() and not window.lan_empty.isVisible()
    start = window.open_start()
    assert start.isVisible() and start.name.text()
    start.reject()
    name = f"peermeet-test-{id(window)}"
    assert not hand_over("peermeet://x", name)  # nobody listening: this start is the app
    server = listen_for_links(window, name)
    link = "peermeet://127.0.0.1:8765/team-sync#k=AAAAAAAAAAAAAAAAAAAAAA"

    async def scenario() -> None:
        assert hand_over(link, name)
        await until(lambda: any(isinstance(d, JoinDialog) for d in window.dialogs))
        (first,) = [d for d in window.dialogs if isinstance(d, JoinDialog)]
        assert first.link.text() == link and not first.joining  # pre-filled, not started
        assert first.mic_box.isChecked()
        first.name.setText("Ada typed this")
        first.name.setModified(True)  # (as typing does)
        assert hand_over(link, name, muted=True)  # peermeet LINK --muted, the app already open
        await until(lambda: first not in window.dialogs)  # replaced: one preview at a time
        (second,) = [d for d in window.dialogs if isinstance(d, JoinDialog)]
        assert second.name.text() == "Ada typed this"  # what was typed is kept
        assert hand_over(link, name, muted=True)  # and kept again by the next one
        await until(lambda: second not in window.dialogs)
        (second,) = [d for d in window.dialogs if isinstance(d, JoinDialog)]
        assert second.name.text() == "Ada typed this"
        waiting = second.tasks.spawn(asyncio.sleep(30))  # as if a join were under way:
        assert window.open_join() is second and window.open_join(link) is second  # raised
        waiting.cancel()

    run(qloop, scenario(), 10)
    (join,) = [d for d in window.dialogs if isinstance(d, JoinDialog)]
    assert join.link.text() == link and not join.mic_box.isChecked()
    assert window.open_join() is join  # Join meeting again: raised, not a second camera view
    server.close()
    window.close()
    assert not window.dialogs


def test_join_opened_empty_takes_a_paste_at_once(
    qtbot: QtBot, bridge: Bridge, settings: SettingsStore
) -> None:
    """Join meeting (or Ctrl+J), then Ctrl+V: the link goes in. (The keyboard was on the
    dialog's scrolling body, which takes no text: the paste, and anything typed, was lost.)"""
    QGuiApplication.clipboard().setText("peermeet://127.0.0.1:8765/team-sync#k=x")
    dialog = JoinDialog(bridge, settings, lambda: None, preview=False)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    assert QApplication.focusWidget() is dialog.link
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialog.link.text() == "peermeet://127.0.0.1:8765/team-sync#k=x"


def test_join_opened_with_a_link_shows_where_it_goes(
    qtbot: QtBot, bridge: Bridge, settings: SettingsStore
) -> None:
    """A link handed over (a clicked peermeet:// link, Enter in My meetings) is shown from its
    start, the host's address, not scrolled to the secret at its end."""
    link = f"peermeet://192.168.100.200:48765/weekly-planning-and-review#k={new_secret()}"
    dialog = JoinDialog(bridge, settings, lambda: None, link, preview=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    shown = dialog.link.fontMetrics().horizontalAdvance(link)
    assert shown > dialog.link.width()  # (longer than the field: one end is out of view)
    assert dialog.link.cursorPosition() == 0


def test_a_rendezvous_with_a_certificate_not_trusted_is_said_so_to_guest_and_host(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    bridge: Bridge,
    settings: SettingsStore,
    tmp_path: Path,
) -> None:
    """A self-signed certificate is not "can't reach the host, is PeerMeet still running?": it
    is said as what it is, with what to do, and never stepped around."""
    cert, key, _ = certs.make(tmp_path, self_signed=True)
    tls = tlsfiles.load(cert, key)
    server = RendezvousServer("127.0.0.1", 0, ssl_context=tls.context)
    port = run(qloop, server.start(), 5)
    join = JoinDialog(bridge, settings, lambda: None)
    qtbot.addWidget(join)
    join.show()
    start = StartDialog(host)
    qtbot.addWidget(start)
    start.show()
    try:
        join.link.setText(f"https://localhost:{port}/team-sync#k={new_secret()}")
        join.join_button.click()
        run(qloop, until(lambda: join.failure is not None, what="the failure"), 15)
        assert join.failure is not None and join.failure[0] == "untrusted_certificate"
        text = join.error.text()
        assert "certificate is not trusted" in text and "(self-signed certificate)" in text, text
        assert "Let&#x27;s Encrypt" in text and "PeerMeet is still running" not in text, text
        assert join.icons[0].property("state") == "failed"  # (reaching the meeting point)
        assert join.focusWidget() is join.link  # the link's address may be the thing to fix

        start.outside.setChecked(True)
        start.server.setText(f"localhost:{port}")
        start.start()
        run(qloop, until(lambda: start.error.isVisible(), what="the error"), 15)
        text = start.error.text()
        assert text.startswith(f"The server at localhost:{port} showed a certificate"), text
        assert "Check the server's address" in text and "link" not in text, text  # (none yet)
        assert "Let's Encrypt" in text and not host.records(), text
        assert server.room_count == 0
    finally:
        join.reject()
        start.reject()
        run(qloop, server.close(), 5)
