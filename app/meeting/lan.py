"""Meeting on a LAN without a link: the host announces its room and answers knocks; a guest picks
a room (with host-key pinning) and knocks. Qt-free: the CLI and the UI pass ``ask``/``on_code``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.errors import HostKeyChanged, PeerMeetError, RoomRefused
from app.meeting.links import Link
from app.net.addresses import lan_addresses
from app.net.discovery import Announcement, Discovery
from app.net.knock import GuestKey, HostIdentity, pretty_fingerprint
from app.net.knockdesk import KNOCK_TIMEOUT_S, KnockDecision, KnockDesk, KnockRequest
from app.net.knocker import OnCode, knock
from app.net.lanroom import FoundRoom, LanRoom
from app.net.pins import PinStore
from app.net.rendezvous import RendezvousServer
from app.net.seal import RoomKeys

log = logging.getLogger(__name__)
Ask = Callable[[KnockRequest], Awaitable[bool]]
WILDCARDS = ("0.0.0.0", "::", "")


def lan_scope(bind: str) -> tuple[list[str] | None, list[str]]:
    """(zeroconf interfaces or None for all, addresses to announce) for a rendezvous on ``bind``."""
    if bind in WILDCARDS:
        return None, lan_addresses(include_ipv6=bind == "::")
    return [bind], [bind]


class HostLan:
    """Announces one hosted room and admits knocks on its embedded rendezvous.

    Owns the announcement, the watcher task and (unless one is passed in) the Discovery.
    The watcher keeps the TXT's people count and expiry current and withdraws the room
    when it ends or expires. ``say`` gets a line for each knock as it comes (who, on which
    room, its code) and for how it ended (let in, turned away and why, not answered in time,
    or the guest stopped knocking): the headless host prints them on stderr."""

    def __init__(
        self,
        server: RendezvousServer,
        link: Link,
        host_name: str,
        size: str,
        *,
        identity: HostIdentity,
        ask: Ask,
        discovery: Discovery | None = None,
        interfaces: Sequence[str] | None = None,
        addresses: Sequence[str] = (),
        knock_timeout: float = KNOCK_TIMEOUT_S,
        poll_s: float = 1.0,
        say: Callable[[str], None] = lambda text: None,
    ) -> None:
        self.server, self.link, self.identity, self._say = server, link, identity, say
        self._host_name, self._size, self._ask = host_name, size, ask
        self._owns_discovery = discovery is None
        self._discovery = discovery or Discovery(interfaces)
        self._addresses = list(addresses) or [link.host]
        self._room_id = RoomKeys.from_secret(link.secret).room_id
        self._desk = KnockDesk(
            identity.public, self._decide, timeout=knock_timeout,
            on_missed=lambda r: say(
                f"nobody answered {_who(r)} on “{r.room}” within {knock_timeout:g} s: they "
                "were told, and can knock again"
            ),
            on_gone=lambda r: say(f"{_who(r)} stopped knocking on “{r.room}”"),
        )  # fmt: skip
        self._poll_s = poll_s
        self._announcement: Announcement | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._closed = False

    async def start(self) -> None:
        room = self._lan_room()
        if room is None:
            raise PeerMeetError(
                "The room is not open on this host's rendezvous; cannot announce it."
            )
        self.server.knocks = self._desk
        self._announcement = await self._discovery.announce(room, self.link.port, self._addresses)
        self._watcher = asyncio.create_task(self._watch(), name="lan-announce-watch")

    async def close(self) -> None:
        """Stop taking knocks, withdraw the announcement, close owned zeroconf. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.server.knocks is self._desk:
            self.server.knocks = None
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self._announcement is not None:
            await self._announcement.withdraw()
        if self._owns_discovery:
            await self._discovery.close()

    def _lan_room(self) -> LanRoom | None:
        room = self.server.rooms.get(self._room_id)
        if room is None or room.expires_at <= time.time():
            return None
        fp = self.identity.fingerprint
        people, expires = len(room.members), int(room.expires_at)
        return LanRoom(
            self.link.room, self._host_name, self._size, people, room.capacity, expires, fp
        )

    async def _watch(self) -> None:
        assert self._announcement is not None
        while True:
            await asyncio.sleep(self._poll_s)
            room = self._lan_room()
            try:
                if room is None:
                    await self._announcement.withdraw()
                    return
                await self._announcement.update(room)
            except Exception:  # keep the call going; the announcement may just be stale
                log.exception("could not update the LAN announcement")

    async def _decide(self, request: KnockRequest) -> KnockDecision:
        who, on = _who(request), f"“{request.room}”"
        self._say(f"{who} wants to join {on} — code {request.code}")
        refused = self._refusal(request)
        if refused is None:
            if not await self._ask(request):
                self._say(f"turned {who} away from {on}")
                return KnockDecision(False)
            refused = self._refusal(request)  # as it is now: it may have filled up, or ended
        if refused is not None:
            code, why = refused
            self._say(f"turned {who} away from {on}: {why}")
            return KnockDecision(False, refusal=code)
        box = self.identity.seal_secret(
            request.guest_pub, request.nonce, self.link.room, self.link.secret
        )
        self._say(f"let {who} in to {on}")
        return KnockDecision(True, box)

    def _refusal(self, request: KnockRequest) -> tuple[str, str] | None:
        """(code, why in words) if a knock cannot be let in (whatever the host would say)."""
        room = self._lan_room()
        if request.room != self.link.room:
            return "no_such_room", f"no meeting of that name here (this is “{self.link.room}”)"
        if room is None:
            return "no_such_room", "the meeting has ended"
        if room.people >= room.capacity:
            return "room_full", f"the room is full ({room.people} of {room.capacity})"
        return None


