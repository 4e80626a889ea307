"""Sessions against a real rendezvous and real aiortc connections, in one process, with someone
or something gone silent: a host gone without a word (a lone guest is told), a guest gone
without a goodbye reported as lost, a STUN server that does not answer, and relay-only with no
working TURN server.
"""

from __future__ import annotations

import dataclasses
import functools

import pytest

from app.config import IceServer
from app.meeting import events as ev
from app.meeting import regain, rejoin, roster
from app.meeting.recovery import Recovery
from app.net.rendezvous import RendezvousServer
from tests.integration.test_session import Peer, _blackhole, kill, room_link, until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_a_host_gone_without_a_word_is_dropped_and_a_lone_guest_is_told(
    server: RendezvousServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's process dies (kill -9): no goodbye, its rendezvous gone, its packets stop.
    The guests drop it and carry on between themselves; when their own path dies too, with no
    rendezvous to rebuild it through, each is told the call is over instead of waiting forever."""
    # shorter than in the app: a stall is seen after 1.5 s (3 s), looked for every 0.25 s (1 s)
    monkeypatch.setattr(roster, "Recovery", functools.partial(Recovery, stall_s=1.5))
    monkeypatch.setattr(regain, "LOST_S", 3.0)  # (past the stall)
    monkeypatch.setattr(rejoin, "ALONE_S", 1.5)  # how long a lone guest tries to get back in
    link = room_link(server)
    host, gus, ivy = (Peer(name, watch_interval=0.25) for name in ("Hana", "Gus", "Ivy"))
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await ivy.session.join(link)
        hid, gid, iid = host.session.my_id, gus.session.my_id, ivy.session.my_id
        await until(
            lambda: (
                min(gus.media.video_frames(hid), ivy.media.video_frames(hid)) > 5
                and min(gus.media.video_frames(iid), ivy.media.video_frames(gid)) > 5
            )
        )
        for peer_id in (gid, iid):
            _blackhole(host.session, peer_id)
        await server.close()
        await until(lambda: bool(gus.of(ev.PeerLeft)) and bool(ivy.of(ev.PeerLeft)), limit=10)
        shown = [e.state for e in gus.of(ev.ConnectionChanged) if e.peer_id == hid]  # type: ignore[attr-defined]
        assert shown[-1] == "reconnecting"  # its frozen picture said so before it was dropped
        assert [e.peer_id for e in gus.of(ev.PeerLeft) + ivy.of(ev.PeerLeft)] == [hid, hid]  # type: ignore[attr-defined]
        flowing = gus.media.video_frames(iid)
        await until(lambda: gus.media.video_frames(iid) > flowing + 10)  # the two carry on
        assert gus.session.ended is None and ivy.session.ended is None
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_WITH_OTHERS]  # (said when the rendezvous went)

        _blackhole(gus.session, iid)
        _blackhole(ivy.session, gid)
        await until(lambda: bool(gus.of(ev.SessionEnded)) and bool(ivy.of(ev.SessionEnded)), 10)
        assert gus.session.ended == ivy.session.ended == "disconnected"
        told = [e.detail for e in gus.of(ev.RendezvousLost)]  # type: ignore[attr-defined]
        assert told == [rejoin.LOST_WITH_OTHERS, rejoin.LOST_ALONE]  # and again when alone
    finally:
        for peer in (ivy, gus, host):
            await peer.close()


async def test_a_guest_gone_without_a_goodbye_is_reported_as_lost(server: RendezvousServer) -> None:
    """Its app killed or its computer asleep: the rendezvous reports it gone while its link
    still looks connected, then nothing more comes from it, and nobody had a goodbye from it:
    "connection lost", not "left", within a few seconds. (Its websocket alone dropping is no
    leaving: tests/integration/test_identity.py.)"""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        gid = gus.session.my_id
        await until(lambda: host.media.video_frames(gid) > 3)
        await kill(gus)  # its websocket drops, its packets stop; no goodbye on the data channel
        await until(lambda: bool(host.of(ev.PeerLeft)), limit=9)
        (left,) = host.of(ev.PeerLeft)
        assert (left.peer_id, left.reason) == (gid, "connection lost")  # type: ignore[attr-defined]
    finally:
        await gus.close()
        await host.close()


async def test_a_stun_server_that_does_not_answer_is_named_once(server: RendezvousServer) -> None:
    """aioice waits 5 s for it on every connection: the call goes on, and says which one."""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    silent = IceServer("stun:127.0.0.1:9")  # nothing listens there
    host.session.config = dataclasses.replace(host.session.config, ice_servers=(silent,))
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)
        await until(lambda: bool(host.of(ev.PeerConnected)), limit=15)
        said = [e.text for e in host.of(ev.Notice) if "did not answer" in e.text]  # type: ignore[attr-defined]
        assert len(said) == 1 and "stun:127.0.0.1:9" in said[0], said
        assert not [e for e in gus.of(ev.Notice) if "did not answer" in e.text]  # type: ignore[attr-defined]
    finally:
        await gus.close()
        await host.close()


async def test_relay_only_without_a_working_turn_server_says_why_nobody_connects(
    server: RendezvousServer,
) -> None:
    """Hide my IP address with a TURN server that gives no relay address: the call cannot
    connect, and the person is told so (it used to say "reconnecting…" for ever)."""
    link = room_link(server)
    host, gus = Peer("Hana"), Peer("Gus")
    turn = IceServer("turn:127.0.0.1:9?transport=udp", "u", "p")  # nothing listens there
    host.session.config = dataclasses.replace(
        host.session.config, ice_servers=(turn,), relay_only=True
    )
    try:
        await host.session.create(link, "small", 3600)
        await gus.session.join(link)

        def said() -> list[str]:
            return [e.text for e in host.of(ev.Notice) if "gave no relay address" in e.text]  # type: ignore[attr-defined]

        await until(lambda: bool(said()), limit=20)
        assert len(said()) == 1 and "turn:127.0.0.1:9" in said()[0], said()
        assert "relay only" in said()[0].lower()
    finally:
        await gus.close()
        await host.close()
