"""Getting a person back after a network change. Pure (the randomness is passed in).

When someone's network changes (Wi-Fi to wired, a new address), their rendezvous connection
and every peer-to-peer connection die together: they get back into the room under a new
rendezvous id, with no live connection to say over that it is them (``rv_id``). So each side
of a connection gives the other a one-time secret over it (data ``resume_token``, which only
that peer can read); back in, the person shows each peer the secret that peer gave it, sealed
(signal ``resume``). The peer then keeps them under the key it always knew them by
(app.meeting.whois): their tile, name and chat go on, "reconnecting", instead of "connection
lost" and a new person joining. A secret is spent when shown (with the others given to that
person), and each new connection brings a new one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

#: secrets given to one person that stay good: each new connection to them brings one, and
#: those made while they were cut off never reached them
KEPT = 4


class Tokens:
    def __init__(self, randomness: Callable[[int], str] = secrets.token_hex) -> None:
        self._random = randomness
        self._given: dict[str, list[str]] = {}  # person's key -> the secrets we gave them
        self._got: dict[str, str] = {}  # person's key -> the latest secret they gave us

    def give(self, key: str) -> str:
        """A new secret for the person kept as ``key`` (sent over a new connection to them)."""
        token = self._random(16)
        self._given[key] = [*self._given.get(key, [])[-(KEPT - 1) :], token]
        return token

    def got(self, key: str, token: str) -> None:
        """The person kept as ``key`` gave us ``token`` (over its connection)."""
        if 0 < len(token) <= 128:
            self._got[key] = token

    def mine(self) -> dict[str, str]:
        """The secrets others gave us, by their keys: what to show them when back in."""
        return dict(self._got)

    def gave(self, key: str) -> bool:
        """Whether the person kept as ``key`` holds a secret of ours (and can come back)."""
        return key in self._given

    def may_return(self, key: str) -> bool:
        """Whether the person kept as ``key`` may come back showing a secret of ours: it holds
        one, and knows of them (it gave us one too; a PeerMeet before them gives none, drops
        ours unread, and would come back as someone new)."""
        return key in self._given and key in self._got

    def whose(self, token: str) -> str | None:
        """The key of the person we gave ``token`` to, which is spent now; None if nobody."""
        for key, given in self._given.items():
            if any(hmac.compare_digest(one.encode(), token.encode()) for one in given):
                del self._given[key]  # (all of them: the next connection brings a new one)
                return key
        return None

    def forget(self, key: str) -> None:
        """The person kept as ``key`` is gone from the call."""
        self._given.pop(key, None)
        self._got.pop(key, None)
