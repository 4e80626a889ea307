"""What the call window shows of a remote peer's connection: connecting versus reconnecting."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.meeting.call_ops import PeerStats
from app.ui.bridge import Bridge
from app.ui.call_peers import PeerViews
from app.ui.chat_panel import ChatPanel
from app.ui.peer_panel import PeerCard, PeerPanel
from app.ui.style import FSI, PDI
from app.ui.video_grid import MY_SCREEN, VideoGrid
from app.ui.waiting_card import WaitingCard


async def _no_stats(peer_id: str) -> None:
    return None


def peer_views(qtbot: QtBot) -> PeerViews:
    """What a call window shows of its peers, for a call window whose name is "Me"."""
    grid, people, chat = VideoGrid(lambda _: 0.0), PeerPanel(_no_stats), ChatPanel()
    for widget in (grid, people, chat):
        qtbot.addWidget(widget)
    bridge = Bridge(EngineConfig("Me"), lambda loop: None)
    return PeerViews(bridge, grid, people, chat, lambda: None)


def test_a_peer_never_connected_is_connecting_not_reconnecting(qtbot: QtBot) -> None:
    """A rebuild of a link that never came up (e.g. relay-only with a broken TURN server) is a
    first try again: "connecting…"; once it was connected, a rebuild is "reconnecting…"."""
    views = peer_views(qtbot)
    grid, people = views.grid, views.people
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


def test_two_people_of_one_name_are_told_apart(qtbot: QtBot) -> None:
    """A second "Olga" (or someone named like me) is "Olga (2)" on the tile, the card and in
    the chat, and each one's messages are headed by their own name."""
    views = peer_views(qtbot)
    grid, people, chat = views.grid, views.people, views.chat
    try:
        views.joined("p1", "Olga")
        views.joined("p2", "Olga")
        views.joined("p3", "Me")
        views.joined("p2", "Olga")  # (announced again: the same label)
        shown = {p: grid.tile(p).name for p in ("p1", "p2", "p3")}  # type: ignore[union-attr]
        assert shown == {"p1": "Olga", "p2": "Olga (2)", "p3": "Me (2)"}
        assert people.cards["p2"].name.full == "Olga (2)"
        chat.add_message(views.label("p1", "Olga"), "I am the first", sender="p1")
        chat.add_message(views.label("p2", "Olga"), "I am the other", sender="p2")
        page = chat.view.toPlainText().replace(FSI, "").replace(PDI, "")  # (names held apart)
        assert "Olga (2) joined" in page and page.count("Olga ") >= 2
        assert "Olga (2) " in page.split("I am the first")[1]  # a heading of its own
        views.left("p1", "Olga", "left")
        views.left("p2", "Olga", "ended")  # the meeting's end: the window says it, once
        assert "Olga left" in chat.view.toPlainText()
        assert "(ended)" not in chat.view.toPlainText()
        views.joined("p4", "Olga")  # the first Olga is gone: the name is free again
        assert grid.tile("p4").name == "Olga"  # type: ignore[union-attr]
    finally:
        grid.stop()


def test_a_peer_sharing_their_screen_shows_its_frame_rate_too(qtbot: QtBot) -> None:
    card = PeerCard("Olga")
    qtbot.addWidget(card)
    figures = dict(path="host", address="", rtt_ms=3.0, packets_lost=0, bytes_in=0)
    idle = PeerStats(**figures, bytes_out=0, fps=30.0, frames=9, at=1.0, screen_fps=0.0)
    card.update_stats(idle)  # (every link has a screen track, idle until they share)
    assert card.values["Video"].text() == "30 fps"
    card.set_media(True, False, True)  # camera off, sharing
    sharing = PeerStats(**figures, bytes_out=0, fps=0.0, frames=9, at=2.0, screen_fps=5.0)
    card.update_stats(sharing)
    assert card.values["Video"].text() == "camera off · screen 5 fps"


