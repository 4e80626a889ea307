"""What the call window shows of a remote peer's connection: connecting versus reconnecting."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.ui.bridge import Bridge
from app.ui.call_peers import PeerViews
from app.ui.chat_panel import ChatPanel
from app.ui.peer_panel import PeerPanel
from app.ui.video_grid import VideoGrid


async def _no_stats(peer_id: str) -> None:
    return None


def test_a_peer_never_connected_is_connecting_not_reconnecting(qtbot: QtBot) -> None:
    """A rebuild of a link that never came up (e.g. relay-only with a broken TURN server) is a
    first try again: "connecting…"; once it was connected, a rebuild is "reconnecting…"."""
    grid, people, chat = VideoGrid(lambda _: 0.0), PeerPanel(_no_stats), ChatPanel()
    for widget in (grid, people, chat):
        qtbot.addWidget(widget)
    views = PeerViews(
        Bridge(EngineConfig("Me"), lambda loop: None), grid, people, chat, lambda: None
    )
    try:
        views.joined("p1", "Olga")
        tile, card = grid.tile("p1"), people.cards["p1"]
        assert tile is not None
        for state in ("connecting", "reconnecting", "connecting"):
            views.state("p1", state)
            assert tile.state == "connecting…" and card.state.text() == "Connecting…", state
        views.state("p1", "connected")
        assert tile.state == "" and card.state.text() == "Connected"
        for state in ("reconnecting", "connecting"):
            views.state("p1", state)
            assert tile.state == "reconnecting…" and card.state.text() == "Reconnecting…", state
    finally:
        grid.stop()
