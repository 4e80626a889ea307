"""What the dialog tests (test_start_dialog, test_my_meetings, test_join_dialog and
test_settings_dialog) share: a clock to move meetings' time on; fixtures for a host, a bridge
and a settings file; and ``fill``, guests in a meeting. A test file imports the fixtures it
uses (and keep_running, which then applies to all its tests). Each is named as the tests take
it ("host"), not as its function (``host_fixture``), as tests.pulse's "pulse" is: a test's
argument would redefine the name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.meeting.store import MeetingStore
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui.bridge import Bridge


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(autouse=True)
def keep_running(qapp: QApplication) -> Iterator[None]:
    """Closing the last dialog must not stop the event loop under the test."""
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(True)


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="host")
def host_fixture(tmp_path: Path, clock: Clock, qloop: qasync.QEventLoop) -> Iterator[HostService]:
    svc = HostService(
        MeetingStore(tmp_path / "meetings.json"),
        clock=clock,
        bind="127.0.0.1",
        advertise="127.0.0.1",
        preferred_port=0,
    )
    yield svc
    qloop.run_until_complete(svc.close())


@pytest.fixture(name="bridge")
def bridge_fixture(loopback: None, qloop: qasync.QEventLoop) -> Iterator[Bridge]:
    b = Bridge(
        EngineConfig("Tester", connect_timeout_s=5.0),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop),
    )
    yield b
    qloop.run_until_complete(b.leave())


@pytest.fixture(name="settings")
def settings_fixture(tmp_path: Path) -> SettingsStore:
    return SettingsStore(tmp_path / "settings.json")


async def fill(link_text: str, n: int) -> list[SignalingClient]:
    """``n`` guests in the meeting of ``link_text``, on its rendezvous (to fill it up)."""
    link = parse_link(link_text)
    clients = []
    for _ in range(n):
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        clients.append(client)
    return clients
