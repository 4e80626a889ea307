"""A peer sending chat lines of thousands of line breaks each: every break is a paragraph for
the chat's view to lay out, and 10 such lines a second (all the count of lines let through)
kept the call window busy for good. Real sessions over loopback."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.meeting import events as ev
from app.meeting.chat import BREAKS_A_TOKEN, PEER_MSG_BURST
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_lines_of_many_line_breaks_count_for_more_against_a_flood(
    server: RendezvousServer,
) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        hid, gid = host.session.my_id, guest.session.my_id
        log, dropped = host.session.chat_log, host.session._roster.chat.dropped
        started = asyncio.get_running_loop().time()
        for _ in range(30):  # 4000 paragraphs each (a paste of 16000 characters has ~400)
            text = "\n" * 3999 + "x"
            guest.session._links[hid].send(p.Chat(text=text, msg_id=uuid.uuid4().hex))
        await until(lambda: len(log) + dropped.get(gid, 0) == 30)
        took = asyncio.get_running_loop().time() - started
        weight = 1 + 3999 // BREAKS_A_TOKEN
        assert 1 <= len(log) <= (PEER_MSG_BURST + 10 * took) // weight + 1, (len(log), took)
        assert [e for e in host.of(ev.Notice) if "faster than anyone" in e.text]
        await asyncio.sleep(0.3)
        guest.session.send_chat("a line of its own")  # (one token: soon let through again)
        await until(lambda: log[-1].text == "a line of its own", 3)
