"""Knowing a person again after a network change (app.meeting.resume), in the orders and with
the peers the main tests do not use: an older PeerMeet that knows no resume secrets. Real
rendezvous, real TCP relay (tests.integration.relays.Freezer), real aiortc over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.meeting import events as ev
from app.meeting import regain
from app.meeting.links import Link
from app.net import protocol as p
from app.net.peers import PeerLink
from app.net.rendezvous import RendezvousServer
from tests.integration.frozen import (
    in_a_call,
    ivy_behind,
    known_again,
    network_gone,
    server_and_freezer,
)
from tests.integration.relays import Freezer
from tests.integration.test_session import Peer, room_link, until

pytestmark = pytest.mark.usefixtures("loopback")

SERVER_BEAT = 3.0  # s: the server drops a silent member's id within 1.5x this


@pytest.fixture
async def server() -> AsyncIterator[RendezvousServer]:
    srv = RendezvousServer(host="127.0.0.1", port=0, heartbeat=SERVER_BEAT)
    await srv.start()
    yield srv
    await srv.close()


def _as_older_peermeet(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``peer`` runs a PeerMeet from before resume secrets: it sends none, and drops those it
    is given (an unknown data message)."""
    plain = PeerLink.send

    def send(link: PeerLink, msg: p.Message) -> None:
        if isinstance(msg, p.ResumeToken) and link in peer.session._links.values():
            return
        plain(link, msg)

    monkeypatch.setattr(PeerLink, "send", send)
    monkeypatch.setattr(peer.session._roster.tokens, "got", lambda key, token: None)


