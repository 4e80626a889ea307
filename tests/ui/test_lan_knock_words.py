"""What a guest reads when a knock from "Rooms on this network" goes wrong. Real zeroconf on
127.0.0.1, a real LanCard and its wait dialog."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from app.meeting.lan_hosting import LanHosting
from app.net.discovery import Discovery
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockRequest
from app.net.lanroom import LanRoom
from app.net.pins import PinStore
from app.ui.knock_dialogs import GuestWaitDialog
from app.ui.lan_card import LanCard
from tests.ui.conftest import run, until
from tests.ui.test_lan_desktop import LO, host_service, row_of, shown

pytestmark = pytest.mark.timeout(60)


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (the host's PeerMeet is gone)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def knock_and_close(card: LanCard, room: str, says: str = "") -> str:
    """Knock on ``room`` from ``card`` until the knock ends with ``says`` in the wait dialog;
    close it; what it said."""
    card.rooms.knock_button(row_of(card, room) or 0).click()
    await until(lambda: shown(GuestWaitDialog, "Close"), 10, "the knock's end")
    dialog = shown(GuestWaitDialog, "Close")
    assert dialog is not None and says in dialog.status.text(), dialog.status.text()
    text = dialog.status.text()
    dialog.button.click()
    await until(lambda: not card.knocking, 5, "the knock over")
    return text


def test_a_knock_on_a_host_that_is_gone_says_so_not_to_check_a_link(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """A host whose PeerMeet stopped without a goodbye stays in the list for minutes; a knock
    on it said "Check the link, or ask the host whether PeerMeet is still running": there is
    no link to check (the room was picked from the list)."""
    room = f"gone-{uuid.uuid4().hex[:6]}"
    identity = HostIdentity.generate()
    card = LanCard(PinStore(tmp_path / "pins.json"), lambda: "Bob", interfaces=LO,
                   hide=lambda found: found.info.fingerprint != identity.fingerprint)  # fmt: skip
    qtbot.addWidget(card)
    card.show()
    hosts: list[Discovery] = []

    async def scenario() -> None:
        card.start()
        host = Discovery(LO)  # (made on the running loop)
        hosts.append(host)
        info = LanRoom(room, "Alice", "small", 1, 4, int(time.time()) + 600, identity.fingerprint)
        await host.announce(info, closed_port(), LO)
        await until(lambda: row_of(card, room) is not None, 10, "the room in the list")
        text = await knock_and_close(card, room)
        assert "link" not in text.replace("meeting link", ""), text  # none to check
        assert f"host of “{room}”" in text and "closed PeerMeet" in text, text
        assert "connection refused" in text  # (what went wrong, in the network's words)

    try:
        run(qloop, scenario(), 30)
    finally:

        async def cleanup() -> None:
            await card.shutdown()
            for host in hosts:
                await host.close()

        run(qloop, cleanup(), 15)


def test_the_wait_says_whose_room_when_two_hosts_announce_one_name(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    """Alice and Carol both announce "standup": the list tells them apart by host, but the
    guest's wait said only "Waiting for the host to let you in …", not which one."""
    room = f"standup-{uuid.uuid4().hex[:6]}"
    alice, carol = HostIdentity.generate(), HostIdentity.generate()
    host = host_service(tmp_path, "alice")
    asked: list[KnockRequest] = []
    never: asyncio.Future[bool] = qloop.create_future()

    async def ask(request: KnockRequest) -> bool:
        asked.append(request)
        return await never  # Alice does not answer while the guest reads

    hosting = LanHosting(host, ask, lambda: "Alice", identity=alice, interfaces=LO)
    ours = {alice.fingerprint, carol.fingerprint}
    card = LanCard(PinStore(tmp_path / "pins.json"), lambda: "Bob", interfaces=LO,
                   hide=lambda found: found.info.fingerprint not in ours)  # fmt: skip
    qtbot.addWidget(card)
    card.show()
    others: list[Discovery] = []

    async def scenario() -> None:
        hosting.start()
        card.start()
        await host.start(room, "small", 600)
        other = Discovery(LO)
        others.append(other)
        info = LanRoom(room, "Carol", "small", 0, 4, int(time.time()) + 600, carol.fingerprint)
        await other.announce(info, closed_port(), LO)
        await until(lambda: len(card.rooms.rooms) == 2, 10, "both rooms in the list")
        hosts = [r.info.host for r in card.rooms.rooms]
        card.rooms.knock_button(hosts.index("Alice")).click()
        await until(lambda: asked, 10, "Alice asked")
        dialog = shown(GuestWaitDialog, "Cancel")
        assert dialog is not None
        await until(lambda: dialog.code.text() == asked[0].code, 5, "the code")
        text = dialog.status.text()
        assert "Alice" in text and room in text and "Carol" not in text, text
        dialog.button.click()
        await until(lambda: not card.knocking, 5, "the knock over")

    try:
        run(qloop, scenario(), 30)
    finally:

        async def cleanup() -> None:
            await card.shutdown()
            await hosting.close()
            for other in others:
                await other.close()
            await host.close()

        run(qloop, cleanup(), 15)
