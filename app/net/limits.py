"""Per-address limits of the rendezvous: connections, new-connection rate and rooms (sans-IO).

One address (a home, an office NAT, or an attacker) may hold at most ``per_ip_connections``
websockets, open new ones at ``connect_rate`` per second, and own at most ``per_ip_rooms`` live
rooms; the whole server holds at most ``max_connections``. All state is bounded: counts exist
only for addresses with an open connection, rate buckets live in an LRU of ``MAX_TRACKED``.
"""

from __future__ import annotations

import ipaddress
import time
from collections import Counter, OrderedDict
from collections.abc import Callable

from app.net.rooms import TokenBucket

MAX_TRACKED = 4096

SERVER_FULL = "server at its connection limit"  # (the others: this address's limits)


def normalise(remote: str) -> str:
    """The key limits are counted under: ``::ffff:1.2.3.4`` and ``1.2.3.4`` are one address,
    and an IPv6 address counts as its /64 (one home or host gets a whole /64, so counting
    single addresses would set no limit at all); unparseable text stays as is."""
    try:
        ip = ipaddress.ip_address(remote.split("%")[0])
    except ValueError:
        return remote
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not ip.is_loopback:
            return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class AddressLimits:
    def __init__(
        self,
        *,
        max_connections: int = 2000,
        per_ip_connections: int = 64,
        per_ip_rooms: int = 20,
        connect_rate: tuple[float, float] = (10.0, 40.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_connections = max_connections
        self.per_ip_connections, self.per_ip_rooms = per_ip_connections, per_ip_rooms
        self._rate, self._clock = connect_rate, clock
        self._open: Counter[str] = Counter()
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._room_owner: dict[str, str] = {}  # room id -> address that created it

    @property
    def connections(self) -> int:
        return sum(self._open.values())

    def tracked(self) -> tuple[int, int, int]:
        """(addresses with connections, rate buckets, room records) - for bounded-memory tests."""
        return len(self._open), len(self._buckets), len(self._room_owner)

    def connect(self, remote: str) -> str | None:
        """Count a new connection; return why it is refused, or None if admitted."""
        ip = normalise(remote)
        bucket = self._buckets.pop(ip, None) or TokenBucket(*self._rate, clock=self._clock)
        self._buckets[ip] = bucket  # most recently used last
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if not bucket.allow():
            return "new connections too fast"
        if self.connections >= self.max_connections:
            return SERVER_FULL
        if self._open[ip] >= self.per_ip_connections:
            return f"more than {self.per_ip_connections} connections"
        self._open[ip] += 1
        return None

    def disconnect(self, remote: str) -> None:
        ip = normalise(remote)
        if self._open[ip] <= 1:
            self._open.pop(ip, None)
        else:
            self._open[ip] -= 1

    def may_create(self, remote: str, live: Callable[[str], bool]) -> bool:
        """Whether ``remote`` may open one more room; ``live(room_id)`` says a room still runs."""
        self.prune(live)
        ip = normalise(remote)
        return sum(1 for owner in self._room_owner.values() if owner == ip) < self.per_ip_rooms

    def created(self, room_id: str, remote: str) -> None:
        self._room_owner[room_id] = normalise(remote)

    def prune(self, live: Callable[[str], bool]) -> None:
        """Forget rooms that ended or expired."""
        for room_id in [r for r in self._room_owner if not live(r)]:
            del self._room_owner[room_id]
