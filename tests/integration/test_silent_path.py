"""A path to the rendezvous that goes silent, its sockets left open (a network change, a server
that lost power, a laptop waking on another network): both ends notice within seconds, by the
websocket heartbeat, instead of when TCP gives up many minutes later. Real rendezvous, real
TCP relay (tests.integration.relays.Freezer), real aiortc over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.meeting import events as ev
from app.meeting import regain, rejoin
from app.meeting.links import Link
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from tests.integration.frozen import (
    BEAT,
    in_a_call,
    ivy_behind,
    known_again,
    network_gone,
    server_and_freezer,
)
from tests.integration.relays import Freezer
from tests.integration.test_session import room_link, until

pytestmark = pytest.mark.usefixtures("loopback")


@pytest.fixture
async def server() -> AsyncIterator[RendezvousServer]:
    srv = RendezvousServer(host="127.0.0.1", port=0, heartbeat=BEAT)
    await srv.start()
    yield srv
    await srv.close()


async def _joined(url: str, room: str, heartbeat_s: float) -> SignalingClient:
    client = await SignalingClient.connect(url, 3.0, heartbeat_s=heartbeat_s)
    await client.join(room, "team")
    return client


async def test_a_client_notices_that_its_rendezvous_went_silent(
    server: RendezvousServer, freezer: Freezer
) -> None:
    room = RoomKeys.from_secret("k" * 22).room_id
    owner = await SignalingClient.connect(f"ws://127.0.0.1:{server.port}/ws", 3.0)
    await owner.create(room, "team", "small", 600)
    client = await _joined(freezer.ws_url, room, BEAT)
    try:
        assert freezer.freeze() == 1
        started = asyncio.get_running_loop().time()
        async with asyncio.timeout(5.0):  # (without the heartbeat: many minutes)
            while await client.recv() is not None:
                pass
        assert asyncio.get_running_loop().time() - started < 3.0
        assert client.closed
    finally:
        await client.close()
        await owner.close()


async def test_the_rendezvous_drops_a_member_whose_path_went_silent(
    server: RendezvousServer, freezer: Freezer
) -> None:
    """The member itself does not notice (its heartbeat is long here); the server does, and
    tells the others it left, long before the 60 s idle timeout."""
    room = RoomKeys.from_secret("k" * 22).room_id
    owner = await SignalingClient.connect(f"ws://127.0.0.1:{server.port}/ws", 3.0)
    await owner.create(room, "team", "small", 600)
    member = await _joined(freezer.ws_url, room, 60.0)
    try:
        joined = await owner.recv()
        assert isinstance(joined, p.PeerJoined)
        freezer.freeze()
        async with asyncio.timeout(5.0):
            left = await owner.recv()
        assert isinstance(left, p.PeerLeft) and left.peer_id == joined.peer_id
    finally:
        await member.close()
        await owner.close()


async def test_a_call_carries_on_when_ones_path_to_the_rendezvous_goes_silent(
    server: RendezvousServer, freezer: Freezer
) -> None:
    """Ivy's path to the rendezvous goes silent (her peer-to-peer links do not): she notices,
    gets back in under a new id through a new connection, and tells the others over their
    links; nobody sees anyone leave, and signaling reaches her again."""
    link = room_link(server)
    everyone = hana, gus, ivy = ivy_behind(freezer)
    try:
        await in_a_call(link, everyone)
        first = ivy.session.my_id
        assert freezer.freeze() == 1
        await until(lambda: bool(ivy.of(ev.Rejoined)) and ivy.session.my_id != first, 8.0)
        for peer in (hana, gus):  # her new id, under the key they always knew her by
            await until(lambda p=peer: p.session._whois.rendezvous_id(first) == ivy.session.my_id)
        await asyncio.sleep(3 * BEAT)  # (her old id has long been dropped by the server)
        for peer in everyone:
            assert not peer.of(ev.PeerLeft), peer.of(ev.PeerLeft)
            assert len(peer.of(ev.PeerJoined)) == 2
        hana.session.send_chat("still there?")
        await until(lambda: any(e.text == "still there?" for e in ivy.of(ev.ChatReceived)))  # type: ignore[attr-defined]
    finally:
        for peer in everyone:
            await peer.close()


async def test_losing_ones_own_network_keeps_everyone_until_back_in(
    server: RendezvousServer, freezer: Freezer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ivy's network goes (her rendezvous path silent, no new connection, her links dead): she
    keeps Hana and Gus, "reconnecting", for longer than a link alone would be kept without the
    rendezvous (they did not all leave at once: she is offline), and is told she may be
    offline. Her network back, she gets back in and sees both again; nobody left for her."""
    monkeypatch.setattr(regain, "LOST_S", 2.0)  # a silent link alone is dropped (default 10)
    link = room_link(server)
    everyone = hana, gus, ivy = ivy_behind(freezer)
    try:
        await in_a_call(link, everyone)
        keys = {hana: hana.session.my_id, gus: gus.session.my_id, ivy: ivy.session.my_id}
        network_gone(freezer, everyone)
        await until(lambda: bool(ivy.of(ev.RendezvousLost)), 5.0)
        told = lambda: [e.detail for e in ivy.of(ev.RendezvousLost)]  # type: ignore[attr-defined]  # noqa: E731
        await until(lambda: rejoin.LOST_ALONE in told(), 3 * regain.LOST_S + 5)
        await asyncio.sleep(2.0)  # (a few more watches)
        assert not ivy.of(ev.PeerLeft), ivy.of(ev.PeerLeft)
        assert set(ivy.session.peers) == {keys[hana], keys[gus]}
        shown = {e.peer_id: e.state for e in ivy.of(ev.ConnectionChanged)}  # type: ignore[attr-defined]
        assert shown == {keys[hana]: "reconnecting", keys[gus]: "reconnecting"}, shown
        assert ivy.session.ended is None

        freezer.down = False  # her network is back
        await until(lambda: bool(ivy.of(ev.Rejoined)), 10.0)
        await until(
            lambda: (
                all(ivy.media.video_frames(k) > 5 for k in ivy.session.peers)
                and len(ivy.session.peers) == 2
            ),
            20.0,
        )
        assert not ivy.of(ev.PeerLeft), ivy.of(ev.PeerLeft)
        assert set(ivy.session.peers) == {keys[hana], keys[gus]}
    finally:
        for peer in everyone:
            await peer.close()


