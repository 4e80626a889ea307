"""The host's side of a meeting: its embedded rendezvous (or an outside one) and the link."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace

from app.errors import PeerMeetError
from app.meeting.links import Link, new_secret, slugify
from app.net.addresses import advertised_host, host_port, listen_on
from app.net.rendezvous import RendezvousServer
from app.net.serverproc import listen_problem

log = logging.getLogger(__name__)
SIZES = ("small", "mid", "large")
DEFAULT_LIFETIME_S = 3 * 3600


class HostedRoom:
    """Starts the embedded rendezvous (unless ``rendezvous`` names an outside one) and makes the
    share link. The Session then creates the room on it. Owns the embedded server."""

    def __init__(
        self,
        name: str,
        *,
        bind: str = "0.0.0.0",
        port: int = 0,
        advertise: str | None = None,
        rendezvous: Link | None = None,  # a template from links.parse_rendezvous
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.room = slugify(name)
        self._bind, self._port, self._advertise = bind, port, advertise
        self._outside = rendezvous
        self._random = random
        self.server: RendezvousServer | None = None
        self.link: Link | None = None

    async def start(self) -> Link:
        secret = new_secret(self._random)
        if self._outside is not None:
            base = self._outside
            self.link = Link(base.host, base.port, self.room, secret, secure=base.secure)
            return self.link
        host, port = listen_on(self._bind, self._port)  # ("::": IPv4 too)
        self.server = RendezvousServer(host=host, port=port)
        try:
            port = await self.server.start()
        except OSError as exc:  # port taken, an address this computer does not have, a bad name
            self.server = None
            why = listen_problem(
                self._bind, self._port, exc, host_option="--bind", other="another PeerMeet host?"
            )
            raise PeerMeetError(why) from None
        host = self._advertise or advertised_host(self._bind)
        self.link = Link(host, port, self.room, secret)
        log.info("embedded rendezvous on %s", host_port(self._bind, port))
        return self.link

    @property
    def own_link(self) -> Link | None:
        """The link the host's own app enters by: the share link, but for an embedded
        rendezvous this computer's own address, not ``--advertise`` (a public name or a NAT's
        address this computer may not reach itself). None before :meth:`start`."""
        if self.link is None or self.server is None or self._advertise is None:
            return self.link
        local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self._bind, self._bind)
        return replace(self.link, host=local)

    async def close(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            await server.close()
