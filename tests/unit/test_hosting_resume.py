"""HostService against real embedded rendezvous servers on 127.0.0.1, with an injected clock:
meetings resumed when the app starts again (on the same port, or saying why not), reopened when
tried again, outside meetings left alone, and a new link when the address changed."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from app.meeting import hosting
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.store import ENDED, EXPIRED, LIVE, UNAVAILABLE, MeetingStore
from app.net.rendezvous import RendezvousServer
from tests.unit.hosting_fixtures import (
    Clock,
    clock_fixture,  # noqa: F401  (the "clock" fixture)
    join,
    refused,
    service,
)


async def test_resume_reopens_on_the_same_port(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    live = await first.start("keep me", lifetime_s=3600)
    gone = await first.start("end me")
    await first.end(gone.link)
    short = await first.start("nearly over", lifetime_s=100)
    await first.close()
    await first.close()  # idempotent
    clock.t += 60
    second = service(path, clock)
    try:
        reopened = await second.resume()
        assert [r.link for r in reopened] == [live.link]
        assert second.store.find(short.link).state == EXPIRED  # type: ignore[union-attr]
        client, joined = await join(live.link)  # the very same link works again
        assert joined.expires_at == live.expires_at
        assert await refused(gone.link) == "room_ended"  # late joiners still hear "ended"
        await client.close()
        await second.extend(live.link)  # with the new owner token
    finally:
        await second.close()


async def test_resume_says_why_when_the_port_is_taken(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("blocked")
    await first.close()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", record.port))
        squatter.listen()
        second = service(path, clock)
        try:
            assert await second.resume() == []
            again = second.store.find(record.link)
            assert again is not None and again.state == UNAVAILABLE
            assert f"port {record.port}" in again.note and "taken" in again.note
            assert "(Address already in use)" in again.note  # not asyncio's raw text
            assert second.participants(record.link) == 0
            await second.end(record.link)  # the user can still clear it
            assert second.store.find(record.link).state == ENDED  # type: ignore[union-attr]
        finally:
            await second.close()


async def test_a_meeting_whose_port_was_taken_reopens_when_tried_again(
    tmp_path: Path, clock: Clock
) -> None:
    """My meetings' Try again: once the program holding the port is gone, the same link
    works again (it stayed unavailable until the next restart)."""
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("blocked")
    await first.close()
    second = service(path, clock)
    try:
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", record.port))
            squatter.listen()
            await second.resume()
            again = await second.reopen(record.link)  # still taken: still unavailable
            assert again.state == UNAVAILABLE and "taken" in again.note
        again = await second.reopen(record.link)
        assert again.state == LIVE and again.note == "" and again.link == record.link
        assert second.participants(record.link) == 0  # its room is there again
    finally:
        await second.close()


async def test_resume_leaves_outside_meetings_alone(tmp_path: Path, clock: Clock) -> None:
    outside = RendezvousServer("127.0.0.1", 0)
    port = await outside.start()
    path = tmp_path / "meetings.json"
    first = service(path, clock)
    record = await first.start("remote", rendezvous=f"peermeet://127.0.0.1:{port}")
    await first.close()
    second = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", sweep_interval=0.02)
    expired = asyncio.Event()
    second.subscribe(lambda: expired.set() if second.records()[0].state == EXPIRED else None)
    try:
        assert [r.link for r in await second.resume()] == [record.link]
        assert second.store.find(record.link).state == LIVE  # type: ignore[union-attr]
        clock.t = record.expires_at  # its time runs out with only outside meetings open:
        await asyncio.wait_for(expired.wait(), 3)  # My meetings says so (nothing swept them)
    finally:
        await second.close()
        await outside.close()


async def test_resume_makes_a_new_link_when_the_address_changed(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "meetings.json"
    monkeypatch.setattr(hosting, "advertised_host", lambda bind: "10.0.0.5")
    first = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", preferred_port=0)
    record = await first.start("moved")
    await first.close()
    assert parse_link(record.link).host == "10.0.0.5"
    monkeypatch.setattr(hosting, "advertised_host", lambda bind: "10.0.0.6")
    second = HostService(MeetingStore(path), clock=clock, bind="127.0.0.1", preferred_port=0)
    try:
        [again] = await second.resume()
        old, new = parse_link(record.link), parse_link(again.link)
        assert (new.host, new.port, new.secret) == ("10.0.0.6", old.port, old.secret)
        assert "address changed" in again.note and "10.0.0.5" in again.note
        assert MeetingStore(path).find(again.link) is not None
    finally:
        await second.close()
