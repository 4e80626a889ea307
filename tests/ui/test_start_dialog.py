"""Start meeting, the host's side, driven like a person would, on real embedded servers (the
meeting started is then in My meetings, and a guest is refused once it ends)."""

from __future__ import annotations

import qasync
import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.meeting.store import ENDED
from app.ui.bridge import Bridge
from app.ui.join_dialog import JoinDialog
from app.ui.meetings_view import MeetingsView
from app.ui.start_dialog import QR_PX, StartDialog, qr_image
from tests.ui.conftest import run, until
from tests.ui.dialog_fixtures import (
    Clock,
    bridge_fixture,  # noqa: F401 (the "bridge" fixture)
    clock_fixture,  # noqa: F401 (the "clock" fixture)
    host_fixture,  # noqa: F401 (the "host" fixture)
    keep_running,  # noqa: F401 (a fixture: closing dialogs does not quit)
    settings_fixture,  # noqa: F401 (the "settings" fixture)
)


def test_start_share_list_countdown_end(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    host: HostService,
    clock: Clock,
    bridge: Bridge,
    settings: SettingsStore,
) -> None:
    view = MeetingsView(host)
    dialog = StartDialog(host)
    qtbot.addWidget(view)
    qtbot.addWidget(dialog)
    entered: list[str] = []
    dialog.enterRequested.connect(entered.append)
    dialog.show()
    dialog.name.setText("Team Sync")
    assert "team-sync" in dialog.slug.text()

    async def scenario() -> None:
        dialog.start_button.click()
        await until(lambda: dialog.pages.currentIndex() == 1, what="the share page")
        link = parse_link(dialog.link.text())  # the link shown is one parse_link accepts
        assert (link.room, dialog.room_name.text()) == ("team-sync", "Team Sync")  # as typed
        assert dialog.room_slug.isVisible() and "team-sync" in dialog.room_slug.text()
        pixmap = dialog.qr.pixmap()
        assert not pixmap.isNull() and pixmap.width() >= 150
        image = qr_image(dialog.link.text())
        assert not image.isNull() and image.width() == image.height()
        modules = int(segno.make(dialog.link.text(), error="m").symbol_size(border=3)[0])
        px = pixmap.width()  # whole pixels per module, nothing scaled: sharp, even squares
        assert px % modules == 0 and px <= QR_PX * pixmap.devicePixelRatio() < px + modules
        dialog.copy.click()
        assert QGuiApplication.clipboard().text() == dialog.link.text()

        row = view.rows[dialog.link.text()]  # My meetings lists it
        assert row.countdown.text().startswith("3:00:00")
        clock.t += 61
        view.refresh()
        assert row.countdown.text().startswith("2:58:59")  # and the countdown goes down
        assert "nobody in it yet" in row.status.text()

        dialog.enter.click()
        assert entered == [dialog.link.text()] and not dialog.isVisible()

        row.end.click()
        await until(lambda: host.records()[0].state == ENDED, what="ended")
        row = view.rows[dialog.link.text()]
        assert row.countdown.text() == "Ended" and not row.enter.isVisible()
        assert not row.end.isVisibleTo(view) and row.forget.isVisibleTo(view)

        join = JoinDialog(bridge, settings, lambda: None, dialog.link.text())
        qtbot.addWidget(join)
        join.show()
        assert join.focusWidget() in (join.name, join.join_button)  # the link is in already
        assert join.focusWidget() is (join.join_button if join.name.text() else join.name)
        join.start_join()
        await until(lambda: join.failure is not None, what="a refusal")
        assert join.failure is not None and join.failure[0] == "room_ended"
        assert "ended" in join.error.text() and join.isVisible()
        join.reject()

        row.forget.click()
        assert dialog.link.text() not in view.rows and view.empty.isVisibleTo(view)

    run(qloop, scenario(), 30)
    view.close_view()


