"""A room whose host could not be reached at a knock shows as not answering in "Rooms on this
network", until its announcement changes or its host answers a knock again. Real zeroconf on
127.0.0.1, a real LanCard, a real rendezvous taking the host's port."""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.lanroom import LanRoom
from app.net.pins import PinStore
from app.net.rendezvous import RendezvousServer
from app.net.wsio import WsConnection, WsServer
from app.ui.lan_card import LanCard
from app.ui.lan_rooms import DIM, NOT_ANSWERING
from tests.ui.conftest import run, until
from tests.ui.test_lan_desktop import LO, row_of
from tests.ui.test_lan_knock_words import closed_port, knock_and_close

pytestmark = pytest.mark.timeout(60)


def test_a_host_that_cannot_be_reached_is_marked_until_it_answers_or_changes(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """A crashed host's announcement lingers ~2 minutes: its row looked like any other, and
    Knock could be pressed again and again with no hint that nobody answers there."""
    room = f"crashed-{uuid.uuid4().hex[:6]}"
    identity = HostIdentity.generate()
    card = LanCard(PinStore(tmp_path / "pins.json"), lambda: "Bob", interfaces=LO,
                   hide=lambda found: found.info.fingerprint != identity.fingerprint)  # fmt: skip
    qtbot.addWidget(card)
    card.show()
    hosts: list[Discovery] = []
    servers: list[RendezvousServer] = []
    odd_servers: list[WsServer] = []

    async def say_hello(conn: WsConnection) -> None:
        await conn.send_text("hello")
        await conn.recv_text(5.0)

    def button_text() -> str:
        return card.rooms.knock_button(row_of(card, room) or 0).text()

    async def scenario() -> None:
        card.start()
        host = Discovery(LO)
        hosts.append(host)
        info = LanRoom(room, "Alice", "small", 1, 4, int(time.time()) + 600, identity.fingerprint)
        port = closed_port()
        announcement = await host.announce(info, port, LO)
        await until(lambda: row_of(card, room) is not None, 10, "the room in the list")
        assert button_text() == "Knock"
        await knock_and_close(card, room, "Cannot reach")
        row = row_of(card, room) or 0
        button = card.rooms.knock_button(row)
        assert button.text() == NOT_ANSWERING and button.isEnabled()  # (it may try again)
        assert "could not be reached" in button.toolTip()
        assert "could not be reached" in button.accessibleDescription()
        assert card.rooms.table.item(row, 0).foreground().color() == DIM
        # the host is back on its port (with no knock desk: it refuses, but it answers)
        server = RendezvousServer("127.0.0.1", port)
        servers.append(server)
        await server.start()
        await knock_and_close(card, room, "")
        assert button_text() == "Knock"
        assert card.rooms.table.item(row, 0).foreground().color() != DIM
        await server.close()  # gone again: marked again...
        await knock_and_close(card, room, "Cannot reach")
        assert button_text() == NOT_ANSWERING
        # something answers there, but not as a host does: it was reached, so not "silent"
        odd = WsServer(say_hello, "127.0.0.1", port)
        odd_servers.append(odd)
        await odd.start()
        await knock_and_close(card, room, "something odd")
        assert button_text() == "Knock"
        await odd.close()
        await knock_and_close(card, room, "Cannot reach")
        assert button_text() == NOT_ANSWERING
        await announcement.update(dataclasses.replace(info, people=2))  # ...until it changes
        await until(lambda: button_text() == "Knock", 10, "the mark cleared")

    try:
        run(qloop, scenario(), 40)
    finally:

        async def cleanup() -> None:
            await card.shutdown()
            for server in servers:
                await server.close()
            for odd in odd_servers:
                await odd.close()
            for host in hosts:
                await host.close()

        run(qloop, cleanup(), 15)
