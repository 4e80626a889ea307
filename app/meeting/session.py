"""One call: joins a room through the rendezvous, keeps one PeerLink per remote peer.

Signaling is sealed end to end (app.net.seal); the rendezvous only sees opaque blobs. The peer
with the lower id offers, so there is never glare. If the rendezvous goes away, connected
peers keep their media; only new arrivals wait until it is back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import MediaStreamTrack

from app.config import EngineConfig
from app.errors import PeerMeetError, SealError
from app.meeting import events as ev
from app.meeting.links import Link
from app.meeting.media import LocalMedia
from app.meeting.netconfig import with_turn
from app.meeting.recovery import Recovery
from app.meeting.tasks import TaskOwner
from app.net import protocol as p
from app.net.peers import LinkPolicy, PeerLink
from app.net.seal import RoomKeys, Sealer
from app.net.signaling import SignalingClient

log = logging.getLogger(__name__)
Listener = Callable[[ev.Event], None]


@dataclass
class PeerInfo:
    peer_id: str
    name: str = ""
    state: str = "new"
    path: str = ""
    safety_code: str = ""
    connect_ms: float | None = None
    mic: bool = True
    cam: bool = True
    screen: bool = False
    reconnecting: bool = False


class Session:
    def __init__(
        self,
        config: EngineConfig,
        media: LocalMedia,
        *,
        clock: Callable[[], float] = time.monotonic,
        connect: Callable[[str, float], Awaitable[SignalingClient]] = SignalingClient.connect,
        watch_interval: float = 1.0,
    ) -> None:
        self.config = config
        self.media = media
        self.my_id = ""
        self.owner_token: str | None = None
        self.expires_at = 0.0
        self.peers: dict[str, PeerInfo] = {}
        self.chat_log: list[ev.ChatReceived] = []
        self.dropped_messages = 0
        self.ended: str | None = None
        self._clock, self._connect = clock, connect
        self._listeners: list[Listener] = []
        self._links: dict[str, PeerLink] = {}
        self._closing: set[PeerLink] = set()
        self._tasks = TaskOwner(on_error=self._task_failed)
        self._client: SignalingClient | None = None
        self._sealer: Sealer | None = None
        self._t0 = clock()
        self._recovery = Recovery(clock)
        self._watch_interval = watch_interval
        self._signaling_ok = False

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

    def send_chat(self, text: str, to: str | None = None) -> None:
        """Send a chat line to everyone, or to one peer."""
        msg = p.Chat(text=text, msg_id=uuid.uuid4().hex)
        for peer_id, link in self._links.items():
            if to is None or to == peer_id:
                link.send(msg)

    def set_mic(self, on: bool) -> None:
        self.media.audio.set_muted(not on)
        self._broadcast_state()

    def set_camera(self, on: bool) -> None:
        self.media.video.set_enabled(on)
        self._broadcast_state()

    async def end_room(self) -> None:
        if self._client is not None and self.owner_token:
            await self._client.end(self.owner_token)

    async def extend_room(self, seconds: int) -> None:
        if self._client is not None and self.owner_token:
            await self._client.extend(self.owner_token, seconds)

    async def leave(self, reason: str = "left") -> None:
        """Leave the call; idempotent. Tells peers directly so they drop us at once."""
        if self.ended is not None:
            return
        self.ended = reason
        for link in self._links.values():
            link.send(p.Goodbye(reason=reason))
        await asyncio.sleep(0.05)  # let the goodbyes reach the SCTP queue
        await self._tasks.close()
        for peer_id in list(self._links):
            await self._drop(peer_id, reason, announce=False)
        for link in list(self._closing):  # drops that were cut short by the cancellation above
            await link.close()
        self._closing.clear()
        if self._client is not None:
            await self._client.close()
        self._emit(ev.SessionEnded(reason))

    # --- joining -----------------------------------------------------------------------------
    async def _enter(self, link: Link, create: tuple[str, int] | None) -> None:
        self._t0 = self._clock()
        keys = RoomKeys.from_secret(link.secret)
        where = f"{link.host}:{link.port}"
        self._emit(ev.Progress(1, f"reaching the rendezvous at {where} …"))
        client = await self._connect(link.rendezvous_url, self.config.connect_timeout_s)
        self._client = client
        self._emit(ev.Progress(1, f"rendezvous reached ({where})"))
        try:
            if create is None:
                joined = await client.join(keys.room_id, link.room)
            else:
                joined = await client.create(keys.room_id, link.room, *create)
            self.config = with_turn(self.config, client)  # the rendezvous' TURN servers, if any
        except BaseException:
            await client.close()
            raise
        self.my_id, self.owner_token, self.expires_at = (
            joined.peer_id,
            joined.owner_token,
            joined.expires_at,
        )
        self._sealer = Sealer(keys, self.my_id)
        others = len(joined.peers)
        self._emit(ev.Progress(2, f"room “{link.room}” joined ({others} others here)"))
        self._emit(ev.RoomInfo(joined.expires_at, joined.capacity))
        self.media.set_room_capacity(joined.capacity)  # the room's size caps video quality
        self._signaling_ok = True
        self._tasks.spawn(self._signal_loop(client))
        self._tasks.spawn(self._watch())
        for peer_id in joined.peers:
            self._peer_arrived(peer_id)

    def _peer_arrived(self, peer_id: str) -> None:
        self.peers.setdefault(peer_id, PeerInfo(peer_id))
        self._emit(ev.Progress(3, f"peer found ({len(self.peers)} in the call with you)"))
        if self.my_id < peer_id:  # the lower id offers: no glare
            self._tasks.for_peer(peer_id, self._offer(peer_id))

    async def _offer(self, peer_id: str) -> None:
        link = self._new_link(peer_id, offerer=True)
        sdp = await link.make_offer()
        await self._relay(peer_id, p.Offer(sdp=sdp, name=self.config.display_name))

    # --- signaling ---------------------------------------------------------------------------
    async def _signal_loop(self, client: SignalingClient) -> None:
        while (msg := await client.recv()) is not None:
            try:
                self._dispatch(msg)
            except Exception:
                log.exception("could not handle %s", msg)
        self._signaling_ok = False
        if self.ended is None:
            self._emit(ev.RendezvousLost("lost the rendezvous; connected peers stay connected"))

    def _dispatch(self, msg: p.Message) -> None:
        if isinstance(msg, p.PeerJoined):
            self._peer_arrived(msg.peer_id)
        elif isinstance(msg, p.PeerLeft):
            self._tasks.for_peer(msg.peer_id, self._drop(msg.peer_id, "left"))
        elif isinstance(msg, p.Relayed):
            self._relayed(msg.sender, msg.blob)
        elif isinstance(msg, p.RoomEnded):
            self._tasks.spawn(self.leave(msg.reason))
        elif isinstance(msg, p.Extended):
            self.expires_at = msg.expires_at
            self._emit(ev.RoomInfo(msg.expires_at, 0))
        elif isinstance(msg, p.Error):
            self._emit(ev.Notice(f"rendezvous: {msg.message}"))

    def _relayed(self, sender: str, blob: str) -> None:
        assert self._sealer is not None
        try:
            msg = self._sealer.open(sender, blob)
        except SealError as exc:
            self.dropped_messages += 1
            log.warning("dropped signaling message from %s: %s", sender, exc)
            return
        if isinstance(msg, p.Offer):
            self._tasks.for_peer(sender, self._answer(sender, msg))
        elif isinstance(msg, p.Answer):
            self._tasks.for_peer(sender, self._accept(sender, msg))
        elif isinstance(msg, p.Bye) and msg.reason == "reconnect" and self.my_id < sender:
            self._tasks.for_peer(sender, self._rebuild(sender, "asked by peer"))
        elif isinstance(msg, p.Bye):
            self._tasks.for_peer(sender, self._drop(sender, msg.reason))

    async def _answer(self, peer_id: str, offer: p.Offer) -> None:
        if self.my_id < peer_id:
            log.warning("ignoring offer from %s: we offer to higher ids", peer_id)
            return
        if peer_id in self._links:  # a fresh offer replaces the old connection
            await self._drop(peer_id, "reconnecting", announce=False)
        self.peers.setdefault(peer_id, PeerInfo(peer_id))
        link = self._new_link(peer_id, offerer=False)
        self._named(peer_id, offer.name)
        sdp = await link.accept_offer(offer.sdp)
        await self._relay(peer_id, p.Answer(sdp=sdp, name=self.config.display_name))

    async def _accept(self, peer_id: str, answer: p.Answer) -> None:
        link = self._links.get(peer_id)
        if link is None or not link.offerer or link.pc.signalingState != "have-local-offer":
            log.warning("unexpected answer from %s", peer_id)
            return
        self._named(peer_id, answer.name)
        await link.accept_answer(answer.sdp)

    async def _relay(self, peer_id: str, msg: p.Message) -> None:
        if self._client is None or self._sealer is None:
            return
        await self._client.relay(peer_id, self._sealer.seal(peer_id, msg))

    # --- peer links --------------------------------------------------------------------------
    def _new_link(self, peer_id: str, offerer: bool) -> PeerLink:
        audio, video = self.media.new_tracks()
        link = PeerLink(
            peer_id,
            offerer=offerer,
            ice_servers=self.config.ice_servers,
            audio=audio,
            video=video,
            on_state=self._link_state,
            on_track=self._link_track,
            on_data=self._link_data,
            policy=LinkPolicy.from_config(self.config),  # relay-only, candidate hygiene
        )
        self._links[peer_id] = link
        link.send(self._media_state())
        return link

    def _named(self, peer_id: str, name: str) -> None:
        info = self.peers.setdefault(peer_id, PeerInfo(peer_id))
        info.name = name[:64] or peer_id
        self._emit(ev.PeerJoined(peer_id, info.name))

    def _link_state(self, link: PeerLink, state: str) -> None:
        if self._links.get(link.peer_id) is not link:
            return
        info = self.peers[link.peer_id]
        info.state = state
        self._emit(ev.ConnectionChanged(link.peer_id, state))
        if state == "connected" and info.connect_ms is None:
            info.connect_ms = (self._clock() - self._t0) * 1000
            info.path, info.safety_code = link.path(), link.safety_code
            self._emit(
                ev.Progress(
                    4, f"secure handshake with {info.name} (safety code {info.safety_code})"
                )
            )
            self._emit(
                ev.PeerConnected(
                    link.peer_id, info.name, info.path, info.safety_code, info.connect_ms
                )
            )
        elif state == "connected" and info.reconnecting:
            info.reconnecting = False
            self._emit(ev.Notice(f"{info.name} reconnected"))

    def _link_track(self, link: PeerLink, kind: str, track: MediaStreamTrack) -> None:
        peer_id = link.peer_id

        def first() -> None:
            info = self.peers.get(peer_id)
            name = info.name if info else peer_id
            after = (self._clock() - self._t0) * 1000
            self._emit(ev.FirstFrame(peer_id, name, kind, after))
            if kind == "video":
                self._emit(ev.Progress(5, f"media flowing from {name} ({after:.0f} ms)"))

        self.media.attach(peer_id, kind, track, first)
        self._emit(ev.TrackAdded(peer_id, kind))

    def _link_data(self, link: PeerLink, msg: p.Message) -> None:
        info = self.peers.get(link.peer_id)
        if info is None:
            return
        if isinstance(msg, p.Chat):
            chat = ev.ChatReceived(link.peer_id, info.name, msg.text[:4000])
            self.chat_log.append(chat)
            self._emit(chat)
        elif isinstance(msg, p.MediaState):
            info.mic, info.cam, info.screen = msg.mic, msg.cam, msg.screen
            self._emit(ev.PeerMediaChanged(link.peer_id, msg.mic, msg.cam, msg.screen))
        elif isinstance(msg, p.Goodbye):
            self._tasks.for_peer(link.peer_id, self._drop(link.peer_id, msg.reason))

    def _media_state(self) -> p.MediaState:
        return p.MediaState(mic=self.media.mic_on, cam=self.media.camera_on, screen=False)

    def _broadcast_state(self) -> None:
        state = self._media_state()
        for link in self._links.values():
            link.send(state)

    async def _drop(self, peer_id: str, reason: str, announce: bool = True) -> None:
        link = self._links.pop(peer_id, None)
        if link is None:
            return
        self._closing.add(link)  # if this task is cancelled now, leave() finishes the close
        await self.media.detach(peer_id)
        await link.close()
        self._closing.discard(link)
        info = self.peers.pop(peer_id, None) if announce else self.peers.get(peer_id)
        if announce:
            self._recovery.forget(peer_id)
            self._emit(ev.PeerLeft(peer_id, info.name if info else peer_id, reason))

    # --- recovery ----------------------------------------------------------------------------
    async def _watch(self) -> None:
        """Once a second: rebuild connections that died or stalled (aiortc has no ICE restart)."""
        while True:
            await asyncio.sleep(self._watch_interval)
            for peer_id, link in list(self._links.items()):
                frames = self.media.video_frames(peer_id) + self.media.audio_frames(peer_id)
                self._recovery.observe(peer_id, str(link.pc.connectionState), frames)
                reason = self._recovery.reason(peer_id)
                if reason is None:
                    continue
                if not self._signaling_ok:  # cannot renegotiate without the rendezvous
                    if link.pc.connectionState == "failed":
                        self._tasks.for_peer(peer_id, self._drop(peer_id, "connection lost"))
                    continue
                self._recovery.acted(peer_id)
                info = self.peers.setdefault(peer_id, PeerInfo(peer_id))
                info.reconnecting = True
                log.info("rebuilding connection to %s: %s", peer_id, reason)
                self._emit(ev.ConnectionChanged(peer_id, "reconnecting"))
                if self.my_id < peer_id:
                    self._tasks.for_peer(peer_id, self._rebuild(peer_id, reason))
                else:  # only the offerer rebuilds; ask it to
                    self._tasks.for_peer(peer_id, self._relay(peer_id, p.Bye("reconnect")))

    async def _rebuild(self, peer_id: str, reason: str) -> None:
        link = self._links.get(peer_id)
        if peer_id not in self.peers:
            return
        if reason == "asked by peer" and link and link.pc.connectionState in ("new", "connecting"):
            return  # a rebuild is already under way; the request crossed our new offer
        log.info("new connection to %s (%s)", peer_id, reason)
        await self._drop(peer_id, "reconnecting", announce=False)
        await self._offer(peer_id)

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
