"""End meeting for everyone, from the call, of an outside meeting that someone else opened
again after its server lost it: their owner token, not ours. The rendezvous refuses the end;
the call window says so and stays, and My meetings marks the meeting taken, rather than
marking it ended while it runs on (app.ui.host_controls, app.meeting.host_watch)."""

from __future__ import annotations

from pathlib import Path

import qasync
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import LIVE
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui.call_window import CallWindow
from tests.ui.conftest import closed, run, until
from tests.ui.test_app_flow import ada_at_home


def test_ending_a_meeting_someone_else_opened_again_says_so_and_keeps_it_live(
    loopback: None, qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    server = RendezvousServer(host="127.0.0.1", port=0)
    port = run(qloop, server.start(), 10)
    restarted = RendezvousServer(host="127.0.0.1", port=port)
    bridge, window = ada_at_home(qtbot, host, tmp_path)
    opener: list[SignalingClient] = []

    async def scenario() -> None:
        record = await host.start("Outside", rendezvous=f"peermeet://127.0.0.1:{port}")
        link = parse_link(record.link)
        window.open_join(record.link, auto=True)
        await until(lambda: bridge.in_call and bridge.expires_at > 0, 15, "in the call")
        await until(lambda: isinstance(window.call_window, CallWindow), 15, "call window")
        call = window.call_window
        assert isinstance(call, CallWindow)
        await server.close()  # the server restarts without its rooms ...
        await restarted.start()
        # ... and someone else with the link opens the room again before Ada's call does
        client = await SignalingClient.connect(link.rendezvous_url, 5.0)
        opener.append(client)
        room = RoomKeys.from_secret(link.secret).room_id
        await client.create(room, link.room, "small", 1200)
        await until(lambda: len(bridge.peers()) == 1, 20, "Ada back in their room")
        call.end_for_everyone()
        said = lambda: "Could not end the meeting" in call.banner.text.text()  # noqa: E731
        await until(lambda: closed(call) or said(), 10, "the window closed, or said why not")
        assert not closed(call), "closed as if ended"
        assert "someone else with its link opened it again" in call.banner.text.text()
        assert call.isVisible() and call.toolbar.leave_button.isEnabled()
        assert record.state == LIVE and record.taken  # (My meetings: theirs now)
        assert restarted.room_count == 1  # it runs on: nothing was ended
        await call.leave()

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, bridge.leave(), 10)
        window.close()
        for client in opener:
            run(qloop, client.close(), 10)
        run(qloop, host.close(), 10)
        run(qloop, server.close(), 10)
        run(qloop, restarted.close(), 10)
