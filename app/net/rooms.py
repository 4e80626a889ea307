"""Sans-IO room registry of the rendezvous server, plus a token-bucket rate limiter.

Kept free of sockets and of real time (``clock`` and ``new_id`` are injected) so every
rule - capacity, expiry, tombstones, ownership - is unit-tested without a network. The
registry stores only what routing needs: the room id (derived from the link secret, never
the secret itself), the human hint, member ids, expiry and the owner's token.

Ended or expired room ids are remembered for ``TOMBSTONE_S`` so a late joiner learns
"expired"/"ended" instead of the confusing "no such room".
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from app.errors import refusal
from app.net.text import is_utf8

CAPACITY = {"small": 4, "mid": 8, "large": 16}
MIN_LIFETIME_S = 60
DEFAULT_LIFETIME_S = 3 * 3600
MAX_LIFETIME_S = 24 * 3600
TOMBSTONE_S = 24 * 3600
MAX_TOMBSTONES = 100_000
TOMBSTONE_CODES = ("room_ended", "room_expired")  # why a room is gone
MAX_ID_CHARS = 64
MAX_HINT_CHARS = 128

Clock = Callable[[], float]


def new_peer_id() -> str:
    return secrets.token_urlsafe(9)


def new_owner_token() -> str:
    return secrets.token_urlsafe(16)  # 128 bits, base64url


@dataclass
class Room:
    room_id: str
    hint: str
    capacity: int
    expires_at: float
    owner_token: str
    members: list[str] = field(default_factory=list)


class Seat(NamedTuple):
    room: Room
    peer_id: str


class Rooms:
    def __init__(
        self,
        *,
        clock: Clock = time.time,
        new_id: Callable[[], str] = new_peer_id,
        new_token: Callable[[], str] = new_owner_token,
        max_rooms: int = 1000,
        tombstone_s: float = TOMBSTONE_S,
        max_tombstones: int = MAX_TOMBSTONES,
    ) -> None:
        self._clock, self._new_id, self._new_token = clock, new_id, new_token
        self.max_rooms = max_rooms
        self._tombstone_s, self._max_tombstones = tombstone_s, max_tombstones
        self._rooms: dict[str, Room] = {}
        self._hints: Counter[str] = Counter()
        self._tombstones: OrderedDict[str, tuple[str, float]] = OrderedDict()  # id -> code, until
        #: goes up with every change worth keeping across a restart (see ``snapshot``)
        self.revision = 0

    def __len__(self) -> int:
        return len(self._rooms)

    def get(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    def create(self, room_id: str, hint: str, size: str, lifetime_s: int) -> Seat:
        """Open a room; its creator is the first member and holds ``room.owner_token``."""
        _check_names(room_id, hint)
        if size not in CAPACITY:
            raise refusal("bad_request", f"size must be one of {', '.join(CAPACITY)}")
        if not MIN_LIFETIME_S <= lifetime_s <= MAX_LIFETIME_S:
            raise refusal(
                "bad_request", f"lifetime must be {MIN_LIFETIME_S}..{MAX_LIFETIME_S} seconds"
            )
        if room_id in self._rooms:
            self._live(room_id)  # room_expired if it is past its time but not yet swept
            raise refusal("room_exists")
        tomb = self._tomb(room_id)
        if tomb is not None:
            raise refusal(tomb)
        if len(self._rooms) >= self.max_rooms:
            raise refusal("too_many_rooms")
        room = Room(room_id, hint, CAPACITY[size], self._clock() + lifetime_s, self._new_token())
        self._add(room)
        return self._seat(room)

    def join(self, room_id: str, hint: str) -> Seat:
        _check_names(room_id, hint)
        room = self._live(room_id, hint)
        if len(room.members) >= room.capacity:
            raise refusal("room_full")
        return self._seat(room)

    def leave(self, room_id: str, peer_id: str) -> list[str]:
        """Remove a member; return who is still in the room (empty if the room is gone)."""
        room = self._rooms.get(room_id)
        if room is None or peer_id not in room.members:
            return []
        room.members.remove(peer_id)
        return list(room.members)

    def end(self, room_id: str, token: str) -> Room:
        """End a room for everyone (owner only); the caller notifies ``room.members``."""
        room = self._owned(room_id, token)
        self._bury(room, "room_ended")
        return room

    def extend(self, room_id: str, token: str, seconds: int) -> Room:
        """Push expiry back by ``seconds``, never beyond MAX_LIFETIME_S from now."""
        if not 0 < seconds <= MAX_LIFETIME_S:
            raise refusal("bad_request", f"extension must be 1..{MAX_LIFETIME_S} seconds")
        room = self._owned(room_id, token)
        room.expires_at = min(room.expires_at + seconds, self._clock() + MAX_LIFETIME_S)
        self.revision += 1
        return room

    def sweep(self) -> list[Room]:
        """Bury rooms past their expiry and forget old tombstones; return the expired rooms."""
        now = self._clock()
        expired = [r for r in self._rooms.values() if r.expires_at <= now]
        for room in expired:
            self._bury(room, "room_expired")
        while self._tombstones:
            oldest = next(iter(self._tombstones.values()))
            if oldest[1] > now:
                break
            self._tombstones.popitem(last=False)
        return expired

    # --- across restarts (app.net.roomstate) -------------------------------------------------

    def snapshot(self) -> dict[str, list[list[object]]]:
        """Live rooms and tombstones as JSON-ready lists; members are not kept (after a
        restart they come back by joining again)."""
        rooms = [
            [r.room_id, r.hint, r.capacity, r.expires_at, r.owner_token]
            for r in self._rooms.values()
        ]
        tombs = [[room_id, code, until] for room_id, (code, until) in self._tombstones.items()]
        return {"rooms": rooms, "tombstones": tombs}

    def restore(self, data: dict[str, list[list[object]]]) -> int:
        """Take back what ``snapshot`` gave; ValueError if any of it is malformed (then nothing
        is taken). Rooms past their time become "expired" tombstones; times, the room count
        and the tombstone count are held to this server's limits. Returns the rooms restored."""
        now = self._clock()
        tombs: list[tuple[str, str, float]] = []
        for room_id, code, until in data["tombstones"]:
            if not (isinstance(room_id, str) and code in TOMBSTONE_CODES):
                raise ValueError("a tombstone is malformed")
            tombs.append((room_id, str(code), min(_number(until), now + self._tombstone_s)))
        rooms: list[Room] = []
        for room_id, hint, capacity, expires_at, token in data["rooms"]:
            if not (isinstance(room_id, str) and isinstance(hint, str) and isinstance(token, str)):
                raise ValueError("a room is malformed")
            if not isinstance(capacity, int) or capacity not in CAPACITY.values() or not token:
                raise ValueError(f"room {room_id[:6]}… has a bad size or owner token")
            _check_names(room_id, hint)
            ends = min(_number(expires_at), now + MAX_LIFETIME_S)
            rooms.append(Room(room_id, hint, capacity, ends, token))
        for room_id, code, until in tombs[-self._max_tombstones :]:
            if until > now:
                self._tombstones[room_id] = (code, until)
        restored = 0
        for room in rooms:
            if room.room_id in self._rooms or room.room_id in self._tombstones:
                continue
            if room.expires_at <= now:  # it ran out while the server was down: "expired"
                self._tombstones[room.room_id] = ("room_expired", now + self._tombstone_s)
            elif len(self._rooms) < self.max_rooms:
                self._add(room)
                restored += 1
        while len(self._tombstones) > self._max_tombstones:
            self._tombstones.popitem(last=False)
        return restored

    # --- internals ---------------------------------------------------------------------------

    def _add(self, room: Room) -> None:
        self._rooms[room.room_id] = room
        self._hints[room.hint] += 1
        self.revision += 1

    def _seat(self, room: Room) -> Seat:
        peer_id = self._new_id()
        while peer_id in room.members:
            peer_id = self._new_id()
        room.members.append(peer_id)
        return Seat(room, peer_id)

    def _live(self, room_id: str, hint: str | None = None) -> Room:
        room = self._rooms.get(room_id)
        if room is not None:
            if room.expires_at <= self._clock():
                raise refusal("room_expired")
            return room
        tomb = self._tomb(room_id)
        if tomb is not None:
            raise refusal(tomb)
        if hint is not None and self._hints[hint] > 0:
            raise refusal("wrong_secret")
        raise refusal("no_such_room")

    def _owned(self, room_id: str, token: str) -> Room:
        room = self._live(room_id)
        if not hmac.compare_digest(room.owner_token.encode(), token.encode()):
            raise refusal("not_owner")
        return room

    def _tomb(self, room_id: str) -> str | None:
        tomb = self._tombstones.get(room_id)
        return tomb[0] if tomb is not None and tomb[1] > self._clock() else None

    def _bury(self, room: Room, code: str) -> None:
        self.revision += 1
        del self._rooms[room.room_id]
        self._hints[room.hint] -= 1
        if self._hints[room.hint] <= 0:
            del self._hints[room.hint]
        self._tombstones.pop(room.room_id, None)
        self._tombstones[room.room_id] = (code, self._clock() + self._tombstone_s)
        while len(self._tombstones) > self._max_tombstones:
            self._tombstones.popitem(last=False)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ValueError(f"{value!r} is not a time")
    return float(value)


def _check_names(room_id: str, hint: str) -> None:
    if not 0 < len(room_id) <= MAX_ID_CHARS or len(hint) > MAX_HINT_CHARS:
        raise refusal("bad_request", "room id or hint has a bad length")
    if not (is_utf8(room_id) and is_utf8(hint)):  # (an old state file may hold a surrogate)
        raise refusal("bad_request", "room id or hint is not valid Unicode")


class TokenBucket:
    """Allow ``rate`` events per second on average, bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = burst
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + max(0.0, now - self._last) * self.rate)
        self._last = now

    def allow(self, cost: float = 1.0) -> bool:
        self._refill()
        if self._tokens < cost:
            return False
        self._tokens -= cost
        return True

    def charge(self, cost: float) -> None:
        """Take ``cost`` tokens even if fewer are left: a debt (down to ``-burst``) paid off at
        ``rate`` before anything is allowed again."""
        self._refill()
        self._tokens = max(-self.burst, self._tokens - cost)
