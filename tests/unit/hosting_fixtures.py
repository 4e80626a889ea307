"""What the HostService tests (test_hosting_rooms, test_hosting_resume and test_hosting_outside)
share: an injected clock and a HostService on 127.0.0.1 as the fixtures "clock" and "host",
``service`` to make one, and ``join`` and ``refused`` for a guest of a meeting's link. A test
file imports the fixtures by their functions' names (``host_fixture``): a test's argument
"host" would redefine the name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.errors import RoomRefused
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import MeetingStore
from app.net import protocol
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


def service(path: Path, clock: Clock) -> HostService:
    return HostService(
        MeetingStore(path), clock=clock, bind="127.0.0.1", advertise="127.0.0.1", preferred_port=0
    )


@pytest.fixture(name="host")
async def host_fixture(tmp_path: Path, clock: Clock) -> AsyncIterator[HostService]:
    svc = service(tmp_path / "meetings.json", clock)
    yield svc
    await svc.close()


async def join(link_text: str) -> tuple[SignalingClient, protocol.Joined]:
    link = parse_link(link_text)
    client = await SignalingClient.connect(link.rendezvous_url, 3.0)
    try:
        return client, await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
    except BaseException:
        await client.close()
        raise


async def refused(link_text: str) -> str:
    with pytest.raises(RoomRefused) as info:
        client, _ = await join(link_text)
        await client.close()
    return info.value.code
