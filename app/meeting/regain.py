"""A Session's way back after losing the rendezvous: what it says, the links it drops while
away, getting back into the room (app.meeting.rejoin), and ending the call when nobody is left.

The Session owns one Regain; it reads the call's public state (``Call``), and is handed the
few steps of joining it needs (connect, take a seat, be seated, meet those there) explicitly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Protocol

from app.meeting import events as ev
from app.meeting import rejoin, reopening
from app.meeting.links import Link
from app.meeting.roster import Roster
from app.meeting.tasks import TaskOwner
from app.meeting.whois import Whois
from app.net import protocol as p
from app.net.signaling import SignalingClient

LOST_S = 10.0  # without the rendezvous, a link that brought no media for this long is dropped
CONNECT_RETRY_S = 5.0  # one try to reach the rendezvous again


class Call(Protocol):
    """What Regain reads of its Session (app.meeting.session)."""

    @property
    def expires_at(self) -> float: ...
    @property
    def owner(self) -> reopening.Owner | None: ...
    async def leave(self, reason: str = "left") -> None: ...


class Regain:
    def __init__(
        self,
        call: Call,
        roster: Roster,
        whois: Whois,
        tasks: TaskOwner,
        emit: Callable[[ev.Event], None],
        clock: Callable[[], float],
        wall: Callable[[], float],
        connection: Callable[[float], Awaitable[SignalingClient]],
        take_seat: reopening.Take,
        seat: Callable[[SignalingClient, p.Joined], None],
        meet: Callable[[p.Joined], None],
    ) -> None:
        self._call, self._roster, self._tasks, self._emit = call, roster, tasks, emit
        self._whois = whois
        self._clock, self._wall = clock, wall
        self._connection, self._take_seat = connection, take_seat
        self._seat, self._meet = seat, meet
        self.alone_since: float | None = None  # without the rendezvous, nobody connected
        #: the rendezvous went silent rather than closed: our own network is the likely cause
        self._silent = False

    def lost(self, link: Link | None, client: SignalingClient | None) -> None:
        """The rendezvous connection ``client`` to the room of ``link`` is gone, the call on."""
        self._silent = client is not None and client.went_silent
        if not self._roster.links:  # alone already: said now, not again by the watch
            self.alone_since = self.alone_since or self._clock()
        self._emit(rejoin.lost(with_others=bool(self._roster.links)))
        self._roster.send(p.RendezvousGone())  # (our new id may come before the old one goes)
        self._tasks.spawn(self._rejoin(link, client))

    async def _rejoin(self, link: Link | None, client: SignalingClient | None) -> None:
        """Back into the room after losing the rendezvous (see app.meeting.rejoin)."""
        assert link is not None
        if client is not None:
            await client.close()  # (its connection is gone: this frees what is left)
        call = self._call

        async def seat(client: SignalingClient, create: bool) -> p.Joined:
            owner = call.owner if create else None  # (the rendezvous lost it: open it again)
            wall = self._wall()
            return await reopening.seat(client, link, self._take_seat, owner, call.expires_at, wall)

        def say(text: str) -> None:
            self._emit(ev.Notice(text))

        connect = partial(self._connection, CONNECT_RETRY_S)
        mine = call.owner  # (someone else opened it again first: My meetings marks it taken)
        taken = mine.taken if mine is not None else lambda: None
        outcome = await rejoin.get_back_in(connect, seat, say, owner=mine is not None, taken=taken)
        if isinstance(outcome, str):
            self._tasks.spawn(call.leave(outcome))
            return
        await self.rejoined(*outcome)

    async def rejoined(self, client: SignalingClient, joined: p.Joined) -> None:
        """Back in under a new id. A link still alive carries on (its peer is told our new id
        over it when seated; one whose id is not in the room is away from the server, as we
        were: app.meeting.presence). Of the others, those still in the room get a new link
        (their tiles stay, "reconnecting"); those who left meanwhile are said to have left."""
        now, here, peers = self._clock(), set(joined.peers), self._roster.peers
        self._roster.started = self.alone_since = now  # (dropping links below: not "alone")
        self._seat(client, joined)  # (our secrets shown before the drops below: at once)
        for peer_id in list(peers):
            present = self._whois.rendezvous_id(peer_id) in here
            if self._roster.alive(peer_id):
                if not present:
                    self._whois.away(peer_id)
            elif present:  # a new link: "connected" again, with its own safety code
                info = peers[peer_id]
                info.since, info.connect_ms = now, None
                drop = self._roster.drop(peer_id, "reconnecting", announce=False)
                await self._tasks.serial(peer_id, drop)
                if info.name:  # (one never named has no tile: none for it, unsaid if it goes)
                    self._emit(ev.ConnectionChanged(peer_id, "reconnecting"))
            else:
                await self._tasks.serial(peer_id, self._roster.drop(peer_id, "left"))
        self.alone_since = None
        self._meet(joined)
        self._emit(ev.Rejoined())

    def drop_the_lost(self) -> None:
        """(Called by the Session's watch only while the call goes on.) Without the rendezvous,
        a dead link cannot be rebuilt: drop it once it has failed or brought nothing for LOST_S.
        With nobody left while trying to get back in (``lost``) for rejoin.ALONE_S, end the
        call (e.g. the host's computer is gone for good)."""
        links = self._roster.links
        quiet = {peer_id for peer_id in links if not self._roster.alive(peer_id)}
        for peer_id in links.keys() - quiet:
            self._roster.stalled(peer_id, False)  # (its media came back)
        lost = {
            peer_id
            for peer_id in quiet
            if links[peer_id].pc.connectionState in ("failed", "closed")
            or self._roster.silent_for(peer_id) >= LOST_S
        }
        #: everyone went quiet, as the rendezvous did: our own network is gone (Wi-Fi lost, a
        #: network change), not all of them; they are kept, "reconnecting", until we are back
        #: in, which tells who is still there (``rejoined``). One peer alone may have gone
        #: (its app was killed, closing our rendezvous if it was the host's), unless the
        #: rendezvous too went silent instead of closing.
        offline = quiet >= links.keys() and (len(links) >= 2 or self._silent)
        for peer_id in quiet:
            if peer_id in lost and not offline:
                self._tasks.for_peer(peer_id, self._lost(peer_id))
            else:
                self._roster.stalled(peer_id, True)
        now, was_alone = self._clock(), self.alone_since is not None
        alone = not links or (offline and lost >= links.keys())  # (nobody to see or hear)
        self.alone_since = (self.alone_since or now) if alone else None
        if self.alone_since is not None and not was_alone:  # the last one is gone too
            self._emit(rejoin.lost(with_others=False))
        expires_at = self._call.expires_at
        if expires_at and self._wall() >= expires_at:
            self._tasks.spawn(self._call.leave("expired"))  # (no rendezvous to say so)
        elif rejoin.give_up(self.alone_since, now):
            self._tasks.spawn(self._call.leave("disconnected"))

    async def _lost(self, key: str) -> None:
        """Drop ``key`` ("connection lost"), keeping the secret it gave us: if it is still in
        the room when we are back in, it is shown (app.meeting.presence ``to_show``). In a
        call of two, only our network may have gone, and the other waits for us."""
        token = self._roster.tokens.mine().get(key)
        await self._roster.drop(key, "connection lost")
        if token is not None:
            self._roster.tokens.got(key, token)
