"""The remote peers of one call: a PeerInfo and a PeerLink for each, kept in step.

Roster opens and drops the link to each peer and turns what a link reports (connection state,
incoming tracks, data-channel messages) into PeerInfo changes and session events. It also
watches each link's health for the Session, which decides how to rebuild (that needs
signaling). Who offers to whom and what goes through the rendezvous stay with the Session.
The chat, and how fast a peer may send: app.meeting.chat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiortc import MediaStreamTrack

from app.config import EngineConfig
from app.meeting import events as ev
from app.meeting.chat import CallChat
from app.meeting.media import LocalMedia
from app.meeting.netconfig import helpers_notice
from app.meeting.recovery import Recovery
from app.meeting.resume import Tokens
from app.meeting.tasks import TaskOwner
from app.net import protocol as p
from app.net.peers import LinkPolicy, PeerLink
from app.net.sas import CodeNonce
from app.net.text import clean_name

#: the notice that someone's connection is back, after their name (app.ui.peer_news reads it)
RECONNECTED = " reconnected"
#: a link that had connected and brought nothing for this long (s) has lapsed: its peer may be
#: about to come back under a new id (a network change: app.meeting.resume). (Media comes at
#: least every 0.4 s; what has come is looked at once a second.)
LAPSE_S = 1.5

log = logging.getLogger(__name__)


def said_reason(reason: str) -> str:
    """Why a peer says it left (its ``bye`` or goodbye), if PeerMeet would say it; any other
    text is "left": it is shown ("Mallory left (…)") and printed, and a hostile app could put
    60 KB there, escape sequences or words that read as PeerMeet's own."""
    return reason if reason in ev.ENDED_TEXT else "left"


def _shown(info: PeerInfo) -> bool:
    """Whether anything was said of ``info``'s peer: its name, or a state of its link (a tile
    "Someone" shows it then), so that its leaving is to be said too."""
    return bool(info.name) or info.state != "new" or info.reconnecting or info.stalled


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
    stalled: bool = False  # its media stopped while its link cannot be rebuilt (no rendezvous)
    offers: int = 0  # offers we made to this peer; the latest one's number is its ``attempt``
    since: float | None = None  # it came after us, at this time (else: Roster.started)