@pytest.mark.parametrize(
    ("server_beat", "outage"),
    [(20.0, 2.5), (3.0, 6.0)],
    ids=["back-before-the-server-drops-her-old-id", "back-after-it"],
)
async def test_after_a_network_change_the_others_know_her_again(
    server_beat: float, outage: float
) -> None:
    """Ivy's network changes: her rendezvous path and her links die at once, and she gets back
    in under a new id with no live link to say so over. She shows each of the others the
    secret they gave her over their old link: they keep her under the key they always knew
    her by, make their links to her afresh, and say she reconnected; nobody leaves or joins.
    Whether the server dropped her old id before she was back (her link to them had lapsed by
    then: she is waited for) or does so later, changes nothing."""
    async with server_and_freezer(server_beat) as (server, freezer):
        await _network_changes(room_link(server), freezer, outage)


async def _network_changes(link: Link, freezer: Freezer, outage: float) -> None:
    everyone = hana, gus, ivy = ivy_behind(freezer)
    try:
        keys = await in_a_call(link, everyone)
        network_gone(freezer, everyone)
        await asyncio.sleep(outage)  # (the others' links to her lapse)
        freezer.down = False  # her new network
        await until(lambda: bool(ivy.of(ev.Rejoined)), 10.0)
        await known_again(everyone, keys)
        await until(lambda: all(ivy.media.video_frames(keys[p]) > 5 for p in (hana, gus)), 10)
        hana.session.send_chat("still there?")
        await until(lambda: any(e.text == "still there?" for e in ivy.of(ev.ChatReceived)))  # type: ignore[attr-defined]
    finally:
        for peer in everyone:
            await peer.close()


async def test_in_a_call_of_two_losing_ones_own_network_keeps_the_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ivy and Hana alone in a call; Ivy's network goes. Her one link went quiet, which alone
    could be Hana's app killed, but her rendezvous went silent too instead of closing (a
    killed host's app closes it): she keeps Hana, "reconnecting", past the time a lone quiet
    link is kept, and they are back together when her network is."""
    monkeypatch.setattr(regain, "LOST_S", 2.0)
    async with server_and_freezer() as (server, freezer):  # (keeps her old id, as in use)
        await _two_and_her_network_goes(room_link(server), freezer)


async def _two_and_her_network_goes(link: Link, freezer: Freezer) -> None:
    everyone = hana, ivy = ivy_behind(freezer, "Hana")
    try:
        key = (await in_a_call(link, everyone))[hana]
        network_gone(freezer, everyone)
        told = lambda: [e.detail for e in ivy.of(ev.RendezvousLost)]  # type: ignore[attr-defined]  # noqa: E731
        await until(lambda: rejoin.LOST_ALONE in told(), 3 * regain.LOST_S + 5)
        await asyncio.sleep(1.0)
        assert not ivy.of(ev.PeerLeft) and set(ivy.session.peers) == {key}
        freezer.down = False
        await until(lambda: bool(ivy.of(ev.Rejoined)), 10.0)
        frames = ivy.media.video_frames(key)
        await until(lambda: ivy.media.video_frames(key) > frames + 10, 20.0)
        assert not ivy.of(ev.PeerLeft) and not hana.of(ev.PeerLeft)
        assert len(hana.session.peers) == 1
    finally:
        for peer in everyone:
            await peer.close()