async def test_an_older_peermeet_whose_network_changed_is_not_waited_for(
    server: RendezvousServer, freezer: Freezer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ivy runs an older PeerMeet: she cannot show a secret when back. Her network changes
    (her links and her rendezvous path die; the server drops her old id): Hana says at once
    that her connection was lost, as before resume secrets, rather than keeping her
    "reconnecting" for RETURN_S next to the new Ivy who joins when she is back."""
    everyone = hana, ivy = ivy_behind(freezer, "Hana")
    _as_older_peermeet(ivy, monkeypatch)
    try:
        keys = await in_a_call(room_link(server), everyone)
        old = keys[ivy]
        network_gone(freezer, everyone)
        await asyncio.sleep(2 * SERVER_BEAT)  # (her old id is dropped by the server)
        freezer.down = False  # her new network
        await until(lambda: bool(ivy.of(ev.Rejoined)), 10.0)
        new = ivy.session.my_id
        await until(lambda: new in hana.session.peers, 10.0)  # the Ivy back in: someone new
        assert old not in hana.session.peers, "two Ivys: the old one kept 'reconnecting'"
        left = [(e.peer_id, e.reason) for e in hana.of(ev.PeerLeft)]  # type: ignore[attr-defined]
        assert left == [(old, "connection lost")]
        await until(lambda: hana.media.video_frames(new) > 5, 20.0)
    finally:
        for peer in everyone:
            await peer.close()


async def test_in_a_call_of_two_a_long_network_change_is_still_no_leaving_for_the_other(
    server: RendezvousServer, freezer: Freezer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call of two. Ivy's network is gone for longer than she keeps a silent link without
    the rendezvous (LOST_S, 2 s here), and her rendezvous connection was reset rather than
    gone silent (which would have told her it was her own network): she drops Hana
    ("connection lost": one peer alone may have gone). Hana, whose link to Ivy lapsed before
    Ivy's old id left, waits for her (RETURN_S). Back in, Ivy still shows Hana the secret Hana
    gave her: Hana keeps her under the key she always knew her by and says she reconnected;
    nobody new joins for Hana."""
    monkeypatch.setattr(regain, "LOST_S", 2.0)
    everyone = hana, ivy = ivy_behind(freezer, "Hana")
    try:
        keys = await in_a_call(room_link(server), everyone)
        old, hid = keys[ivy], keys[hana]
        network_gone(freezer, everyone, silent=False)
        await asyncio.sleep(3.5)  # (Hana's link to her lapses: no media for longer than 3 s)
        assert freezer.cut() == 1  # her rendezvous connection reset, not silent
        await until(lambda: bool(ivy.of(ev.PeerLeft)), 20.0)  # (she dropped Hana)
        await until(lambda: hana.session._whois.rendezvous_id(old) is None, 10.0)  # (old id gone)
        freezer.down = False  # her new network
        await until(lambda: bool(ivy.of(ev.Rejoined)), 10.0)
        await until(lambda: hana.session._whois.rendezvous_id(old) == ivy.session.my_id, 10.0)
        frames = hana.media.video_frames(old)
        await until(lambda: hana.media.video_frames(old) > frames + 10, 20.0)
        assert set(hana.session.peers) == {old}
        assert not hana.of(ev.PeerLeft), hana.of(ev.PeerLeft)
        assert {e.peer_id for e in hana.of(ev.PeerJoined)} == {old}  # type: ignore[attr-defined]
        said = [e.text for e in hana.of(ev.Notice)]  # type: ignore[attr-defined]
        assert "Ivy reconnected" in said, said
        await until(lambda: ivy.media.video_frames(hid) > 5, 10.0)  # (Ivy sees Hana again)
    finally:
        for peer in everyone:
            await peer.close()


async def test_her_secret_is_shown_at_once_while_her_link_work_is_busy(
    server: RendezvousServer, freezer: Freezer
) -> None:
    """Work on Ivy's link to Hana is under way as she gets back in (a rebuild begun as her
    network went: with the network gone, closing a link or gathering for a new one takes
    seconds). Her secret goes to Hana at once: it waited for that work, 6 s here, and Hana,
    who holds a newcomer back for 3 s at most, met her as someone new meanwhile."""
    everyone = hana, ivy = ivy_behind(freezer, "Hana")
    try:
        keys = await in_a_call(room_link(server), everyone)
        old, hid = keys[ivy], keys[hana]
        network_gone(freezer, everyone, silent=False)
        await asyncio.sleep(3.5)  # (her link to Hana no longer counts as working, for either)
        ivy.session._tasks.for_peer(hid, asyncio.sleep(6.0))  # that link's work: busy for 6 s
        freezer.down = False  # (a new network)
        assert freezer.cut() == 1  # her rendezvous connection reset: she is back in at once
        await until(lambda: hana.session._whois.rendezvous_id(old) not in (None, old), 2.5)
        assert hana.session._whois.rendezvous_id(old) == ivy.session.my_id
        await asyncio.sleep(3.5)  # (past the longest hold: nobody new met)
        assert {e.peer_id for e in hana.of(ev.PeerJoined)} == {old}  # type: ignore[attr-defined]
        assert set(hana.session.peers) == {old}
    finally:
        for peer in everyone:
            await peer.close()


async def test_back_in_before_the_server_saw_her_old_path_go_silent(
    freezer: Freezer,
) -> None:
    """As in use, Ivy's heartbeat (8 s, 0.5 here) notices her silent rendezvous path long before
    the server's (20 s) does: she is back in under a new id while her old one is still in the
    room, her links working all along. Hana and Gus get her new id (``peer_joined``) before the
    server lets her old one go: they keep her under the key they always knew her by, on the same
    links; nobody new joins, nobody leaves."""
    async with server_and_freezer() as (server, relay):  # (its heartbeat: 20 s, as in use)
        await _back_before_the_server_saw(room_link(server), relay)


async def _back_before_the_server_saw(link: Link, relay: Freezer) -> None:
    everyone = hana, gus, ivy = ivy_behind(relay)
    try:
        first = (await in_a_call(link, everyone))[ivy]
        links = {peer: dict(peer.session._links) for peer in (hana, gus)}
        assert relay.freeze() == 1
        await until(lambda: bool(ivy.of(ev.Rejoined)) and ivy.session.my_id != first, 8.0)
        for peer in (hana, gus):  # her new id, under the key they always knew her by
            await until(lambda p=peer: p.session._whois.rendezvous_id(first) == ivy.session.my_id)
        await asyncio.sleep(4.0)  # (longer than a newcomer is held back; a few watches)
        for peer in everyone:
            assert not peer.of(ev.PeerLeft), peer.of(ev.PeerLeft)
            assert len(peer.of(ev.PeerJoined)) == 2, peer.of(ev.PeerJoined)
        for peer in (hana, gus):
            assert set(peer.session.peers) == set(links[peer])
            assert all(peer.session._links[k] is v for k, v in links[peer].items())
        hana.session.send_chat("still there?")
        await until(lambda: any(e.text == "still there?" for e in ivy.of(ev.ChatReceived)))  # type: ignore[attr-defined]
    finally:
        for peer in everyone:
            await peer.close()


async def test_back_in_within_a_second_of_a_network_change() -> None:
    """Ivy's network changes and her app notices at once (a reset, a heartbeat due): she is back
    in under a new id within about a second, before Hana's link to her has lapsed and before
    her own links look dead; the server still lists her old id. The secret is shown anyway, and
    Hana, who has already met the new id as someone new (nobody seen), takes it as Ivy: she
    keeps her, makes the link afresh and says she reconnected; nobody new joins."""
    async with server_and_freezer() as (server, relay):  # (its heartbeat: 20 s, as in use)
        await _back_within_a_second(room_link(server), relay)


async def _back_within_a_second(link: Link, relay: Freezer) -> None:
    everyone = *_, ivy = ivy_behind(relay, beat=0.2)
    try:
        keys = await in_a_call(link, everyone)
        network_gone(relay, everyone)  # her path to the rendezvous and her links die
        relay.down = False  # (a new network at once)
        await until(lambda: bool(ivy.of(ev.Rejoined)), 5.0)
        await known_again(everyone, keys)
    finally:
        for peer in everyone:
            await peer.close()


async def test_a_member_showing_secrets_without_end_is_logged_sparingly(
    server: RendezvousServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A hostile member (a modified app) sends Hana nothing but ``resume`` with secrets that are
    not hers, as fast as the rendezvous relays: each is ignored, and the log says so the first
    few times, then with the count (not one line each, 50 a second for as long as it likes)."""
    link = room_link(server)
    hana, mallory = Peer("Hana"), Peer("Mallory")
    try:
        await hana.session.create(link, "small", 3600)
        await mallory.session.join(link)
        hid = hana.session.my_id
        await until(lambda: hana.session._whois.rendezvous_id(mallory.session.my_id) is not None)
        caplog.set_level("WARNING", logger="app.meeting.presence")
        for n in range(120):
            await mallory.session.relay(hid, p.Resume(f"{n:032x}"))
        await asyncio.sleep(1.0)  # (all relayed and read)
        said = [r for r in caplog.records if r.name == "app.meeting.presence"]
        assert 1 <= len(said) <= 5, len(said)
    finally:
        for peer in (hana, mallory):
            await peer.close()