def test_each_person_in_the_people_panel_is_a_tab_stop_that_reads_the_safety_code(
    qtbot: QtBot,
) -> None:
    """Keyboard and screen-reader users reach each card with Tab and hear its name, state and
    safety code (the code is there to be read aloud; the cards took no focus)."""
    views = peer_views(qtbot)
    people = views.people
    try:
        views.joined("p1", "Olga")
        views.connected("p1", "Olga", "host", "1234 5678", 80.0)
        views.media("p1", False, True, False)
        card = people.cards["p1"]
        assert card.focusPolicy() & Qt.FocusPolicy.TabFocus
        assert card.accessibleName() == "Olga"
        said = card.accessibleDescription()
        assert "Connected" in said and "Muted" in said and "safety code 1234 5678" in said
        people.show()  # opened (Ctrl+Shift+P): the keyboard goes to the first person
        assert people.focusWidget() is card
    finally:
        views.grid.stop()


def test_lost_packets_are_counted_in_words(qtbot: QtBot) -> None:
    card = PeerCard("Olga")
    qtbot.addWidget(card)
    for lost, said in ((0, "0 packets"), (1, "1 packet"), (2, "2 packets")):
        figures = dict(path="host", address="", rtt_ms=3.0, bytes_in=0, bytes_out=0)
        card.update_stats(PeerStats(**figures, packets_lost=lost, fps=30.0, frames=9, at=1.0))
        assert card.values["Lost"].text() == said


def test_alone_in_the_call_a_card_says_so_and_offers_the_link(qtbot: QtBot) -> None:
    """Nobody else is here: "Waiting for others to join" over the video, with the link to copy;
    gone as soon as someone's tile arrives, back when they leave, never after the call ended."""
    grid = VideoGrid(lambda _: 0.0)
    qtbot.addWidget(grid)
    grid.resize(900, 600)
    grid.show()
    on = [True]
    link = "peermeet://10.0.0.2:8765/team-sync#k=AAECAwQFBgcICQoLDA0ODw"
    card = WaitingCard(grid, lambda: on[0], link)
    try:
        qtbot.waitUntil(card.isVisible)
        assert card.geometry().intersects(grid.rect()) and card.copy.isVisible()
        card.copy.click()
        assert QGuiApplication.clipboard().text() == link and card.copy.text() == "Copied"
        grid.add(MY_SCREEN, "Me", lambda: None)  # sharing my screen: still nobody else
        card.check()
        assert card.isVisible()
        grid.add(("p1", "video"), "Olga", lambda: None)
        qtbot.waitUntil(card.isHidden, timeout=1000)
        grid.remove(("p1", "video"))
        qtbot.waitUntil(card.isVisible, timeout=1000)
        card.lost("Lost touch with the meeting; getting back in…", False)  # (said instead)
        assert card.isHidden()
        card.lost("", False)
        assert card.isVisible()
        on[0] = False  # the call ended
        qtbot.waitUntil(card.isHidden, timeout=1000)
        assert not WaitingCard(grid, lambda: True, "").copy.isVisibleTo(grid)  # no link: no button
    finally:
        grid.stop()


def test_someone_leaving_as_the_meeting_ends_is_said_unless_ours_ended_too(qtbot: QtBot) -> None:
    """Others leave "ended" or "expired" when the whole meeting ends, their goodbyes often just
    before the rendezvous tells us: the window says the end, once. But someone whose app alone
    saw an end (it missed an extension while out of touch; or a hostile or other app) was never
    said to have left at all. Now such a leave is said after a while unless our call ended for
    one of those reasons meanwhile; ended for another reason, at once."""
    views = peer_views(qtbot)
    views.ending_wait_ms = 100
    chat = views.chat

    def said() -> list[str]:
        return [line.text for line in chat.lines]

    try:
        views.joined("p1", "Olga")
        views.joined("p2", "Ivy")
        views.left("p1", "Olga", "expired")  # only her app thought the meeting was over
        assert "Olga left (expired)" not in said() and views.grid.tile("p1") is None
        qtbot.waitUntil(lambda: "Olga left (expired)" in said(), timeout=2000)
        views.left("p2", "Ivy", "ended")  # the host ended it: we hear of it just after
        views.clear("ended")
        qtbot.wait(300)
        assert said().count("Olga left (expired)") == 1
        assert not [text for text in said() if text.startswith("Ivy left")]
    finally:
        views.grid.stop()

    views = peer_views(qtbot)
    try:
        views.joined("p3", "Gus")
        views.left("p3", "Gus", "ended")
        views.clear("left")  # we left ourselves meanwhile: his leaving is said, now
        assert [line.text for line in views.chat.lines][-1] == "Gus left (ended)"
    finally:
        views.grid.stop()
