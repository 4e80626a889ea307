"""The rendezvous' word on who is in the room, read for a call whose people keep their keys
when their rendezvous ids change (app.meeting.whois).

A peer whose rendezvous id leaves the server (its websocket blipped, the rendezvous restarted)
while its link still carries media is kept, "away from the server", not dropped: its own app
gets back in under a new id and says so over the link (``claimed``). It is dropped ("connection
lost") once its link dies or brings nothing for ``AWAY_LOST_S`` (its app was killed): an away
link cannot be rebuilt, there is no rendezvous id to signal to. Meanwhile a newcomer on the
rendezvous is held back (no offer, not named) until its claim comes or ``whois.HOLD_S`` pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from app.meeting.roster import Roster
from app.meeting.tasks import TaskOwner
from app.meeting.whois import Whois
from app.net import protocol as p
from app.net.peers import PeerLink
from app.net.sparing import worth_saying

log = logging.getLogger(__name__)

AWAY_LOST_S = 5.0  # an away peer whose link brought nothing for this long is dropped
#: a peer whose link had lapsed before its rendezvous id left (its network went, or changed)
#: is kept this long (s) for it to come back under a new id (app.meeting.resume)
RETURN_S = 30.0
Due = list[tuple[str, PeerLink, str]]  # (key, link, why): links due for a rebuild


class Presence:
    def __init__(
        self,
        whois: Whois,
        roster: Roster,
        tasks: TaskOwner,
        arrive: Callable[[str, float | None], None],
        clock: Callable[[], float],
    ) -> None:
        """``arrive(key, since)``: someone to connect to came (Session._peer_arrived)."""
        self._whois, self._roster, self._tasks, self._arrive = whois, roster, tasks, arrive
        self._clock = clock
        self._returning: dict[str, float] = {}  # key -> until when it is waited for (RETURN_S)
        self.refused = 0  # secrets shown that were not ours, or spent
        roster.on_claim = self.claimed

    def away(self) -> set[str]:
        """The keys of the peers with a link but no rendezvous id (away from the server)."""
        return self._roster.links.keys() - self._whois.keys()

    def joined(self, rv_id: str, now: float | None) -> None:
        """``rv_id`` is in the room (it came at ``now``; None: it was there before us)."""
        if rv_id in self._whois.former:
            return  # (ourselves, before we got back in: the server has not seen it go yet)
        if self._whois.key(rv_id) is None and self._unsure():  # maybe one of them, new id
            self._whois.hold(rv_id)
            log.info("%s held back: maybe someone away, under a new id", rv_id)
            return
        self._arrive(self._whois.met(rv_id), now)

    def left(self, rv_id: str) -> None:
        """``rv_id`` left the rendezvous: its person is dropped, unless its link carries on."""
        self._whois.release(rv_id)
        key = self._whois.key(rv_id)
        if key is None:
            return  # (a newcomer held back, or someone who said who they are now)
        self._whois.away(key)
        if self._roster.alive(key):
            log.info("%s left the rendezvous; its link carries on", key)
            return
        if self._roster.lapsed(key) and self._roster.tokens.may_return(key):  # (can show it is)
            log.info("%s left the rendezvous after its link lapsed: waited for", key)
            self._returning[key] = self._clock() + RETURN_S
            self._roster.stalled(key, True)
            return
        self._tasks.for_peer(key, self._roster.drop(key, self._roster.why_gone(key)))

    def _unsure(self) -> bool:
        """Whether a newcomer may be someone we know, under a new id: someone is away from the
        server, or a link of ours lapsed (its peer's network may have changed)."""
        return bool(self.away() or self._returning) or self._roster.lapsed()

    def resumed(self, rv_id: str, token: str) -> str | None:
        """``rv_id`` shows a secret we gave someone over a link (app.meeting.resume): it is that
        person, back under a new id. Their key, or None (not a secret of ours, or spent)."""
        key = self._roster.tokens.whose(token)
        if key is None or key not in self._roster.peers:
            self.refused += 1  # (logged sparingly: a member may send nothing else)
            if worth_saying(self.refused):
                why = "%s showed a secret we did not give anyone (or spent): ignored (%d so far)"
                log.warning(why, rv_id, self.refused)
            return None
        if self._whois.key(rv_id) == rv_id != key and self._roster.unseen(rv_id):
            #: met as someone new before its secret came (it was back before its link to us
            #: had lapsed): nothing was shown of that one; it is the person we know
            self._whois.away(rv_id)
            self._roster.merged(rv_id, key)
            self._tasks.for_peer(rv_id, self._roster.drop(rv_id, "left"))  # (unsaid: unseen)
        if not self._whois.claimed(key, rv_id):
            log.warning("%s showed %s's secret, but is someone else: ignored", rv_id, key)
            return None
        log.info("%s is back, as %s on the rendezvous", key, rv_id)
        self._returning.pop(key, None)
        link = self._roster.links.get(key)
        if link is not None and self._roster.alive(key):  # (its link carries on: a new secret)
            link.send(p.ResumeToken(self._roster.tokens.give(key)))
        return key

    def to_show(self, here: Collection[str]) -> dict[str, str]:
        """Back in the room (``here``: the rendezvous ids in it): the secret to show each peer
        there, by its key (app.meeting.resume; one whose link works gives us a new one). That
        includes a peer dropped while we were away from the rendezvous (app.meeting.regain): it
        may be waiting for us, as our network may be what went. Those not here are forgotten."""
        shown = {}
        for key, token in self._roster.tokens.mine().items():
            if self._whois.rendezvous_id(key) in here:  # (a link that looks alive may have
                shown[key] = token  # died with our network a moment ago: shown to all)
            elif key not in self._roster.peers:
                self._roster.tokens.forget(key)
        return shown

    def claimed(self, key: str, rv_id: str) -> None:
        """The peer kept as ``key`` says, over its link, that it is ``rv_id`` now ("": it lost
        the rendezvous; away from it until its new id comes, which may be before the server
        lets its old one go)."""
        if not rv_id:
            log.info("%s lost the rendezvous; its link carries on", key)
            self._whois.away(key)
        elif self._whois.claimed(key, rv_id):
            self._returning.pop(key, None)
            log.info("%s is %s on the rendezvous now", key, rv_id)
        else:
            log.warning("%s claimed %s, someone else's rendezvous id: ignored", key, rv_id)

    def sender(self, rv_id: str) -> str:
        """The key of whoever sent signaling as ``rv_id`` (a newcomer held back who speaks is
        taken as new: a peer with a live link to us has nothing to signal yet)."""
        since = self._whois.release(rv_id)
        if since is not None:
            self._arrive(self._whois.met(rv_id), since)
        return self._whois.met(rv_id)

    def look(self, due: Due) -> Due:
        """(Once a second, with the rendezvous.) Newcomers held long enough are taken as new;
        away peers whose link died or went quiet are dropped. The links due for a rebuild of
        those with a rendezvous id are returned."""
        self._whois.forget(self._whois.keys() - self._roster.peers.keys())  # (gone since)
        away, now = self.away(), self._clock()
        for rv_id, since in self._whois.due(self._unsure()):
            self._arrive(self._whois.met(rv_id), since)
        for key, until in list(self._returning.items()):  # (not back in time: gone)
            if key not in self._roster.peers or now >= until:
                del self._returning[key]
                self._tasks.for_peer(key, self._roster.drop(key, "connection lost"))
        for key in away - {key for key, _, _ in due} - self._returning.keys():
            self._roster.stalled(key, False)  # (its media came back)
        for key, link, _reason in due:
            if key not in away or key in self._returning:
                continue
            dead = link.pc.connectionState in ("failed", "closed")
            if dead or self._roster.silent_for(key) >= AWAY_LOST_S:
                self._tasks.for_peer(key, self._roster.drop(key, "connection lost"))
            else:
                self._roster.stalled(key, True)
        return [entry for entry in due if entry[0] not in away]
