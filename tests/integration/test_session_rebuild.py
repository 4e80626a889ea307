"""Sessions against a real rendezvous and real aiortc connections, in one process: a dead media
path rebuilt, a requested rebuild and a stale watchdog verdict making one offer, and an answer
to a superseded offer dropped.
"""

from __future__ import annotations

import asyncio

import pytest

from app.meeting import events as ev
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import Peer, _blackhole, two_in_a_room, until

pytestmark = pytest.mark.usefixtures("loopback")


async def offering_side(host: Peer, guest: Peer) -> tuple[Peer, str]:
    """The peer that offers (the lower id) and the other's id, once video flows to it."""
    offerer, other = sorted((host, guest), key=lambda peer: peer.session.my_id)
    oid = other.session.my_id
    await until(lambda: offerer.media.video_frames(oid) > 5)
    return offerer, oid


async def test_dead_media_path_is_rebuilt(server: RendezvousServer) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        gid, hid = guest.session.my_id, host.session.my_id
        await until(lambda: host.media.video_frames(gid) > 5 and guest.media.video_frames(hid) > 5)
        _blackhole(host.session, gid)
        _blackhole(guest.session, hid)
        await asyncio.sleep(1.0)
        host.session.send_chat("are you still there?")  # into the dead path
        frozen = guest.media.video_frames(hid)
        await asyncio.sleep(1.0)
        assert guest.media.video_frames(hid) - frozen <= 1  # the path is really dead
        assert guest.session.chat_log == []
        start = asyncio.get_running_loop().time()
        await until(lambda: guest.media.video_frames(hid) > frozen + 15, limit=12)
        assert asyncio.get_running_loop().time() - start < 10
        # the line went again over the rebuilt link, and shows once
        await until(lambda: bool(guest.session.chat_log), limit=3)
        host.session.send_chat("good")
        await until(lambda: len(guest.session.chat_log) == 2, limit=3)
        assert [c.text for c in guest.session.chat_log] == ["are you still there?", "good"]
        states = [e.state for e in host.of(ev.ConnectionChanged) + guest.of(ev.ConnectionChanged)]
        assert "reconnecting" in states
        assert host.of(ev.PeerLeft) == [] and guest.of(ev.PeerLeft) == []
        assert any("reconnected" in e.text for e in guest.of(ev.Notice) + host.of(ev.Notice))
        flowing = [e for e in host.of(ev.Progress) if e.step == 5]  # type: ignore[attr-defined]
        assert len(flowing) == 1  # "media flowing" is said once, not again after the rebuild

        # the rebuilt connection has a safety code of its own: both sides show the new one
        # (under load a rebuilt link may be rebuilt once more: then a third code, the same way)
        def latest() -> list[str]:
            return [x.of(ev.PeerConnected)[-1].safety_code for x in (host, guest)]  # type: ignore[attr-defined]

        await until(
            lambda: min(len(host.of(ev.PeerConnected)), len(guest.of(ev.PeerConnected))) >= 2
        )
        await until(lambda: latest()[0] == latest()[1], limit=20)
        assert latest()[0] != host.of(ev.PeerConnected)[0].safety_code  # type: ignore[attr-defined]


async def test_a_requested_rebuild_and_a_stale_watchdog_verdict_make_one_offer(
    server: RendezvousServer,
) -> None:
    """The peer's "reconnect" request and our own watchdog's verdict on the same dead link can
    land in one loop iteration: the second must not replace the first's new connection (its
    answer would then cross the second offer and be applied to the wrong connection)."""
    async with two_in_a_room(server) as (_link, host, guest):
        offerer, oid = await offering_side(host, guest)
        s = offerer.session
        offers: list[str] = []
        make_offer = s._exchange.offer

        async def counted(peer_id: str) -> None:
            offers.append(peer_id)
            await make_offer(peer_id)

        s._exchange.offer = counted  # type: ignore[method-assign]
        other = guest if offerer is host else host
        s.send_chat("before the rebuild")
        await until(lambda: len(other.session.chat_log) == 1)
        judged_dead = s._links[oid]
        s._tasks.for_peer(oid, s._exchange.rebuild(oid, "asked by peer"))
        s._tasks.for_peer(oid, s._exchange.rebuild(oid, "no media", judged_dead))
        await until(lambda: s._links.get(oid) not in (None, judged_dead))
        frames = offerer.media.video_frames(oid)
        await until(lambda: offerer.media.video_frames(oid) > frames + 15)
        assert offers == [oid]
        assert s._links[oid].pc.connectionState == "connected"
        # the line went again over the new link (it might have been lost): shown once still
        s.send_chat("after")
        await until(lambda: len(other.session.chat_log) >= 2)
        assert [c.text for c in other.session.chat_log] == ["before the rebuild", "after"]


async def test_an_answer_to_a_superseded_offer_is_dropped(server: RendezvousServer) -> None:
    async with two_in_a_room(server) as (_link, host, guest):
        offerer, oid = await offering_side(host, guest)
        s = offerer.session
        relay, held = s.relay, []

        async def hold(peer_id: str, msg: p.Message) -> None:
            held.append(msg)

        s.relay = hold  # type: ignore[method-assign]
        await s._exchange.rebuild(oid, "test")  # a second attempt, its offer held back for now
        commit, offer = held  # (the commitment to its safety code's nonce goes first)
        assert isinstance(commit, p.Commit) and commit.attempt == 2
        assert isinstance(offer, p.Offer) and offer.attempt == 2
        new = s._links[oid]
        late = p.Answer(sdp="v=0\r\n", name="Gus", attempt=1)  # an answer to the first offer
        await s._exchange.accept(oid, late)
        assert s._links[oid] is new and new.pc.signalingState == "have-local-offer"
        s.relay = relay  # type: ignore[method-assign]
        await relay(oid, commit)
        await relay(oid, offer)  # the real offer goes out: its answer is taken, media is back
        frames = offerer.media.video_frames(oid)
        await until(lambda: offerer.media.video_frames(oid) > frames + 15)
