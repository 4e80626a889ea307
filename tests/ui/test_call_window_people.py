"""The call window's People panel: live connection figures and the invite link in a real call,
long names that fit the panel, and names shown as plain text. Runs under Xvfb.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.peer_panel import PeerPanel
from tests.ui.conftest import until
from tests.ui.test_call_window import in_call_with_host


def test_people_panel_shows_live_connection_figures(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        window.toolbar.people_button.click()
        await until(lambda: bool(window.people.cards), what="host card")
        assert window.people.invite.isVisible()  # the link, to invite someone else
        window.people.invite.click()
        assert QGuiApplication.clipboard().text() == link and "#k=" in link
        assert window.people.invite.text() == "Copied"
        (card,) = window.people.cards.values()
        try:
            await until(lambda: "kbit/s" in card.values["In / out"].text(), 6, "bit rates")
            await until(lambda: card.values["Round trip"].text().endswith("ms"), 6, "round trip")
            window.toolbar.people_button.click()  # closed a while, then opened again:
            await asyncio.sleep(0.3)
            people = window.people
            await until(lambda: people._task is None or people._task.done(), what="poll done")
            polls = people.polls
            window.toolbar.people_button.click()
            await until(lambda: people.polls > polls, 1.0, "figures as it opens")
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario)


@pytest.mark.parametrize("width", [340, 290])  # the call window's, wide and narrow
def test_people_panel_cards_fit_the_panel_with_long_names(qtbot: QtBot, width: int) -> None:
    async def no_stats(peer_id: str) -> None:
        return None

    panel = PeerPanel(no_stats)
    qtbot.addWidget(panel)
    panel.setFixedWidth(width)
    panel.resize(width, 600)
    long = "Margaret Hamilton-Smythe the Third, Chief Engineer of Everything"
    panel.set_me(long)
    panel.add_peer("p1", long)
    panel.cards["p1"].set_state("connected", False)
    panel.show()
    qtbot.waitExposed(panel)
    card = panel.cards["p1"]
    qtbot.waitUntil(lambda: card.width() > 0, timeout=2000)
    viewport = card.parentWidget()
    assert viewport is not None and card.geometry().right() < viewport.width() + 1
    state = card.state.mapTo(panel, card.state.rect().topRight())
    assert card.state.isVisible() and state.x() <= panel.width(), state.x()  # not cut off
    assert card.name.toolTip() == f"<p>{long}</p>" and card.name.text().endswith("…")


def test_names_in_the_people_panel_are_plain_text(qtbot: QtBot) -> None:
    """A name is shown as typed, never as markup: "<b></b>Hana" must not pass for "Hana"
    next to a safety code (its tooltip too: Qt renders a tooltip that looks like HTML)."""

    async def no_stats(peer_id: str) -> None:
        return None

    panel = PeerPanel(no_stats)
    qtbot.addWidget(panel)
    panel.resize(340, 600)
    panel.add_peer("p1", "<b></b>Hana")
    panel.set_me("<u>Bo</u>")
    panel.show()
    name = panel.cards["p1"].name
    assert name.textFormat() == Qt.TextFormat.PlainText and name.text() == "<b></b>Hana"
    assert name.toolTip() == "<p>&lt;b&gt;&lt;/b&gt;Hana</p>"
    assert panel.me.textFormat() == Qt.TextFormat.PlainText and "<u>Bo</u>" in panel.me.text()
    card = panel.cards["p1"]
    assert card.media.isHidden()  # nothing to say while their microphone and camera are on
    panel.set_media("p1", mic=False, cam=False, screen=True)
    assert card.media.text() == "Muted · Camera off · Sharing screen" and not card.media.isHidden()
    assert card.values["Video"].text() == "camera off"
