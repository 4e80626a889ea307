"""People keep who they are when their rendezvous ids change (app.meeting.whois,
app.meeting.presence): a restarted rendezvous, or one participant's websocket dropping, is no
"left" and "joined" for anyone whose connection carries on; real aiortc over loopback, a real
rendezvous."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.meeting import events as ev
from app.meeting.links import Link
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys
from tests.integration.test_session import Peer, _blackhole, kill, room_link, until

pytestmark = pytest.mark.usefixtures("loopback")


async def three_in_a_room(link: Link) -> tuple[Peer, Peer, Peer]:
    """Hana creates the room, Gus and Ivy join; once media flows every way."""
    hana, gus, ivy = Peer("Hana"), Peer("Gus"), Peer("Ivy")
    await hana.session.create(link, "small", 3600)
    await gus.session.join(link)
    await ivy.session.join(link)
    everyone = (hana, gus, ivy)
    await until(lambda: all(_flowing(peer, 5) for peer in everyone), limit=20)
    return hana, gus, ivy


async def drop_websocket(server: RendezvousServer, link: Link, peer: Peer) -> str:
    """Abort ``peer``'s websocket on the server's side; its new rendezvous id, once back in."""
    old = peer.session.my_id
    server._sessions[RoomKeys.from_secret(link.secret).room_id, old].conn.abort()
    await until(lambda: bool(peer.of(ev.Rejoined)) and peer.session.my_id != old)
    return peer.session.my_id


def _flowing(peer: Peer, frames: int) -> bool:
    return len(peer.session.peers) == 2 and all(
        peer.media.video_frames(key) > frames for key in peer.session.peers
    )


def _key_of(peer: Peer, other: Peer, ids: dict[Peer, str]) -> str:
    """The key ``peer`` keeps ``other`` under (``other``'s first rendezvous id)."""
    key = ids[other]
    assert key in peer.session.peers
    return key


async def _media_goes_on(peers: tuple[Peer, ...]) -> None:
    counts = {
        (peer, key): peer.media.video_frames(key) for peer in peers for key in peer.session.peers
    }
    await until(lambda: all(p.media.video_frames(k) > n + 10 for (p, k), n in counts.items()))


async def test_a_restarted_rendezvous_is_no_leaving_or_joining_for_anyone(tmp_path: Path) -> None:
    """A rendezvous restarted with --state: everyone gets back in under a new id, tells the
    others over their links, and nobody sees anyone leave or join; the links stay."""
    state = tmp_path / "rooms.json"
    first = RendezvousServer(host="127.0.0.1", port=0, state_path=state)
    await first.start()
    second: RendezvousServer | None = None
    link = room_link(first)
    everyone: tuple[Peer, ...] = ()
    try:
        everyone = await three_in_a_room(link)
        ids = {peer: peer.session.my_id for peer in everyone}
        keys = {peer: set(peer.session.peers) for peer in everyone}
        links = {peer: dict(peer.session._links) for peer in everyone}
        await first.close()  # writes the state; every connection drops
        second = RendezvousServer(host="127.0.0.1", port=link.port, state_path=state)
        await second.start()
        await until(lambda: all(peer.of(ev.Rejoined) for peer in everyone), limit=20)
        assert all(peer.session.my_id != ids[peer] for peer in everyone)
        await asyncio.sleep(4.0)  # longer than a newcomer is held back, and a few watches
        for peer in everyone:
            assert not peer.of(ev.PeerLeft), peer.of(ev.PeerLeft)
            joined = [e.peer_id for e in peer.of(ev.PeerJoined)]  # type: ignore[attr-defined]
            assert sorted(joined) == sorted(keys[peer]), joined  # each once, when first met
            assert set(peer.session.peers) == keys[peer]
            assert all(peer.session._links[k] is links[peer][k] for k in keys[peer])
            shown = [e.state for e in peer.of(ev.ConnectionChanged)]  # type: ignore[attr-defined]
            assert "reconnecting" not in shown
            for other in everyone:  # each knows the others' new ids
                if other is not peer:
                    key = _key_of(peer, other, ids)
                    assert peer.session._whois.rendezvous_id(key) == other.session.my_id
        await _media_goes_on(everyone)
    finally:
        for peer in everyone:
            await peer.close()
        await first.close()
        if second is not None:
            await second.close()


async def test_a_websocket_dropped_by_the_server_keeps_the_call_as_it_is(
    server: RendezvousServer,
) -> None:
    """Ivy's websocket drops (closed on the server's side): she gets back in under a new id;
    Hana and Gus keep her, on the same links, and signal to her new id from then on (a dead
    path between Hana and Ivy is rebuilt through it)."""
    link = room_link(server)
    everyone: tuple[Peer, ...] = ()
    try:
        everyone = hana, gus, ivy = await three_in_a_room(link)
        ids = {peer: peer.session.my_id for peer in everyone}
        links = {peer: dict(peer.session._links) for peer in (hana, gus)}
        new = await drop_websocket(server, link, ivy)
        await asyncio.sleep(2.0)
        for peer in everyone:
            assert not peer.of(ev.PeerLeft), peer.of(ev.PeerLeft)
            assert len(peer.of(ev.PeerJoined)) == 2
        for peer in (hana, gus):
            await until(lambda p=peer: p.session._whois.rendezvous_id(ids[ivy]) == new)
        for peer in (hana, gus):
            assert peer.session._links[ids[ivy]] is links[peer][ids[ivy]]
        await _media_goes_on(everyone)

        _blackhole(hana.session, ids[ivy])  # a dead path: rebuilt through Ivy's new id
        _blackhole(ivy.session, ids[hana])
        old = links[hana][ids[ivy]]  # (between the old link's drop and the new offer: none)
        await until(lambda: hana.session._links.get(ids[ivy]) not in (None, old))
        frames = hana.media.video_frames(ids[ivy])
        await until(lambda: hana.media.video_frames(ids[ivy]) > frames + 10, limit=20)
        assert not hana.of(ev.PeerLeft) and not ivy.of(ev.PeerLeft)
        hana.session.send_chat("still there?")
        await until(lambda: any(e.text == "still there?" for e in ivy.of(ev.ChatReceived)))  # type: ignore[attr-defined]
    finally:
        for peer in everyone:
            await peer.close()


async def test_someone_killed_after_getting_back_in_is_reported_lost_within_seconds(
    server: RendezvousServer,
) -> None:
    """Gus's websocket drops and he gets back in (nothing said of it); later his app is killed:
    no goodbye, his websocket gone, nothing more from him. Each of the others says once, under
    the key they always knew him by, that his connection was lost, within a few seconds."""
    link = room_link(server)
    everyone: tuple[Peer, ...] = ()
    try:
        everyone = hana, gus, ivy = await three_in_a_room(link)
        ids = {peer: peer.session.my_id for peer in everyone}
        await drop_websocket(server, link, gus)
        await asyncio.sleep(2.0)
        assert not hana.of(ev.PeerLeft) and not ivy.of(ev.PeerLeft)
        for peer in (hana, ivy):
            await until(
                lambda p=peer: p.session._whois.rendezvous_id(ids[gus]) == gus.session.my_id
            )

        await kill(gus)
        started = asyncio.get_running_loop().time()
        await until(lambda: bool(hana.of(ev.PeerLeft)) and bool(ivy.of(ev.PeerLeft)), 12)
        took = asyncio.get_running_loop().time() - started
        assert took < 9.0, took
        for peer in (hana, ivy):
            (left,) = peer.of(ev.PeerLeft)
            assert (left.peer_id, left.reason) == (ids[gus], "connection lost")  # type: ignore[attr-defined]
        frames = hana.media.video_frames(ids[ivy])
        await until(lambda: hana.media.video_frames(ids[ivy]) > frames + 10)  # the two go on
    finally:
        for peer in everyone:
            await peer.close()


async def test_a_newcomer_id_is_held_back_until_its_claim_comes_over_the_link(
    server: RendezvousServer,
) -> None:
    """Ivy's websocket drops and she gets back in; the rendezvous tells the others of her new
    id before her own word over the link comes (held here for 1.5 s). Meanwhile Hana and Gus
    hold the newcomer back: no offer to it, nobody new in the call, nothing said; her word
    then maps it to the Ivy they have, on the same link."""
    link = room_link(server)
    everyone: tuple[Peer, ...] = ()
    try:
        everyone = hana, gus, ivy = await three_in_a_room(link)
        ids = {peer: peer.session.my_id for peer in everyone}
        links = {peer: dict(peer.session._links) for peer in (hana, gus)}
        roster = ivy.session._roster
        plain_send = roster.send
        loop = asyncio.get_running_loop()

        def late_claims(msg: p.Message, to: str | None = None) -> None:
            if isinstance(msg, p.RendezvousId):  # (the rendezvous' word comes first)
                loop.call_later(1.5, plain_send, msg, to)
            else:
                plain_send(msg, to)

        roster.send = late_claims  # type: ignore[method-assign]
        roster.tokens.mine = dict  # type: ignore[method-assign]  # (no resume: only her claim)
        new = await drop_websocket(server, link, ivy)
        await until(lambda: all(p.session._whois.held(new) is not None for p in (hana, gus)))
        for peer in (hana, gus):  # held: not met, no link, nobody new
            assert peer.session._whois.key(new) is None
            assert set(peer.session.peers) == set(links[peer])
        for peer in (hana, gus):
            await until(lambda p=peer: p.session._whois.rendezvous_id(ids[ivy]) == new)
        await asyncio.sleep(1.0)  # (a newcomer taken as new would be offered to, and named)
        for peer in (hana, gus):
            assert peer.session._whois.held(new) is None
            assert set(peer.session.peers) == set(links[peer])
            assert peer.session._links[ids[ivy]] is links[peer][ids[ivy]]
            assert not peer.of(ev.PeerLeft) and len(peer.of(ev.PeerJoined)) == 2
        await _media_goes_on(everyone)
    finally:
        for peer in everyone:
            await peer.close()
