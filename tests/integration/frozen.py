"""Calls in which one participant, Ivy, reaches the rendezvous through a Freezer relay (her
path there can go silent, or be cut), for the silent-path and resume tests: who is in the
call, how it starts, and how her network goes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from functools import partial

from app.meeting import events as ev
from app.meeting.links import Link
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import SERVER_HEARTBEAT_S
from tests.integration.relays import Freezer
from tests.integration.test_session import Peer, _blackhole, until

BEAT = 0.5  # s: Ivy's heartbeat (8 s in use)


@contextlib.asynccontextmanager
async def server_and_freezer(
    heartbeat: float = SERVER_HEARTBEAT_S,
) -> AsyncIterator[tuple[RendezvousServer, Freezer]]:
    """A rendezvous (its heartbeat: as in use unless given) and a Freezer in front of it."""
    server = RendezvousServer(host="127.0.0.1", port=0, heartbeat=heartbeat)
    await server.start()
    relay = Freezer(server.port)
    try:
        await relay.start()
        yield server, relay
    finally:
        await relay.close()
        await server.close()


def ivy_behind(freezer: Freezer, *others: str, beat: float = BEAT) -> tuple[Peer, ...]:
    """``others`` (Hana and Gus unless named) reach the rendezvous directly, Ivy (the last)
    through ``freezer``, her heartbeat ``beat``."""
    via = partial(SignalingClient.connect, freezer.ws_url, heartbeat_s=beat)
    ivy = Peer("Ivy", connect=lambda _url, timeout: via(timeout))
    return (*(Peer(name) for name in others or ("Hana", "Gus")), ivy)


async def in_a_call(link: Link, everyone: tuple[Peer, ...]) -> dict[Peer, str]:
    """The first creates the room, the others join; once video flows every way. Each one's
    first rendezvous id (the key the others keep it under)."""
    first, *rest = everyone
    await first.session.create(link, "small", 3600)
    for peer in rest:
        await peer.session.join(link)
    keys = {peer: peer.session.my_id for peer in everyone}

    def flowing() -> bool:
        return all(
            a.media.video_frames(keys[b]) > 5 for a in everyone for b in everyone if a is not b
        )

    await until(flowing, limit=20)
    return keys


def network_gone(freezer: Freezer, everyone: tuple[Peer, ...], *, silent: bool = True) -> None:
    """Ivy (the last) loses her network: no new connection, her links dead, and her path to
    the rendezvous silent (or, not ``silent``: left to the caller, to cut or keep)."""
    *others, ivy = everyone
    freezer.down = True
    if silent:
        freezer.freeze()
    for other in others:
        _blackhole(ivy.session, other.session.my_id)
        _blackhole(other.session, ivy.session.my_id)


async def known_again(everyone: tuple[Peer, ...], keys: dict[Peer, str]) -> None:
    """Ivy (the last) is back in under a new id: the others map it to the key they always knew
    her by, her video comes again, and nobody left or joined as someone new for anyone; the
    others say she reconnected."""
    *others, ivy = everyone
    for peer in others:
        await until(lambda p=peer: p.session._whois.rendezvous_id(keys[ivy]) == ivy.session.my_id)
    frames = {peer: peer.media.video_frames(keys[ivy]) for peer in others}
    await until(
        lambda: all(p.media.video_frames(keys[ivy]) > n + 10 for p, n in frames.items()), 20
    )
    for peer in everyone:
        assert not peer.of(ev.PeerLeft), peer.of(ev.PeerLeft)
        known = {keys[p] for p in everyone if p is not peer}
        joined = {e.peer_id for e in peer.of(ev.PeerJoined)}  # type: ignore[attr-defined]
        assert joined == known == set(peer.session.peers)  # (named again: the same key)
    for peer in others:
        said = [e.text for e in peer.of(ev.Notice)]  # type: ignore[attr-defined]
        assert "Ivy reconnected" in said, said