def test_start_dialog_enter_starts_and_an_old_error_goes_when_the_name_changes(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    dialog = StartDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    height = dialog.height()
    dialog.name.setText("!!!")
    QTest.keyClick(dialog.name, Qt.Key.Key_Return)
    run(qloop, until(lambda: dialog.error.isVisible(), what="the error"), 5)
    assert "letter or digit" in dialog.error.text()
    assert dialog.lifetime.checkedId() == 3 * 3600  # Enter pressed Start, not "1 hour" too
    dialog.name.setText("Weekly design review")
    assert not dialog.error.isVisible()  # it was about the old name
    assert dialog.height() == height  # and the room made for it is given back
    three, eight = dialog.lifetime.button(3 * 3600), dialog.lifetime.button(8 * 3600)
    assert three.isChecked()
    assert three.focusPolicy() == Qt.FocusPolicy.StrongFocus  # Tab lands on the one picked
    assert dialog.lifetime.button(3600).focusPolicy() == Qt.FocusPolicy.ClickFocus
    QTest.keyClick(three, Qt.Key.Key_Right)  # the arrows pick a lifetime, as radio buttons
    assert eight.isChecked() and dialog.lifetime.checkedId() == 8 * 3600
    assert eight.focusPolicy() == Qt.FocusPolicy.StrongFocus
    QTest.keyClick(eight, Qt.Key.Key_Return)  # and Enter on one starts, as in the name
    run(qloop, until(lambda: dialog.pages.currentIndex() == 1, what="the share page"), 10)
    assert dialog.room_name.full == "Weekly design review"
    assert dialog.room_slug.full == "In the link as weekly-design-review"
    assert dialog.record is not None
    assert abs(dialog.record.expires_at - host.now() - 8 * 3600) < 60  # the lifetime picked
    dialog.reject()


def test_every_field_of_the_start_form_has_a_name_for_screen_readers(
    qtbot: QtBot, host: HostService
) -> None:
    """The rendezvous server's field had no name at all (a screen reader said "edit text"),
    the lifetimes were just "1 hour", "3 hours", and the link's form of the name under the
    field was not read with it."""
    dialog = StartDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()

    def said(widget: QWidget, what: QAccessible.Text = QAccessible.Text.Name) -> str:
        face = QAccessible.queryAccessibleInterface(widget)
        assert face is not None
        return face.text(what)

    dialog.outside.setChecked(True)
    assert said(dialog.server) == "Rendezvous server address"
    lifetimes = [said(b) for b in sorted(dialog.lifetime.buttons(), key=dialog.lifetime.id)]
    assert lifetimes == ["Lifetime: 1 hour", "Lifetime: 3 hours", "Lifetime: 8 hours"]
    dialog.name.setText("Weekly review")
    assert said(dialog.name) == "Meeting name"
    assert said(dialog.name, QAccessible.Text.Description) == "In the link as: weekly-review"
    dialog.reject()


def test_start_on_a_rendezvous_that_cannot_be_reached_is_said_to_the_host(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    dialog = StartDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.outside.setChecked(True)
    dialog.server.setText("127.0.0.1:1")
    dialog.start()
    run(qloop, until(lambda: dialog.error.isVisible(), what="the error"), 15)
    text = dialog.error.text()
    assert text.startswith("Cannot reach the rendezvous server at 127.0.0.1:1"), text
    assert "meeting host" not in text and "server runs" in text
    dialog.server.setText("not a url at all")  # (spaces were squeezed out, silently)
    dialog.start()
    run(qloop, until(lambda: dialog.error.isVisible(), what="the error"), 15)
    assert "no spaces" in dialog.error.text()
    dialog.reject()


def test_start_with_only_the_scheme_of_a_server_asks_for_its_name(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    """Only "https://" typed (how the placeholder starts), nothing after: it was read as a server
    called "https" and the host waited for "Cannot reach … at https:443 (host name not found)"."""
    dialog = StartDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.outside.setChecked(True)
    for typed in ("https://", "peermeet://", "https:", "https:/meet.example.org"):
        dialog.server.setText(typed)
        dialog.start()
        run(qloop, until(lambda: dialog.error.isVisible(), what="the error"), 15)
        text = dialog.error.text()
        assert "https:443" not in text and "Cannot reach" not in text, (typed, text)
        assert "https://" in text, (typed, text)  # what to type: the form it takes
    assert host.records() == []
    dialog.reject()
