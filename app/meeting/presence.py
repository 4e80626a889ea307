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
from collections.abc import Callable

from app.meeting.roster import Roster
from app.meeting.tasks import TaskOwner
from app.meeting.whois import Whois
from app.net.peers import PeerLink

log = logging.getLogger(__name__)

AWAY_LOST_S = 5.0  # an away peer whose link brought nothing for this long is dropped
Due = list[tuple[str, PeerLink, str]]  # (key, link, why): links due for a rebuild


class Presence:
    def __init__(
        self,
        whois: Whois,
        roster: Roster,
        tasks: TaskOwner,
        arrive: Callable[[str, float | None], None],
    ) -> None:
        """``arrive(key, since)``: someone to connect to came (Session._peer_arrived)."""
        self._whois, self._roster, self._tasks, self._arrive = whois, roster, tasks, arrive
        roster.on_claim = self.claimed

    def away(self) -> set[str]:
        """The keys of the peers with a link but no rendezvous id (away from the server)."""
        return self._roster.links.keys() - self._whois.keys()

    def joined(self, rv_id: str, now: float | None) -> None:
        """``rv_id`` is in the room (it came at ``now``; None: it was there before us)."""
        if self._whois.key(rv_id) is None and self.away():  # maybe one of them, under a new id
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
        self._tasks.for_peer(key, self._roster.drop(key, self._roster.why_gone(key)))

    def claimed(self, key: str, rv_id: str) -> None:
        """The peer kept as ``key`` says, over its link, that it is ``rv_id`` now."""
        if self._whois.claimed(key, rv_id):
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
        away = self.away()
        for rv_id, since in self._whois.due(bool(away)):
            self._arrive(self._whois.met(rv_id), since)
        for key in away - {key for key, _, _ in due}:
            self._roster.stalled(key, False)  # (its media came back)
        for key, link, _reason in due:
            if key not in away:
                continue
            dead = link.pc.connectionState in ("failed", "closed")
            if dead or self._roster.silent_for(key) >= AWAY_LOST_S:
                self._tasks.for_peer(key, self._roster.drop(key, "connection lost"))
            else:
                self._roster.stalled(key, True)
        return [entry for entry in due if entry[0] not in away]
