"""The desktop flow with a meeting on an outside rendezvous: the host ends it from the call, and
the host's call opens it again when the server restarted without its rooms."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.store import ENDED, LIVE
from app.net.rendezvous import RendezvousServer
from app.ui.call_window import CallWindow
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home


def test_the_host_ends_a_meeting_on_an_outside_rendezvous_from_the_call(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Asked from outside the room and confirmed (app.ui.host_controls); when the rendezvous
    cannot be told, the window says so and stays."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def enter(title: str) -> tuple[CallWindow, str]:
        record = await host.start(title, rendezvous=f"peermeet://127.0.0.1:{port}")
        window.open_join(record.link, auto=True)
        await until(
            lambda: isinstance(window.call_window, CallWindow) and window.call_window.isVisible(),
            15,
            "call window",
        )
        call = window.call_window
        assert isinstance(call, CallWindow) and bridge.in_call
        return call, record.link

    async def scenario() -> None:
        call, link = await enter("Outside")
        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        assert call.leave_menu is not None
        call.leave_menu.actions()[1].trigger()  # End meeting for everyone
        await until(lambda: closed(call) and not bridge.in_call, 10, "ended and left")
        assert host.store.find(link).state == ENDED  # type: ignore[union-attr]
        assert server.room_count == 0

        call, link = await enter("Unreachable")
        await server.close()  # the outside rendezvous is gone: the end cannot be asked for
        await asyncio.sleep(0.5)
        call.end_for_everyone()
        await until(lambda: "Could not end the meeting" in call.banner.text.text(), 10, "said")
        assert call.isVisible() and call.toolbar.leave_button.isEnabled()
        assert host.store.find(link).state == LIVE  # type: ignore[union-attr]
        await call.leave()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)


def test_the_hosts_call_opens_its_outside_meeting_again_when_the_server_forgot_it(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """The outside rendezvous restarts without its rooms while Ada is in her meeting: her call
    opens the room again (until its old expiry; the app's own check of the meeting knows she
    is in it and leaves it to the call), My meetings keeps the new owner token, and End
    meeting for everyone still ends it."""
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    restarted = RendezvousServer(host="127.0.0.1", port=port)
    bridge, window = ada_at_home(qtbot, host, tmp_path)

    async def scenario() -> None:
        record = await host.start("Outside", rendezvous=f"peermeet://127.0.0.1:{port}")
        token, ends = record.owner_token, record.expires_at
        window.open_join(record.link, auto=True)
        await until(lambda: bridge.in_call and bridge.expires_at > 0, 15, "in the call")
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        assert host.in_call(record.link)  # (so My meetings' own check leaves it to the call)
        await server.close()  # every connection drops, and the room is forgotten
        await restarted.start()
        await until(lambda: record.owner_token != token, 20, "the room opened again")
        assert restarted.room_count == 1 and abs(record.expires_at - ends) <= 1.5
        assert abs(bridge.expires_at - ends) <= 1.5  # the call's clock: the old expiry
        QTest.mouseClick(call.toolbar.leave_button, Qt.MouseButton.LeftButton)
        assert call.leave_menu is not None
        call.leave_menu.actions()[1].trigger()  # End meeting for everyone
        await until(lambda: closed(call) and not bridge.in_call, 10, "ended and left")
        assert host.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        assert restarted.room_count == 0 and not host.in_call(record.link)

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)
        run(qloop, restarted.close(), 10)