class Roster:
    def __init__(
        self,
        media: LocalMedia,
        emit: Callable[[ev.Event], None],
        tasks: TaskOwner,
        clock: Callable[[], float],
    ) -> None:
        self.media = media
        self.peers: dict[str, PeerInfo] = {}
        self.links: dict[str, PeerLink] = {}
        self.chat = CallChat(emit, clock, self.send)
        self.chat_log = self.chat.log
        #: when joining began: connect and first-frame times are counted from here
        self.started = clock()
        self._emit, self._tasks, self._clock = emit, tasks, clock
        self._closing: set[PeerLink] = set()
        self._recovery = Recovery(clock)
        self._told: set[str] = set()  # STUN/TURN notices given: "slow", "relay" (missing)
        self._commits: dict[tuple[str, int], str] = {}  # (peer, offer attempt) -> app.net.sas
        self._flowing: set[str] = set()  # peers whose media was said to flow
        #: (key, rendezvous id): a peer says over its link that it has a new rendezvous id
        self.on_claim: Callable[[str, str], None] = lambda key, rv_id: None
        self.tokens = Tokens()  # one-time secrets to know a peer back after a network change

    def _ms_since(self, info: PeerInfo | None) -> float:
        """Milliseconds since we began to join, or since ``info``'s peer came, if later."""
        since = info.since if info is not None and info.since is not None else self.started
        return (self._clock() - since) * 1000

    def info(self, peer_id: str) -> PeerInfo:
        return self.peers.setdefault(peer_id, PeerInfo(peer_id))

    def open(self, peer_id: str, offerer: bool, config: EngineConfig) -> PeerLink:
        """A new link to ``peer_id`` (replacing none: drop the old one first)."""
        audio, video = self.media.new_tracks()
        link = PeerLink(
            peer_id,
            offerer=offerer,
            ice_servers=config.ice_servers,
            audio=audio,
            video=video,
            on_state=self._on_state,
            on_track=self._on_track,
            on_data=self._on_data,
            policy=LinkPolicy.from_config(config),  # relay-only, candidate hygiene
        )
        self.links[peer_id] = link
        link.send(self.media_state())
        link.send(p.ResumeToken(self.tokens.give(peer_id)))
        self.chat.resend(peer_id, link.send)
        return link

    def named(self, peer_id: str, name: str) -> None:
        info = self.info(peer_id)
        info.name = clean_name(name) or peer_id
        self._emit(ev.PeerJoined(peer_id, info.name))

    def send(self, msg: p.Message, to: str | None = None) -> None:
        """Send ``msg`` over every link, or over the link to ``to`` only."""
        for peer_id, link in self.links.items():
            if to is None or to == peer_id:
                link.send(msg)

    def send_chat(self, text: str | Sequence[str], to: str | None = None) -> None:
        """Send a chat message to every peer of the call, or to ``to`` (app.meeting.chat)."""
        self.chat.send(text, to, self.peers)

    def media_state(self) -> p.MediaState:
        return p.MediaState(mic=self.media.heard, cam=self.media.camera_on, screen=False)

    async def drop(self, peer_id: str, reason: str, announce: bool = True) -> None:
        """Close the link to ``peer_id``; with ``announce`` also forget the peer and say so.
        A peer without a link (one we wait to hear an offer from, or whose link was dropped to
        be made again) is forgotten too, and said to have left if it had been named."""
        link = self.links.pop(peer_id, None)
        if link is not None:
            self._closing.add(link)  # if this task is cancelled now, close() finishes the close
            await self.media.detach(peer_id)
            await link.close()
            self._closing.discard(link)
        if not announce or (info := self.peers.pop(peer_id, None)) is None:
            return
        self._recovery.forget(peer_id)
        self.tokens.forget(peer_id)
        self._flowing.discard(peer_id)
        if _shown(info):  # (one never shown, e.g. gone before answering our offer: unsaid)
            self.chat.forget(peer_id, info.name)  # (before it left)
            self._emit(ev.PeerLeft(peer_id, info.name, reason))  # (nameless: "Someone")

    async def close(self, reason: str) -> None:
        """Close every link without announcing it, including drops that were cut short."""
        for peer_id in list(self.links):
            await self.drop(peer_id, reason, announce=False)
        for link in list(self._closing):
            await link.close()
        self._closing.clear()

    # --- health ------------------------------------------------------------------------------
    def needing_rebuild(self) -> list[tuple[str, PeerLink, str]]:
        """(peer id, link, why) for each link that died or stalled and is due for a rebuild."""
        due = []
        for peer_id, link in list(self.links.items()):
            frames = self.media.video_frames(peer_id) + self.media.audio_frames(peer_id)
            self._recovery.observe(peer_id, str(link.pc.connectionState), frames)
            reason = self._recovery.reason(peer_id)
            if reason is not None:
                due.append((peer_id, link, reason))
        return due

    def silent_for(self, peer_id: str) -> float:
        """Seconds without media from ``peer_id`` (as of the last ``needing_rebuild``)."""
        return self._recovery.silent_for(peer_id)

    def alive(self, peer_id: str) -> bool:
        """Whether the link to ``peer_id`` is connected and its media still arrives."""
        link = self.links.get(peer_id)
        connected = link is not None and link.pc.connectionState == "connected"
        return connected and self._recovery.quiet_for(peer_id) < self._recovery.stall_s

    def lapsed(self, key: str | None = None) -> bool:
        """Whether a link (the one to ``key``, or any) that had connected brings nothing now
        (LAPSE_S); one made afresh after that, not connected yet, too, or none at all."""
        if key is not None and key not in self.links:
            return self.peers.get(key, PeerInfo(key)).connect_ms is not None
        return any(
            self.peers[k].connect_ms is not None
            and (link.pc.connectionState != "connected" or self._recovery.quiet_for(k) >= LAPSE_S)
            for k, link in self.links.items()
            if key in (None, k)
        )

    def unseen(self, peer_id: str) -> bool:
        """Whether nothing was shown of ``peer_id`` yet: no name, never connected."""
        info = self.peers.get(peer_id)
        return info is not None and not info.name and info.connect_ms is None

    def merged(self, newcomer: str, key: str) -> None:
        """The unseen ``newcomer`` is the person kept as ``key``: our next offer to that person
        is numbered past the newcomer's (an answer to those is then dropped as superseded)."""
        info = self.info(key)
        info.offers = max(info.offers, self.info(newcomer).offers)

    def reconnecting(self, peer_id: str, reason: str) -> None:
        """A rebuild of the link to ``peer_id`` starts now."""
        self._recovery.acted(peer_id)
        self.info(peer_id).reconnecting = True
        log.info("rebuilding connection to %s: %s", peer_id, reason)
        self._emit(ev.ConnectionChanged(peer_id, "reconnecting"))

    def stalled(self, peer_id: str, on: bool) -> None:
        """Media from ``peer_id`` stopped (``on``) or came back while its link cannot be rebuilt
        (no rendezvous): shown as reconnecting meanwhile, then as its link's state again."""
        info = self.peers.get(peer_id)
        if info is not None and info.stalled != on:
            info.stalled = on
            self._emit(ev.ConnectionChanged(peer_id, "reconnecting" if on else info.state))

    # --- what links report -------------------------------------------------------------------
    def _on_state(self, link: PeerLink, state: str) -> None:
        if self.links.get(link.peer_id) is not link:
            return
        info = self.peers[link.peer_id]
        info.state, info.stalled = state, False
        self._emit(ev.ConnectionChanged(link.peer_id, state))
        if state == "connected" and not link.sas.pending:  # (an answerer: once it has the code)
            self._connected(link, info)

    def check_helpers(self, link: PeerLink) -> None:
        """Say once per call if a STUN/TURN server failed us (app.meeting.netconfig)."""
        kind, text = helpers_notice(link)
        if text and kind not in self._told:  # (a slow STUN server hides no relay notice)
            self._told.add(kind)
            self._emit(ev.Notice(text))

    def committed(self, peer_id: str, commit: p.Commit) -> None:
        """The commitment ``peer_id`` sent before its offer, kept for the answer (a few)."""
        kept = list(self._commits.items())[-15:]
        self._commits = {**dict(kept), (peer_id, commit.attempt): commit.digest}

    def commitment(self, peer_id: str, attempt: int) -> CodeNonce:
        """For the link that answers ``peer_id``'s offer ``attempt``: the nonce committed to
        (none from a peer too old to send one)."""
        return CodeNonce(attempt, commit=self._commits.pop((peer_id, attempt), None))

    def why_gone(self, peer_id: str) -> str:
        """A peer that leaves says goodbye over the data channel first (and is dropped then);
        one still connected when the rendezvous reports it gone quit without a word: its app
        was killed, or its computer went offline or to sleep."""
        info = self.peers.get(peer_id)
        never_connected = info is None or info.connect_ms is None  # (no channel to say bye on)
        return "left" if never_connected else "connection lost"

    def revealed(self, peer_id: str, attempt: int, nonce: str) -> None:
        """The offerer revealed the nonce of its safety code (app.net.sas)."""
        link = self.links.get(peer_id)
        if link is None or link.offerer or not link.sas.reveal(attempt, nonce):
            log.warning("dropped a safety code nonce from %s: not the one committed to", peer_id)
        elif link.pc.connectionState == "connected":
            self._connected(link, self.peers[peer_id])

    def _connected(self, link: PeerLink, info: PeerInfo) -> None:
        first, code = info.connect_ms is None, link.safety_code
        if first or code != info.safety_code:  # (a rebuilt link has a safety code of its own)
            info.connect_ms = self._ms_since(info) if first else info.connect_ms
            info.path, info.safety_code = link.path(), code
            if first:
                self._emit(
                    ev.Progress(4, f"secure handshake with {info.name} (safety code {code})")
                )
            assert info.connect_ms is not None
            self._emit(ev.PeerConnected(link.peer_id, info.name, info.path, code, info.connect_ms))
        if not first and info.reconnecting:
            info.reconnecting = False
            self._emit(ev.Notice(info.name + RECONNECTED))

    def _on_track(self, link: PeerLink, kind: str, track: MediaStreamTrack) -> None:
        peer_id = link.peer_id

        def first() -> None:
            info = self.peers.get(peer_id)
            name = info.name if info else peer_id
            after = self._ms_since(info)
            self._emit(ev.FirstFrame(peer_id, name, kind, after))
            if kind == "video" and peer_id not in self._flowing:  # (not again after a rebuild)
                self._flowing.add(peer_id)
                self._emit(ev.Progress(5, f"media flowing from {name} ({after:.0f} ms)"))

        self.media.attach(peer_id, kind, track, first)
        self._emit(ev.TrackAdded(peer_id, kind))

    def _on_data(self, link: PeerLink, msg: p.Message) -> None:
        info = self.peers.get(link.peer_id)
        if info is None:
            return
        if not isinstance(msg, p.Goodbye) and self.chat.flooded(info.peer_id, info.name, msg):
            return
        if isinstance(msg, p.Chat):
            self.chat.received(link.peer_id, info.name, msg)
        elif isinstance(msg, p.MediaState):
            camera_back = msg.cam and not info.cam
            info.mic, info.cam, info.screen = msg.mic, msg.cam, msg.screen
            for kind, gone in (("video", camera_back), ("screen", not msg.screen)):
                remote = self.media.remote_video(link.peer_id, kind)
                if gone and remote is not None:  # not shown when their camera or screen is on
                    remote.latest = None  # again: black (camera off), or the last share's
            self._emit(ev.PeerMediaChanged(link.peer_id, msg.mic, msg.cam, msg.screen))
        elif isinstance(msg, p.Goodbye):
            self._tasks.for_peer(link.peer_id, self.drop(link.peer_id, said_reason(msg.reason)))
        elif isinstance(msg, p.RendezvousId):
            self.on_claim(link.peer_id, msg.peer_id)
        elif isinstance(msg, p.RendezvousGone):
            self.on_claim(link.peer_id, "")  # (no id there for now)
        elif isinstance(msg, p.ResumeToken):
            self.tokens.got(link.peer_id, msg.token)

    def chat_overdue(self) -> None:
        """Show each long message that waited too long for its next part as it is (called
        once a second)."""
        self.chat.overdue(self._name)

    def _name(self, peer_id: str) -> str:
        info = self.peers.get(peer_id)
        return info.name if info else peer_id
