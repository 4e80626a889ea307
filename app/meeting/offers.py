"""The offer/answer exchange that makes each link (app.meeting.session's part of signaling).

The lower rendezvous id offers (no glare). Each offer to a peer is numbered (``attempt``): an
answer to a superseded one is dropped. The commitment to our half of the link's safety code
goes just before the offer, our half itself after the answer (app.net.sas). Only the offerer
rebuilds a dead link; the other side asks it to (``Bye("reconnect")``).
"""

from __future__ import annotations

import logging
from typing import Protocol

from app.config import EngineConfig
from app.meeting.roster import Roster
from app.meeting.tasks import TaskOwner
from app.meeting.whois import Whois
from app.net import protocol as p
from app.net.peers import PeerLink
from app.net.sas import CodeNonce, commitment

log = logging.getLogger(__name__)


class Call(Protocol):
    """What the exchange reads of its Session, and how it sends (sealed, through the
    rendezvous: nothing is sent while that is lost, or once leaving)."""

    @property
    def my_id(self) -> str: ...
    @property
    def config(self) -> EngineConfig: ...
    @property
    def ended(self) -> str | None: ...
    @property
    def signaling_ok(self) -> bool: ...
    async def relay(self, peer_id: str, msg: p.Message) -> None: ...


class Offers:
    def __init__(self, call: Call, roster: Roster, whois: Whois, tasks: TaskOwner) -> None:
        self._call, self._roster, self._whois, self._tasks = call, roster, whois, tasks
        #: per peer, its latest offer not yet answered: a peer sending offers faster than they
        #: can be answered (a hostile app) gets only its latest answered, not a growing backlog
        self._pending: dict[str, p.Offer] = {}

    def offers_to(self, peer_id: str) -> bool:
        """The lower id offers (no glare): our rendezvous id and the peer's, as of now."""
        rv_id = self._whois.rendezvous_id(peer_id)
        return rv_id is not None and self._call.my_id < rv_id

    def received(self, sender: str, msg: p.Message) -> bool:
        """Take ``msg`` from the person ``sender`` if it is part of the exchange."""
        if isinstance(msg, p.Offer):
            self._pending[sender] = msg  # the one to answer: those still waiting are skipped
            self._tasks.for_peer(sender, self._answer(sender, msg))
        elif isinstance(msg, p.Answer):
            self._tasks.for_peer(sender, self.accept(sender, msg))
        elif isinstance(msg, p.Commit):  # (just before its offer: kept for the answer)
            self._roster.committed(sender, msg)
        elif isinstance(msg, p.Reveal):
            self._roster.revealed(sender, msg.attempt, msg.nonce)
        elif isinstance(msg, p.Bye) and msg.reason == "reconnect" and self.offers_to(sender):
            self._tasks.for_peer(sender, self.rebuild(sender, "asked by peer"))
        else:
            return False
        return True

    async def offer(self, peer_id: str) -> None:
        info = self._roster.info(peer_id)
        info.offers += 1
        config = self._call.config
        link = self._roster.open(peer_id, offerer=True, config=config)
        link.sas = nonce = CodeNonce.fresh(info.offers)
        sdp = await link.make_offer()
        self._roster.check_helpers(link)
        assert nonce.nonce is not None
        await self._call.relay(peer_id, p.Commit(info.offers, commitment(nonce.nonce)))
        offer = p.Offer(sdp=sdp, name=config.display_name, attempt=info.offers)
        await self._call.relay(peer_id, offer)

    async def _answer(self, peer_id: str, offer: p.Offer) -> None:
        if self._pending.get(peer_id) is not offer:
            return  # a newer one came while this one waited: its link would be dropped at once
        del self._pending[peer_id]
        if self.offers_to(peer_id):
            log.warning("ignoring offer from %s: we offer to higher ids", peer_id)
            return
        if peer_id in self._roster.links:  # a fresh offer replaces the old connection
            await self._roster.drop(peer_id, "reconnecting", announce=False)
        self._roster.info(peer_id)
        config = self._call.config
        link = self._roster.open(peer_id, offerer=False, config=config)
        self._roster.named(peer_id, offer.name)
        link.sas = self._roster.commitment(peer_id, offer.attempt)
        sdp = await link.accept_offer(offer.sdp)
        self._roster.check_helpers(link)
        answer = p.Answer(sdp=sdp, name=config.display_name, attempt=offer.attempt)
        await self._call.relay(peer_id, answer)

    async def accept(self, peer_id: str, answer: p.Answer) -> None:
        info = self._roster.peers.get(peer_id)
        if info is None or answer.attempt != info.offers:
            log.info("dropped an answer from %s to a superseded offer", peer_id)
            return
        link = self._roster.links.get(peer_id)
        if link is None or not link.offerer or link.pc.signalingState != "have-local-offer":
            log.warning("unexpected answer from %s", peer_id)
            return
        self._roster.named(peer_id, answer.name)
        await link.accept_answer(answer.sdp)
        if link.sas.nonce is not None:  # the answer is in: our part of its safety code
            await self._call.relay(peer_id, p.Reveal(answer.attempt, link.sas.nonce.hex()))

    def renew(self, peer_id: str, link: PeerLink | None, reason: str) -> None:
        """The link to ``peer_id`` (``link``, or none) is to be made afresh."""
        self._roster.reconnecting(peer_id, reason)
        if self.offers_to(peer_id):
            self._tasks.for_peer(peer_id, self.rebuild(peer_id, reason, link))
        else:  # only the offerer rebuilds; ask it to
            self._tasks.for_peer(peer_id, self._call.relay(peer_id, p.Bye("reconnect")))

    async def rebuild(self, peer_id: str, reason: str, dead: PeerLink | None = None) -> None:
        """Replace the link to ``peer_id``; if ``dead`` is given, only if it is still that one
        (a rebuild the peer asked for may have replaced it meanwhile: a second offer would cross
        the first one's answer, which would then be applied to the wrong connection)."""
        link = self._roster.links.get(peer_id)
        call = self._call
        if peer_id not in self._roster.peers or (dead is not None and link is not dead):
            return
        if call.ended or not call.signaling_ok:  # (a request read after the rendezvous was lost)
            return
        if reason == "asked by peer" and link and link.pc.connectionState in ("new", "connecting"):
            return  # a rebuild is already under way; the request crossed our new offer
        log.info("new connection to %s (%s)", peer_id, reason)
        await self._roster.drop(peer_id, "reconnecting", announce=False)
        await self.offer(peer_id)
