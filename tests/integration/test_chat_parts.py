"""A long chat message goes in parts; the others show it as one message again. Real sessions
over loopback (tests.integration.test_session's set-up): parts as the app sends them, lines as
PeerMeet before parts sends them, a part lost, and a sender gone in the middle of a message."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from app.meeting import events as ev
from app.meeting.chat_parts import GAP, PART_WAIT_S
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_a_message_in_parts_arrives_as_one_and_old_lines_each_alone(
    server: RendezvousServer,
) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        log, hid = host.session.chat_log, host.session.my_id
        parts = ["word " * 700 + "the end of a line ", "goes on here ", "and ends."]
        guest.session.send_chat(parts)  # (as the call window sends a long message)
        await until(lambda: len(log) == 1)
        assert log[0].text == "".join(parts) and log[0].name == "Gus"
        link = guest.session._links[hid]
        for text in ("from PeerMeet ", "before parts"):  # (its ids: uuid hex)
            link.send(p.Chat(text=text, msg_id=uuid.uuid4().hex))
        await until(lambda: len(log) == 3)
        assert [c.text for c in log[1:]] == ["from PeerMeet ", "before parts"]
        link.send(p.Chat(text="the first part ", msg_id="lost:1/3"))  # its 2nd and 3rd: lost
        link.send(p.Chat(text="then a line", msg_id=uuid.uuid4().hex))
        await until(lambda: len(log) == 5)
        assert [c.text for c in log[3:]] == ["the first part " + GAP, "then a line"]


async def test_what_came_of_a_message_shows_before_its_sender_is_said_to_have_left(
    server: RendezvousServer,
) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        link = guest.session._links[host.session.my_id]
        link.send(p.Chat(text="see you all ", msg_id="bye:1/2"))
        await until(lambda: bool(host.session._roster.chat._joiner._waiting))  # (it came, waits)
        assert host.session.chat_log == []
        await guest.session.leave()
        await until(lambda: bool(host.of(ev.PeerLeft)))
        said = [e for e in host.events if isinstance(e, ev.ChatReceived | ev.PeerLeft)]
        assert [type(e) for e in said] == [ev.ChatReceived, ev.PeerLeft]
        assert host.session.chat_log[0].text == "see you all " + GAP


async def test_a_message_whose_rest_never_comes_is_shown_as_it_is_after_a_while(
    server: RendezvousServer,
) -> None:
    """The sender's app was killed between two parts (its link still up, no goodbye): the
    session's once-a-second look shows what came once PART_WAIT_S passed (the joiner's clock
    moved on by that much: the call's own stays as it is)."""
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        link = guest.session._links[host.session.my_id]
        link.send(p.Chat(text="the numbers are ", msg_id="cut:1/2"))
        joiner = host.session._roster.chat._joiner
        await until(lambda: bool(joiner._waiting))
        await asyncio.sleep(1.5)  # (looked at, not yet due)
        assert host.session.chat_log == []
        joiner._clock = lambda: time.monotonic() + PART_WAIT_S
        await until(lambda: bool(host.session.chat_log), 3)
        assert [c.text for c in host.session.chat_log] == ["the numbers are " + GAP]
