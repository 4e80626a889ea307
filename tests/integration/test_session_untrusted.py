"""Sessions against a real rendezvous and real aiortc connections, in one process: what others
send is not trusted. Names and chat are made safe to show, and a peer flooding the chat is cut
short (and that is said once).
"""

from __future__ import annotations

import asyncio

import pytest

from app.meeting import events as ev
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import Peer, room_link, two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_names_and_chat_from_others_are_made_safe_to_show(server: RendezvousServer) -> None:
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Eve\u202eexe.gpj\x1b[31m")
    try:
        await host.session.create(link, "small", 3600)
        await guest.session.join(link)
        await until(lambda: bool(guest.of(ev.PeerConnected)))
        guest.session.send_chat("y" * 70_000)  # over the data channel's message limit
        guest.session.send_chat("after \u202eevil\x07")
        await until(lambda: len(host.session.chat_log) == 2)
        big, after = host.session.chat_log
        assert big.text == "y" * 4000 and after.text == "after evil"
        assert after.name == "Eveexe.gpj[31m"  # no override, no escape
        hid = host.session.my_id
        guest.session._links[hid].send(p.Chat(text="huge id", msg_id="i" * 60_000))
        guest.session.send_chat("then this")
        await until(lambda: len(host.session.chat_log) == 3)
        assert host.session.chat_log[-1].text == "then this"  # the huge id: dropped, not kept
        assert all(len(i) <= 64 for i in host.session._roster.chat._seen[guest.session.my_id])
    finally:
        await guest.close()
        await host.close()


async def test_a_peer_flooding_the_chat_is_cut_short_and_said_once(
    server: RendezvousServer,
) -> None:
    """A broken or hostile app sending chat lines without end must not bury the chat, grow
    memory or hold up the call: past a burst, its lines are dropped and that is said once."""
    async with two_in_a_room(server) as (_link, host, guest):
        await until(lambda: bool(host.of(ev.PeerConnected)) and bool(guest.of(ev.PeerConnected)))
        hid, gid = host.session.my_id, guest.session.my_id
        guest.session.send_chat("hello")  # (the data channel is open)
        await until(lambda: len(host.session.chat_log) == 1)
        started = asyncio.get_running_loop().time()
        for n in range(2000):
            guest.session._links[hid].send(p.Chat(text=f"spam {n}", msg_id=f"m{n}"))
        dropped = host.session._roster.chat.dropped
        await until(lambda: len(host.session.chat_log) - 1 + dropped.get(gid, 0) == 2000)
        took = asyncio.get_running_loop().time() - started
        got = len(host.session.chat_log) - 1
        assert 100 <= got <= 100 + 10 * took + 1, (got, took)  # a burst, then 10 a second
        notes = [e.text for e in host.of(ev.Notice) if "faster than anyone" in e.text]
        assert len(notes) == 1 and notes[0].startswith("Gus is sending"), notes
        await asyncio.sleep(0.3)  # (a flood's own lines take every token as it comes back)
        frames = host.media.video_frames(guest.session.my_id)
        await until(lambda: host.media.video_frames(guest.session.my_id) > frames + 10)
        guest.session.send_chat("and now something worth reading")
        await until(lambda: host.session.chat_log[-1].text == "and now something worth reading")
        await guest.session.leave()  # a goodbye always gets through
        await until(lambda: guest.session.my_id not in host.session.peers)
        assert [e.reason for e in host.of(ev.PeerLeft)] == ["left"]
