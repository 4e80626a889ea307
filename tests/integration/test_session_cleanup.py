"""Sessions against a real rendezvous and real aiortc connections, in one process: what a call
leaves behind. People coming and going leave no connections, decoders or threads, and a
connection a rebuild replaced is freed at once.
"""

from __future__ import annotations

import asyncio
import gc
import os
import weakref

import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs.vpx import Vp8Decoder

from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import Peer, room_link, two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


def _threads() -> int:
    gc.collect()  # (a guest's side, in this same process, goes with its reference cycles)
    return len(os.listdir("/proc/self/task"))


async def test_people_coming_and_going_leave_nothing_behind(server: RendezvousServer) -> None:
    """Every connection, decoder and decoder thread of a peer who left is released: a long
    meeting with people coming and going does not grow."""
    link = room_link(server)
    host = Peer("Hana")
    try:
        await host.session.create(link, "small", 3600)
        threads = []
        for n in range(3):
            guest = Peer(f"Gus{n}")
            await guest.session.join(link)
            gid = guest.session.my_id
            await until(lambda: host.media.video_frames(gid) > 5)  # noqa: B023
            await guest.close()
            await until(lambda: not host.session.peers)
            await asyncio.sleep(0.2)  # the receivers' last callbacks
            threads.append(_threads())
        assert _alive(RTCPeerConnection) == 0
        assert _alive(Vp8Decoder) == 0
        assert threads[-1] <= threads[0], threads  # no thread per past peer
    finally:
        await host.close()


async def test_a_rebuilt_connection_is_released(
    server: RendezvousServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection a rebuild replaced is freed at once, not kept by the once-a-second watch
    (its loop variable held the last dead link until the next rebuild or the call's end)."""
    async with two_in_a_room(server) as (_link, host, guest):
        gid, hid = guest.session.my_id, host.session.my_id
        await until(lambda: host.media.video_frames(gid) > 5 and guest.media.video_frames(hid) > 5)
        old = host.session._links[gid]
        dead = weakref.ref(old.pc)
        due = [(gid, old, "stalled")]  # the watch finds the link stalled, once
        roster = host.session._roster
        monkeypatch.setattr(roster, "needing_rebuild", lambda: [due.pop()] if due else [])
        del old
        links = host.session._links
        await until(lambda: gid in links and links[gid].pc is not dead())  # a new one
        await until(lambda: links[gid].pc.connectionState == "connected")
        frames = host.media.video_frames(gid)
        await until(lambda: host.media.video_frames(gid) > frames + 5)  # the new link carries on
        await asyncio.sleep(2 * host.session._watch_interval)  # a few quiet looks
        gc.collect()
        assert dead() is None, "the replaced connection is still alive"
        assert _alive(RTCPeerConnection) == 2  # ours and the guest's, nothing else
