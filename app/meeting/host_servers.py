"""ServerPool: the embedded rendezvous servers behind "This computer" meetings.

One server per port, shared by every room on it, bound to every interface (IPv4 only, or
IPv4+IPv6) unless ``bind`` names one address. New meetings go to the usual port if it is free,
else to any free one; a reopened meeting needs its old port back. A server with no live meeting
for IDLE_CLOSE_S is closed. Once ``closed`` is set no new server opens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.errors import PeerMeetError, os_reason
from app.meeting.links import parse_link
from app.meeting.store import MeetingRecord
from app.net.addresses import free_dual_stack_port
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys

log = logging.getLogger(__name__)

#: an embedded server with no live meeting for this long is closed
IDLE_CLOSE_S = 600.0


def room_id(record: MeetingRecord) -> str:
    """The id of a meeting's room in its server's registry."""
    return RoomKeys.from_secret(parse_link(record.link).secret).room_id


class ServerPool:
    def __init__(self, clock: Callable[[], float], bind: str | None, preferred_port: int) -> None:
        self._clock, self._bind, self._preferred_port = clock, bind, preferred_port
        self._servers: dict[int, tuple[RendezvousServer, bool]] = {}  # port -> (server, ipv6)
        self._busy_at: dict[int, float] = {}  # port -> last time it had a live meeting
        #: shutting down: no new server opens
        self.closed = False

    def __len__(self) -> int:
        return len(self._servers)

    def __contains__(self, port: int) -> bool:
        return port in self._servers

    def get(self, port: int) -> tuple[RendezvousServer, bool] | None:
        """The server on ``port`` and whether it is the IPv6 one, if it runs."""
        return self._servers.get(port)

    def bind_for(self, ipv6: bool) -> str:
        """The address a server is bound to ("" is every IPv4 and IPv6 interface)."""
        if self._bind is not None:
            return self._bind
        return "" if ipv6 else "0.0.0.0"

    async def for_new_room(self, ipv6: bool) -> RendezvousServer:
        """A running server for a new meeting: the one already open, else a new one."""
        for server, v6 in self._servers.values():
            if v6 == ipv6:
                return server
        ports = dict.fromkeys((self._preferred_port, 0))  # the usual port, else any free one
        for port in ports:
            try:
                return await self.open(port, ipv6)
            except OSError as exc:
                why = os_reason(exc)
        raise PeerMeetError(
            f"Could not open a network port for the meeting ({why}). "
            + ("Try again with IPv6 off." if ipv6 else "Check the firewall, then try again.")
        )

    async def open(self, port: int, ipv6: bool) -> RendezvousServer:
        """The server on ``port``, started now if needed (OSError if the port is taken)."""
        if port in self._servers:
            return self._servers[port][0]
        if self.closed:
            raise PeerMeetError("PeerMeet is shutting down.")
        bind = self.bind_for(ipv6)
        if port == 0 and bind == "":
            port = free_dual_stack_port()  # IPv4 and IPv6 sockets must share one port
        server = RendezvousServer(host=bind, port=port, clock=self._clock, own_rooms_only=True)
        try:
            await server.start()
        except BaseException:
            await server.close()
            raise
        self._servers[server.port] = (server, ipv6)
        self._busy_at[server.port] = self._clock()
        return server

    async def close_idle(self, live_ports: set[int]) -> None:
        """Close every server that had no live meeting (none on ``live_ports``) for a while."""
        now = self._clock()
        for port in list(self._servers):
            if port in live_ports:
                self._busy_at[port] = now
            elif now - self._busy_at.get(port, now) >= IDLE_CLOSE_S:
                server, _ = self._servers.pop(port)
                log.info("closing the idle rendezvous on port %d", port)
                await server.close()

    async def close(self) -> None:
        """Close every server; none opens after this. Idempotent."""
        self.closed = True
        servers, self._servers = self._servers, {}
        for server, _ in servers.values():
            await server.close()
