"""One call: joins a room through the rendezvous, keeps one PeerLink per remote peer.

Signaling is sealed end to end (app.net.seal): the rendezvous sees opaque blobs. The lower id
offers (no glare). A remote person keeps the key it was first known by when its rendezvous id
changes (app.meeting.whois, app.meeting.presence). Without the rendezvous, connected peers keep
their media; new arrivals wait until it is back (app.meeting.regain). The links, and what each
peer does: app.meeting.roster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial

from app.config import EngineConfig
from app.errors import PeerMeetError, RendezvousUnreachable, SealError
from app.meeting import events as ev
from app.meeting import left_joining, reopening
from app.meeting.links import Link
from app.meeting.media import LocalMedia
from app.meeting.netconfig import with_turn
from app.meeting.offers import Offers
from app.meeting.presence import Presence
from app.meeting.regain import Regain
from app.meeting.roster import Roster, said_reason
from app.meeting.tasks import TaskOwner
from app.meeting.whois import Whois
from app.net import protocol as p
from app.net.seal import RoomKeys, Sealer
from app.net.signaling import SignalingClient
from app.net.sparing import worth_saying

log = logging.getLogger(__name__)
#: rendezvous errors not worth a notice: a relay to someone who just left; our idle timeout
#: after sleeping (the rejoin follows)
QUIET_ERRORS = ("not_joined", "idle")
Listener = Callable[[ev.Event], None]


class Session:
    def __init__(
        self,
        config: EngineConfig,
        media: LocalMedia,
        *,
        clock: Callable[[], float] = time.monotonic,
        connect: Callable[[str, float], Awaitable[SignalingClient]] = SignalingClient.connect,
        watch_interval: float = 1.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.media = config, media
        self.my_id = ""
        self.owner_token: str | None = None
        self.expires_at, self.dropped_messages = 0.0, 0
        self.ended: str | None = None
        self._leaving: asyncio.Future[None] | None = None
        self._clock, self._connect = clock, connect
        self._listeners: list[Listener] = []
        self._tasks = TaskOwner(on_error=self._task_failed)
        self._roster = Roster(media, self._emit, self._tasks, clock)
        self.peers, self.chat_log = self._roster.peers, self._roster.chat_log
        self._links = self._roster.links  # read here; the roster opens and drops links
        #: each person's current rendezvous id (signaling), and the room's comings and goings
        self._whois = Whois(clock)
        self._presence = Presence(self._whois, self._roster, self._tasks, self._peer_arrived, clock)
        self._client: SignalingClient | None = None
        self._sealer: Sealer | None = None
        self._watch_interval, self._signaling_ok = watch_interval, False
        self._link: Link | None = None  # the room's link, once entered
        #: set when we may open the room again if the rendezvous lost it (we created it,
        #: or host it: app.meeting.reopening); None for a guest
        self.owner: reopening.Owner | None = None
        #: unix time (for the room's expiry); the rendezvous said the room ended
        self._wall, self._room_over = wall, False
        #: getting back in after losing the rendezvous (app.meeting.regain), joining as here
        join_again = (self._connection, self._take_seat, self._seat, self._meet)
        parts = (self._roster, self._whois, self._tasks, self._emit, clock, wall)
        self._regain = Regain(self, *parts, *join_again)
        #: the offer/answer exchange of each link (app.meeting.offers)
        self._exchange = Offers(self, self._roster, self._whois, self._tasks)

    # --- public API --------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def join(self, link: Link) -> None:
        await self._enter(link, None)

    async def create(self, link: Link, size: str, lifetime_s: int) -> str:
        """Create the room on the rendezvous (we become its owner) and enter it."""
        await self._enter(link, (size, lifetime_s))
        assert self.owner_token is not None
        return self.owner_token

    def send_chat(self, text: str | Sequence[str], to: str | None = None) -> None:
        """Send a chat line to everyone, or to one peer (cut at MAX_CHAT_CHARS, as received);
        a sequence of texts is one message in parts, which receivers show as one."""
        self._roster.send_chat(text, to)

    def set_mic(self, on: bool) -> None:
        self.media.audio.set_muted(not on)
        self._roster.send(self._roster.media_state())

    def set_camera(self, on: bool) -> None:
        self.media.video.set_enabled(on)
        self._roster.send(self._roster.media_state())

    async def end_room(self, owner_token: str = "") -> None:
        """End the room for everyone (``owner_token``: the creator's, if not ours)."""
        token = owner_token or self.owner_token
        if self._client is None or not token:
            raise RendezvousUnreachable("Not in touch with the meeting's server right now.")
        await self._client.end(token)

    async def leave(self, reason: str = "left") -> None:
        """Leave, telling peers directly; idempotent (a later call waits for the first)."""
        if self._leaving is None:
            self.ended = reason
            self._leaving = asyncio.ensure_future(self._leave(reason))  # (not cut short)
        await asyncio.shield(self._leaving)

    async def _leave(self, reason: str) -> None:
        self._roster.send(p.Goodbye(reason=reason))
        await self._say_bye(reason)
        await asyncio.sleep(0.05)  # let the goodbyes reach the SCTP queue
        await self._tasks.close()
        await self._roster.close(reason)  # also drops cut short by the cancellation above
        if self._client is not None:
            await self._client.close()
        self._emit(ev.SessionEnded(reason))

    async def _say_bye(self, reason: str) -> None:
        """The goodbye through the rendezvous too, to everyone: a data channel not open yet
        (someone still connecting) drops its goodbye, and the others would then read the
        rendezvous' word that we are gone as "connection lost". Before our ``leave`` there,
        so it comes first; bounded, so a slow rendezvous does not hold the leave up."""
        bye = p.Bye(reason=reason)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                await asyncio.gather(*(self.relay(peer_id, bye) for peer_id in list(self.peers)))

    # --- joining -----------------------------------------------------------------------------
    async def _enter(self, link: Link, create: tuple[str, int] | None) -> None:
        self._roster.started = self._clock()
        self._link = link
        self.owner = reopening.Owner(create[0]) if create is not None else self.owner
        self._emit(ev.Progress(1, f"reaching the rendezvous at {link.address} …"))
        connect = partial(self._connection, self.config.connect_timeout_s)
        client = await connect()
        self._emit(ev.Progress(1, f"rendezvous reached ({link.address})"))
        take, owner, wall = self._take_seat, self.owner, self._wall()
        first = reopening.first_seat(client, link, take, create, owner, connect, wall)
        self._seated(*await left_joining.first_seat(first, self))  # (not after a leave)
        self._tasks.spawn(self._watch())

    async def _connection(self, timeout: float) -> SignalingClient:  # noqa: ASYNC109
        """A new connection to the room's rendezvous, the session's from now on: a leave closes
        it (even seatless, or not yet ``rejoined``); one made after a leave is closed at once."""
        assert self._link is not None
        client = await self._connect(self._link.rendezvous_url, timeout)
        self._client = await left_joining.kept(client, self)
        return client

    async def _take_seat(
        self, client: SignalingClient, link: Link, create: tuple[str, int] | None = None
    ) -> p.Joined:
        """Join (or create) the room on ``client``; it is closed if that fails."""
        room_id = RoomKeys.from_secret(link.secret).room_id
        try:
            if create is None:
                joined = await client.join(room_id, link.room)
            else:
                joined = await client.create(room_id, link.room, *create)
            self.config = with_turn(self.config, client)  # the rendezvous' TURN servers, if any
        except BaseException:
            await client.close()
            raise
        return joined

    def _seated(self, client: SignalingClient, joined: p.Joined) -> None:
        self._seat(client, joined)
        self._meet(joined)

    def _seat(self, client: SignalingClient, joined: p.Joined) -> None:
        """In the room under ``joined``'s id: signaling from here on, and (back in after a
        network change) our secrets shown at once, not in turn with each person's link work
        (a rebuild begun as our network went can take seconds to give up)."""
        assert self._link is not None
        self._client = client
        self._whois.former.add(self.my_id)  # (until the server sees it go: not someone)
        self.my_id = self._whois.mine = joined.peer_id
        self.expires_at = joined.expires_at
        self.owner_token = joined.owner_token or self.owner_token  # (a rejoin gets none)
        self._sealer = Sealer(RoomKeys.from_secret(self._link.secret), self.my_id)
        others = ev.others_here(len(set(joined.peers) - self._whois.former))
        self._emit(ev.Progress(2, f"room “{self._link.room}” joined ({others})"))
        self._emit(ev.RoomInfo(joined.expires_at, joined.capacity))
        self.media.set_room_capacity(joined.capacity)  # the room's size caps video quality
        self._signaling_ok = True
        self._tasks.spawn(self._signal_loop(client))
        for key, token in self._presence.to_show(joined.peers).items():  # (a network change)
            self._tasks.spawn(self.relay(key, p.Resume(token)))  # (before any offer)

    def _meet(self, joined: p.Joined) -> None:
        """Those in the room as we took our seat: met (offered to, or waited for)."""
        for rv_id in joined.peers:
            self._presence.joined(rv_id, None)
        self._roster.send(p.RendezvousId(self.my_id))  # (back in: to those still connected)

    def _peer_arrived(self, peer_id: str, now: float | None = None) -> None:
        """``now``: a peer who came after us, whose connect and first-frame times count from
        its arrival (those already here count from when we began to join). One still
        connected (we, or it, got back in under a new id) needs nothing."""
        if peer_id in self._links:
            return
        info = self._roster.info(peer_id)
        if now is not None:
            info.since = now
        self._emit(ev.Progress(3, f"peer found ({len(self.peers)} in the call with you)"))
        if self._exchange.offers_to(peer_id):
            self._tasks.for_peer(peer_id, self._exchange.offer(peer_id))

    # --- signaling ---------------------------------------------------------------------------
    async def _signal_loop(self, client: SignalingClient) -> None:
        while (msg := await client.recv()) is not None:
            try:
                self._dispatch(msg)
            except Exception:
                log.exception("could not handle %s", msg)
        self._signaling_ok = False
        if self.ended is None and not self._room_over:
            self._regain.lost(self._link, self._client)  # (getting back in, meanwhile)

    def _dispatch(self, msg: p.Message) -> None:
        if isinstance(msg, p.PeerJoined):
            self._presence.joined(msg.peer_id, self._clock())
        elif isinstance(msg, p.PeerLeft):
            self._presence.left(msg.peer_id)
        elif isinstance(msg, p.Relayed):
            self._relayed(msg.sender, msg.blob)
        elif isinstance(msg, p.RoomEnded):
            self._room_over = True  # (before the connection closes: no rejoin then)
            self._tasks.spawn(self.leave(msg.reason))
        elif isinstance(msg, p.Extended):
            self.expires_at = msg.expires_at
            self._emit(ev.RoomInfo(msg.expires_at, 0))
        elif isinstance(msg, p.Error) and msg.code not in QUIET_ERRORS:
            self._emit(ev.Notice(f"rendezvous: {msg.message}"))
        elif isinstance(msg, p.Error):
            log.info("rendezvous: %s", msg.message)

    def _relayed(self, sender: str, blob: str) -> None:
        assert self._sealer is not None
        try:
            msg = self._sealer.open(sender, blob)
        except SealError as exc:
            self.dropped_messages += 1  # (logged sparingly: a member may send nothing else)
            if worth_saying(self.dropped_messages):
                count = self.dropped_messages
                log.warning("dropped signaling message from %s (%d so far): %s", sender, count, exc)
            return
        if isinstance(msg, p.Resume):  # (before ``sender``: a held newcomer who is someone)
            self._resumed(sender, msg.token)
            return
        sender = self._presence.sender(sender)  # (from here on: the person's key)
        if self._exchange.received(sender, msg):
            return
        if isinstance(msg, p.Bye):
            self._tasks.for_peer(sender, self._roster.drop(sender, said_reason(msg.reason)))

    @property
    def signaling_ok(self) -> bool:
        """Whether the rendezvous connection works (signaling can be relayed)."""
        return self._signaling_ok

    async def relay(self, peer_id: str, msg: p.Message) -> None:
        """Send ``msg`` to ``peer_id``, sealed, through the rendezvous (if it is there)."""
        rv_id = self._whois.rendezvous_id(peer_id)
        if self._client is None or self._sealer is None or not self._signaling_ok or not rv_id:
            return  # (lost the rendezvous, or it is away from it: nothing to send through)
        if self.ended is not None and not isinstance(msg, p.Bye):
            return  # leaving: the goodbye is the last word (an offer after it was answered)
        try:
            await self._client.relay(rv_id, self._sealer.seal(rv_id, msg))
        except PeerMeetError as exc:  # it closed under us: the same
            log.info("could not relay to %s: %s", peer_id, exc)

    # --- recovery ----------------------------------------------------------------------------
    async def _watch(self) -> None:
        """Once a second: rebuild connections that died or stalled (aiortc has no ICE restart)."""
        while True:
            await asyncio.sleep(self._watch_interval)
            if self.ended is not None:  # leaving: the links closing now are not to be rebuilt
                return
            self._look()  # (a frame of its own: this one, alive all call, keeps no dead link)

    def _look(self) -> None:
        self._roster.chat_overdue()
        due = self._roster.needing_rebuild()  # (also: how long each link has been quiet)
        if not self._signaling_ok:  # cannot renegotiate without the rendezvous
            self._regain.drop_the_lost()
            return
        for peer_id, link, reason in self._presence.look(due):  # (the away: not rebuilt)
            self._exchange.renew(peer_id, link, reason)

    def _resumed(self, rv_id: str, token: str) -> None:
        """``rv_id`` showed the secret we gave someone (app.meeting.resume): that person, back
        under a new id; a link to them that lapsed meanwhile is made afresh at once."""
        key = self._presence.resumed(rv_id, token)
        if key is not None and not self._roster.alive(key):
            self._exchange.renew(key, self._links.get(key), "back under a new id")

    # --- plumbing ----------------------------------------------------------------------------
    def _task_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PeerMeetError):
            self._emit(ev.Notice(str(exc)))
        else:
            log.error("signaling task failed", exc_info=exc)

    def _emit(self, event: ev.Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("event listener failed on %s", event)
