"""Who is who on the rendezvous. Pure and clock-driven, so it is tested without sleeping.

The rendezvous gives a participant a new peer id each time it connects (app.net.rooms), so one
person may be known there by several ids over a call: after a blip of its websocket, after a
restart of the rendezvous. The call keeps each remote person under the key it first knew them
by (the roster, the events and the tiles stay keyed by it); ``Whois`` maps the person's CURRENT
rendezvous id to that key, for signaling. A participant that got back in tells each peer it is
still connected to its new id over that peer's data channel (``rv_id``, authenticated by the
link's DTLS): ``claimed``.

A person whose rendezvous id left the server while its link still carries media is kept,
"away" (no rendezvous id, ``away``). While someone is away, a newcomer on the rendezvous may be
that person under a new id whose claim has not come yet: it is held back (``hold``) for up to
``HOLD_S``, then taken as new (``due``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

HOLD_S = 3.0  # a newcomer waits this long for a claim while some peers are away


class Whois:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._rv: dict[str, str] = {}  # person's key -> its current rendezvous id
        self._key: dict[str, str] = {}  # current rendezvous id -> person's key
        self._held: dict[str, float] = {}  # rendezvous id of a held newcomer -> since
        self.mine = ""  # our own rendezvous id (the Session's, once seated)
        self.former: set[str] = set()  # ours before we got back in (a network change)

    def key(self, rv_id: str) -> str | None:
        """The key of the person now known on the rendezvous as ``rv_id``, if any."""
        return self._key.get(rv_id)

    def rendezvous_id(self, key: str) -> str | None:
        """The current rendezvous id of the person kept as ``key`` (None: away, or unknown)."""
        return self._rv.get(key)

    def met(self, rv_id: str) -> str:
        """The key for ``rv_id``: its person's, or ``rv_id`` itself for someone new."""
        key = self._key.get(rv_id)
        if key is None:
            self._held.pop(rv_id, None)
            key = rv_id
            self._bind(key, rv_id)
        return key

    def claimed(self, key: str, rv_id: str) -> bool:
        """The person kept as ``key`` says (over its own link) it is ``rv_id`` now. Refused
        (False) if ``rv_id`` is another person's, or ours: nobody takes someone else's place."""
        owner = self._key.get(rv_id)
        if (owner is not None and owner != key) or rv_id == self.mine:
            return False
        self._held.pop(rv_id, None)
        self._bind(key, rv_id)
        return True

    def away(self, key: str) -> None:
        """``key``'s rendezvous id left the server; the person is kept, without one."""
        rv_id = self._rv.pop(key, None)
        if rv_id is not None:
            self._key.pop(rv_id, None)

    def forget(self, keys: Iterable[str]) -> None:
        """Forget the people kept as ``keys`` (gone from the call)."""
        for key in keys:
            self.away(key)

    def keys(self) -> set[str]:
        """The keys of everyone with a rendezvous id."""
        return set(self._rv)

    def _bind(self, key: str, rv_id: str) -> None:
        self.away(key)
        self._key[rv_id], self._rv[key] = key, rv_id

    # --- newcomers held back -------------------------------------------------------------------
    def hold(self, rv_id: str) -> None:
        self._held.setdefault(rv_id, self._clock())

    def held(self, rv_id: str) -> float | None:
        """When the newcomer ``rv_id`` was held back, or None if it is not."""
        return self._held.get(rv_id)

    def release(self, rv_id: str) -> float | None:
        """Stop holding ``rv_id`` back (it left, or spoke): when it was held, or None."""
        return self._held.pop(rv_id, None)

    def due(self, anyone_away: bool) -> list[tuple[str, float]]:
        """The newcomers to take as new now, with when they came: those held for ``HOLD_S``
        without a claim, or all of them once nobody is ``anyone_away``."""
        now = self._clock()
        due = [(r, t) for r, t in self._held.items() if not anyone_away or now - t >= HOLD_S]
        for rv_id, _since in due:
            del self._held[rv_id]
        return due