def _who(request: KnockRequest) -> str:
    return f"{request.name} ({request.remote})"


@dataclass(frozen=True)
class Choice:
    room: FoundRoom
    warnings: tuple[str, ...]  # show these, even when going ahead


def choose_room(
    found: Sequence[FoundRoom],
    name: str,
    pins: PinStore,
    *,
    fingerprint: str | None = None,
    accept_new_key: bool = False,
) -> Choice:
    """Which announcement of room ``name`` to knock on; never silently a host with a new key."""
    rooms = [r for r in found if r.info.room == name]
    if fingerprint:
        wanted = "".join(fingerprint.split()).lower()
        rooms = [r for r in rooms if r.info.fingerprint.startswith(wanted)]
    if not rooms:
        raise RoomRefused(
            "lan_not_found",
            f"No meeting named “{name}” is announced on this network"
            + (" with that host key" if fingerprint else "")
            + ". Check the name (peermeet lan list), or ask the host for the link.",
        )
    checks = {r.info.fingerprint: pins.check(name, r.info.fingerprint) for r in rooms}
    known = [r for r in rooms if checks[r.info.fingerprint].status == "known"]
    others = sorted({fp for fp in checks if not known or fp != known[0].info.fingerprint})
    warnings = tuple(checks[fp].warning for fp in others if checks[fp].warning)
    if known:
        note = tuple(
            f"Ignoring another announcement of “{name}” with key {pretty_fingerprint(fp)[:19]}… "
            "(not the host you met before; possibly forged)."
            for fp in others
        )
        return Choice(known[0], note)
    if len(checks) > 1:
        keys = ", ".join(pretty_fingerprint(fp)[:19] + "…" for fp in sorted(checks))
        raise HostKeyChanged(
            " ".join(warnings)
            + f" {len(checks)} hosts announce “{name}” with different keys ({keys}); one may be "
            "forged. Ask the host for their key and pass --fingerprint to pick it."
        )
    room = rooms[0]
    if checks[room.info.fingerprint].status == "changed" and not accept_new_key:
        raise HostKeyChanged(f"{warnings[0]} Pass --accept-new-key to knock anyway.")
    return Choice(room, warnings)


async def knock_room(
    room: FoundRoom,
    display_name: str,
    on_code: OnCode,
    *,
    pins: PinStore | None = None,
    connect_timeout: float = 5.0,
    key: GuestKey | None = None,
) -> Link:
    """Knock; once admitted, pin the host key and return the link to join with."""
    admission = await knock(room, display_name, on_code, connect_timeout=connect_timeout, key=key)
    if pins is not None:
        pins.remember(room.info.room, room.info.fingerprint)
    return Link(admission.address, admission.port, room.info.room, admission.secret)
