"""LAN rooms in the desktop app: a hosted meeting shows up in another MainWindow's LAN card, a knock
gets the host's Admit/Deny prompt, admit joins through the bridge, deny says so, End withdraws.

Real zeroconf and real rendezvous, all on 127.0.0.1 (``interfaces=["127.0.0.1"]``: no mDNS leaves
this machine). Pins, host keys, settings and meetings live in tmp_path.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.errors import RoomRefused
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.lan import knock_room
from app.meeting.lan_hosting import LanHosting
from app.meeting.links import parse_link
from app.meeting.settings import Settings, SettingsStore
from app.meeting.store import MeetingRecord, MeetingStore
from app.net.knock import HostIdentity
from app.net.knockdesk import KnockRequest
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinStore
from app.ui.bridge import Bridge
from app.ui.join_dialog import JoinDialog
from app.ui.knock_dialogs import GuestWaitDialog, HostKnockPrompt, ask_host
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from app.ui.start_dialog import StartDialog
from tests.ui.conftest import run, until

pytestmark = pytest.mark.timeout(60)
LO = ["127.0.0.1"]
W = TypeVar("W", bound=QWidget)


@pytest.fixture(autouse=True)
def keep_running(qapp: QApplication) -> Iterator[None]:
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


def shown(kind: type[W], button: str = "") -> W | None:
    """The visible top-level dialog of ``kind`` (whose button says ``button``, if given)."""
    for widget in QApplication.topLevelWidgets():
        visible = isinstance(widget, kind) and widget.isVisible()
        if visible and (not button or getattr(widget, "button").text() == button):  # noqa: B009
            return widget  # type: ignore[return-value]
    return None


def host_service(tmp: Path, name: str) -> HostService:
    store = MeetingStore(tmp / f"{name}-meetings.json")
    return HostService(store, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0)


def make_bridge(name: str) -> Bridge:
    return Bridge(
        EngineConfig(name, connect_timeout_s=5.0),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop),
    )


def settings_for(tmp: Path, name: str) -> SettingsStore:
    store = SettingsStore(tmp / f"{name}-settings.json")
    store.save(Settings(display_name=name))
    return store


def joins(window: MainWindow) -> list[JoinDialog]:
    return [d for d in window.dialogs if isinstance(d, JoinDialog)]


def row_of(card: LanCard, room: str) -> int | None:
    names = [r.info.room for r in card.rooms.rooms]
    return names.index(room) if room in names else None


def test_knock_from_the_lan_card_admit_deny_and_end(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path, loopback: None
) -> None:
    room = f"lan-desk-{uuid.uuid4().hex[:6]}"  # other runs on this machine hear us too
    host, guest_host = host_service(tmp_path, "alice"), host_service(tmp_path, "bob")
    host_bridge, guest_bridge = make_bridge("Alice"), make_bridge("Bob")
    errors: list[str] = []
    hosting = LanHosting(
        host, lambda request: ask_host(host_window.knock_parent(), request), lambda: "Alice",
        identity_path=tmp_path / "host.key", interfaces=LO, on_error=errors.append, poll_s=0.2,
    )  # fmt: skip
    host_card = LanCard(PinStore(tmp_path / "alice-pins.json"), lambda: "Alice", interfaces=LO,
                        hide=hosting.is_own)  # fmt: skip
    host_window = MainWindow(host, host_bridge, settings_for(tmp_path, "Alice"), lambda: None,
                             lan=host_card)  # fmt: skip
    guest_pins = PinStore(tmp_path / "bob-pins.json")
    guest_card = LanCard(guest_pins, lambda: "Bob", interfaces=LO)
    calls: list[int] = []
    guest_window = MainWindow(guest_host, guest_bridge, settings_for(tmp_path, "Bob"),
                              lambda: calls.append(1), lan=guest_card)  # fmt: skip
    joined: list[bool] = []
    guest_bridge.joined.connect(lambda: joined.append(True))
    for window in (host_window, guest_window):
        qtbot.addWidget(window)
        window.show()

    async def knock_and_answer(admit: bool) -> None:
        row = row_of(guest_card, room)
        assert row is not None
        guest_card.rooms.knock_button(row).click()
        await until(lambda: shown(HostKnockPrompt), 10, "the host's prompt")
        prompt = shown(HostKnockPrompt)
        wait = shown(GuestWaitDialog)
        assert prompt is not None and wait is not None
        assert prompt.parent() is host_window and "Bob" in prompt.headline.text()
        await until(lambda: wait.code.text() == prompt.code.text(), 5, "the same code")
        (prompt.admit_button if admit else prompt.deny_button).click()

    async def scenario() -> None:
        hosting.start()
        host_card.start()
        guest_card.start()
        assert guest_card.rooms.empty.isVisibleTo(guest_window)
        record = await host.start(room, "small", 600)
        await until(lambda: hosting.announced == [record.link], 5, "announced")
        started = time.monotonic()
        await until(lambda: row_of(guest_card, room) is not None, 5, "the room in the list")
        assert time.monotonic() - started < 4
        assert guest_card.rooms.table.isVisibleTo(guest_window)
        found = guest_card.rooms.rooms[row_of(guest_card, room) or 0]
        assert found.info.host == "Alice" and found.info.people == 0
        assert guest_pins.check(room, found.info.fingerprint).status == "new"
        await until(lambda: any(r.info.room == room for r in host_card._found), 5, "host hears")
        assert row_of(host_card, room) is None  # the host's own room is not offered to it

        await knock_and_answer(admit=True)  # admitted: joins as with a pasted link
        # the join dialog joins (as with a pasted link), opens the call (``calls``) and closes
        await until(lambda: joined and calls, 15, "joined through the bridge")
        assert guest_bridge.link == parse_link(record.link) and not joins(guest_window)
        assert host.participants(record.link) == 1
        assert guest_pins.check(room, found.info.fingerprint).status == "known"
        assert guest_card.rooms.table.item(row_of(guest_card, room) or 0, 4).text().startswith("✓")
        await guest_bridge.leave()

        await knock_and_answer(admit=False)  # denied: the guest reads why
        await until(lambda: shown(GuestWaitDialog, "Close"), 10, "the refusal")
        wait = shown(GuestWaitDialog, "Close")
        assert wait is not None and "did not let you in" in wait.status.text()
        wait.button.click()
        await until(lambda: not guest_card.knocking, 5, "the knock over")
        assert len(joined) == 1

        await host.end(record.link)  # ended: withdrawn from the LAN at once
        ended = time.monotonic()
        await until(lambda: row_of(guest_card, room) is None, 5, "the room gone")
        assert time.monotonic() - ended < 3 and hosting.announced == []
        assert not errors

    try:
        run(qloop, scenario(), 45)
    finally:
        for window in (host_window, guest_window):
            window.close()

        async def cleanup() -> None:
            for card in (host_card, guest_card):
                await card.shutdown()
            await hosting.close()
            await hosting.close()  # idempotent
            for bridge in (host_bridge, guest_bridge):
                await bridge.leave()
            for service in (host, guest_host):
                await service.close()

        run(qloop, cleanup(), 15)


def found_room(hosting_link: str, identity: HostIdentity) -> FoundRoom:
    link = parse_link(hosting_link)
    info = LanRoom(link.room, "Alice", "small", 0, 4, int(time.time()) + 600, identity.fingerprint)
    return FoundRoom("x", info, ("127.0.0.1",), link.port)


def test_rooms_sharing_a_port_each_get_their_knocks(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """Two LAN meetings on one embedded server; a third not shown; knocks go by room name, and
    ending a meeting while its host is deciding tells the guest it ended."""
    host = host_service(tmp_path, "alice")
    identity = HostIdentity.generate()
    asked: list[str] = []
    hold = asyncio.Event()

    async def ask(request: KnockRequest) -> bool:
        asked.append(request.room)
        if request.room.startswith("b-"):
            await hold.wait()
        return True

    tag = uuid.uuid4().hex[:6]
    hosting = LanHosting(host, ask, lambda: "Alice", identity=identity, interfaces=LO)
    carol = host_service(tmp_path, "carol")
    loopback_only = LanHosting(carol, ask, lambda: "Carol")

    async def scenario() -> None:
        hosting.start()
        a = await host.start(f"a-{tag}")
        b = await host.start(f"b-{tag}")
        hidden = await host.start(f"c-{tag}", lan=False)
        assert parse_link(a.link).port == parse_link(b.link).port
        await until(lambda: len(hosting.announced) == 2, 5, "both announced")
        assert set(hosting.announced) == {a.link, b.link} and hidden.link not in hosting.announced
        assert hosting.is_own(found_room(a.link, identity))

        link = await knock_room(found_room(a.link, identity), "Bob", lambda code, t: None)
        assert str(link) == a.link and asked == [a.room]
        knock_b = asyncio.ensure_future(
            knock_room(found_room(b.link, identity), "Bob", lambda code, t: None)
        )
        await until(lambda: len(asked) == 2, 5, "the host asked about b")
        await host.end(b.link)
        with pytest.raises(RoomRefused, match="ended"):
            await asyncio.wait_for(knock_b, 5)
        assert hosting.announced == [a.link]

        loopback_only.start()  # bound to 127.0.0.1 and not told otherwise: never announced
        await carol.start("nearby")
        await asyncio.sleep(0.3)
        assert loopback_only.announced == []

    try:
        run(qloop, scenario(), 30)
    finally:

        async def cleanup() -> None:
            for lan in (hosting, loopback_only):
                await lan.close()
            await host.close()
            await carol.close()

        run(qloop, cleanup(), 15)


def test_start_dialog_show_on_this_network(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path
) -> None:
    host = host_service(tmp_path, "alice")
    dialog = StartDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.show_lan.isChecked() and dialog.show_lan.isEnabled()  # on by default
    dialog.outside.setChecked(True)
    assert not dialog.show_lan.isEnabled()  # only a meeting on this computer is announced
    assert not dialog.show_lan.isChecked()  # (it showed ticked, though nothing was shown)
    dialog.here.setChecked(True)
    assert dialog.show_lan.isChecked() and dialog.show_lan.isEnabled()  # the choice is back
    dialog.show_lan.setChecked(False)
    dialog.outside.setChecked(True)
    dialog.here.setChecked(True)
    assert not dialog.show_lan.isChecked()  # unticked by the person: stays so

    async def scenario() -> None:
        dialog.start_button.click()
        await until(lambda: dialog.record is not None, 5, "the share page")

    run(qloop, scenario(), 10)
    assert dialog.record is not None and dialog.record.lan is False
    saved = MeetingStore(tmp_path / "alice-meetings.json").records[0]
    assert saved.lan is False
    old = {k: v for k, v in saved.to_dict().items() if k != "lan"}  # a file from before
    assert MeetingRecord.from_dict(old).lan is True
    run(qloop, host.close(), 5)


def test_admitted_while_in_a_call_asks_from_qts_loop_not_inside_the_knock(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path, loopback: None
) -> None:
    """The knock's task emits ``admitted``; in a call, the main window asks "Leave this call?"
    in a dialog loop of its own. Asked inside the knock's task, that loop ran every other
    task's wake-up as a failed re-entry ("Cannot enter into task"): lost, so whatever awaited
    it hung for good (a leave, a reply from the rendezvous, the test itself)."""
    host = host_service(tmp_path, "alice")
    bridge = make_bridge("Alice")
    card = LanCard(PinStore(tmp_path / "pins.json"), lambda: "Alice", interfaces=LO)
    window = MainWindow(host, bridge, settings_for(tmp_path, "Alice"), lan=card)
    qtbot.addWidget(window)
    window.show()
    in_knock = False
    asked_in_knock: list[bool] = []  # per question: asked while the knock's task ran?

    def stay() -> None:  # a Qt timer: it answers inside any dialog loop
        for box in QApplication.topLevelWidgets():
            if isinstance(box, QMessageBox) and box.isVisible():
                asked_in_knock.append(in_knock)
                next(b for b in box.buttons() if b.text() == "Stay").click()

    answer = QTimer(interval=20)
    answer.timeout.connect(stay)

    async def scenario() -> None:
        here = await host.start("here", "small", 600)
        there = await host.start("there", "small", 600)
        window.open_join(here.link, auto=True)
        await until(lambda: window.call_window is not None and window.call_window.isVisible(), 15)

        async def knocked() -> None:  # as LanCard._knock ends: admitted, inside its task
            nonlocal in_knock
            in_knock = True
            card.admitted.emit(there.link)
            in_knock = False

        answer.start()
        await asyncio.ensure_future(knocked())
        await until(lambda: bool(asked_in_knock), 5, "Leave this call?")
        assert asked_in_knock == [False], "asked inside the knock's task"
        assert bridge.in_call and bridge.link == parse_link(here.link)  # stayed

    try:
        run(qloop, scenario(), 20)
    finally:
        answer.stop()
        window.close()

        async def cleanup() -> None:
            await bridge.leave()
            await host.close()

        run(qloop, cleanup(), 15)
