"""LAN discovery over mDNS/DNS-SD: the only module that imports zeroconf.

A host announces its room as ``<room>-<fp8>._peermeet._tcp.local.`` with the TXT fields of
``app.net.lanroom.LanRoom`` (never the secret); guests browse for that type. Everything heard
is an untrusted hint (``parse_txt``). Zeroconf binds every usable interface explicitly (IPv4 and
IPv6), so discovery works on a LAN with no internet and no default route; tests pass
``interfaces=["127.0.0.1"]`` to keep multicast on loopback. Records live ``TTL_S`` seconds; a
room whose records aged out is asked for again, so a crashed host's room leaves the list about
two minutes later; a clean exit sends goodbyes and it vanishes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from zeroconf import DNSQuestionType, InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from app.errors import PeerMeetError, ProtocolError
from app.net.lanroom import FoundRoom, LanRoom, parse_txt

log = logging.getLogger(__name__)
# zeroconf logs every failed multicast send with a traceback at WARNING; on "all interfaces" that
# includes IPv6 loopback and interfaces without a multicast route, where failing is expected.
logging.getLogger("zeroconf").setLevel(logging.ERROR)
SERVICE_TYPE = "_peermeet._tcp.local."
TTL_S = 120
MAX_ROOMS = 256
RESOLVE_MS = 3000
TICK_S = 5.0  # how often the list is checked for rooms past their time or gone quiet
OnChange = Callable[[list[FoundRoom]], None]


def _ip_version(interfaces: Sequence[str]) -> IPVersion:
    versions = {ipaddress.ip_address(i.split("%")[0]).version for i in interfaces}
    return {frozenset({4}): IPVersion.V4Only, frozenset({6}): IPVersion.V6Only}.get(
        frozenset(versions), IPVersion.All
    )


class Discovery:
    """One zeroconf instance (sockets on every interface, or on ``interfaces``). Owns it."""

    def __init__(self, interfaces: Sequence[str] | None = None) -> None:
        try:
            if interfaces:
                self._zc = AsyncZeroconf(
                    interfaces=list(interfaces), ip_version=_ip_version(interfaces)
                )
            else:
                self._zc = AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.All)
        except (OSError, ValueError) as exc:
            raise PeerMeetError(
                f"LAN discovery is not available here ({exc}). Use a meeting link instead."
            ) from None
        self._closed = False
        #: on loopback only (tests, demos) rooms are at 127.0.0.1; on a network an announced
        #: loopback address would point the guest at a service of its own computer instead
        self.loopback_ok = bool(interfaces) and all(
            ipaddress.ip_address(i.split("%")[0]).is_loopback for i in interfaces or ()
        )

    async def announce(self, room: LanRoom, port: int, addresses: Sequence[str]) -> Announcement:
        announcement = Announcement(self._zc, room, port, addresses)
        await announcement.start()
        return announcement

    def browse(self, on_change: OnChange, *, clock: Callable[[], float] = time.time) -> RoomBrowser:
        return RoomBrowser(self._zc, on_change, clock, loopback_ok=self.loopback_ok)

    async def close(self) -> None:
        """Withdraw every announcement (goodbyes) and close the sockets. Idempotent."""
        if not self._closed:
            self._closed = True
            await self._zc.async_close()


class Announcement:
    """One announced room: ``update`` when people/expiry change, ``withdraw`` when it is over."""

    def __init__(
        self, zc: AsyncZeroconf, room: LanRoom, port: int, addresses: Sequence[str]
    ) -> None:
        self._zc, self._port, self._addresses = zc, port, list(addresses)
        self.room = room
        self._instance = f"{room.room[:50]}-{room.fingerprint[:8]}.{SERVICE_TYPE}"
        self._server = f"peermeet-{room.fingerprint[:8]}-{secrets.token_hex(3)}.local."
        self._serial = 0  # in the TXT, so no update repeats an earlier one (see _make_info)
        self._info = self._make_info(room)
        self._broadcasts: set[asyncio.Future[Any]] = set()
        self._state = "new"  # new | live | withdrawn

    def _make_info(self, room: LanRoom) -> AsyncServiceInfo:
        """The TXT carries a serial that each update raises: an update equal to an earlier
        record (people 1 -> 2 -> 1) was not news to a browser's cache, which dropped both and
        then the room (browsers ignore keys they do not know)."""
        self._serial += 1
        return AsyncServiceInfo(
            SERVICE_TYPE,
            self._instance,
            port=self._port,
            properties={**room.to_txt(), "s": str(self._serial)},
            server=self._server,
            parsed_addresses=self._addresses,
            host_ttl=TTL_S,
            other_ttl=TTL_S,
        )

    async def start(self) -> None:
        self._keep(await self._zc.async_register_service(self._info, allow_name_change=True))
        self._instance = self._info.name
        self._state = "live"
        log.info("announcing %s on the LAN (port %d)", self._instance, self._port)

    async def update(self, room: LanRoom) -> None:
        if self._state != "live" or room == self.room:
            return
        self.room, self._info = room, self._make_info(room)
        self._keep(await self._zc.async_update_service(self._info))

    async def withdraw(self) -> None:
        """Say goodbye so browsers drop the room at once. Idempotent."""
        if self._state != "live":
            self._state = "withdrawn"
            return
        self._state = "withdrawn"
        for fut in self._broadcasts:
            fut.cancel()
        with contextlib.suppress(Exception):
            await (await self._zc.async_unregister_service(self._info))
        log.info("withdrew %s from the LAN", self._instance)

    def _keep(self, fut: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(fut)
        self._broadcasts.add(task)
        task.add_done_callback(self._broadcasts.discard)


class RoomBrowser:
    """A live list of valid, unexpired rooms; ``on_change`` gets the whole list on each change."""

    def __init__(
        self,
        zc: AsyncZeroconf,
        on_change: OnChange,
        clock: Callable[[], float],
        loopback_ok: bool = False,
    ) -> None:
        self._zc, self._on_change, self._clock = zc, on_change, clock
        self._loopback_ok = loopback_ok
        self._found: dict[str, FoundRoom] = {}
        self._resolving: dict[str, asyncio.Task[None]] = {}
        self._shown: list[FoundRoom] = []
        self._closed = False
        # Multicast answers asked for from the first query: an answer sent straight to port
        # 5353 of this computer reaches only one of the programs sharing it (another browser,
        # a host, avahi), so a first "unicast" question went unanswered here for a second.
        self._browser = AsyncServiceBrowser(
            zc.zeroconf, SERVICE_TYPE, handlers=[self._on_service], question_type=DNSQuestionType.QM
        )
        self._ticker = asyncio.create_task(self._tick(), name="lan-browse-tick")

    @property
    def rooms(self) -> list[FoundRoom]:
        now = self._clock()
        live = [r for r in self._found.values() if r.info.expires_at > now]
        return sorted(live, key=lambda r: (r.info.room, r.instance))

    async def close(self) -> None:
        """Stop browsing and cancel pending look-ups. Idempotent."""
        if self._closed:
            return
        self._closed = True
        tasks = [self._ticker, *self._resolving.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._browser.async_cancel()

    def _on_service(
        self, zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if self._closed:
            return
        old = self._resolving.pop(name, None)
        if old is not None:
            old.cancel()
        if state_change is ServiceStateChange.Removed:
            if self._found.pop(name, None) is not None:
                self._notify()
        elif name in self._found or len(self._found) < MAX_ROOMS:
            self._resolving[name] = asyncio.create_task(self._resolve(name))

    async def _resolve(self, name: str) -> None:
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        try:
            if not await info.async_request(self._zc.zeroconf, RESOLVE_MS):
                if self._found.pop(name, None) is not None:  # its host stopped answering
                    self._notify()
                return
            room = parse_txt(info.properties)
        except ProtocolError as exc:
            log.debug("ignoring LAN announcement %s: %s", name, exc)
            return
        finally:
            if self._resolving.get(name) is asyncio.current_task():
                del self._resolving[name]
        addresses = usable(info.parsed_addresses(), loopback=self._loopback_ok)
        if info.port and addresses:
            self._found[name] = FoundRoom(name, room, addresses, int(info.port))
            self._notify()

    def _notify(self) -> None:
        rooms = self.rooms
        if rooms == self._shown:
            return
        self._shown = rooms
        try:
            self._on_change(rooms)
        except Exception:
            log.exception("LAN room listener failed")

    async def _tick(self) -> None:
        """Rooms past their expiry leave the list; so do rooms whose host crashed (no goodbye):
        once their records age out of the cache (TTL_S), they are asked for again, and dropped
        if nobody answers. (Pointer records live far longer: zeroconf keeps them 75 minutes.)"""
        while True:
            await asyncio.sleep(TICK_S)
            for name in list(self._found):
                if name not in self._resolving and not self._cached(name):
                    self._resolving[name] = asyncio.create_task(self._resolve(name))
            self._notify()

    def _cached(self, name: str) -> bool:
        return bool(AsyncServiceInfo(SERVICE_TYPE, name).load_from_cache(self._zc.zeroconf))


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host": 0.1.2.3 reaches 127.0.0.1 too


def usable(addresses: Sequence[str], loopback: bool = False) -> tuple[str, ...]:
    """Addresses worth dialing: unicast, no link-local (zone ids do not fit in URLs), no
    loopback unless ``loopback``, IPv4 first."""
    found = []
    for text in addresses:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            continue
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # (::ffff:127.0.0.1 is not is_loopback, but reaches it)
        if (addr.is_loopback or addr in _THIS_NETWORK) and not loopback:
            continue
        if not (addr.is_multicast or addr.is_unspecified or addr.is_link_local or addr.is_reserved):
            found.append(addr)
    found.sort(key=lambda a: a.version)
    return tuple(str(a) for a in found[:8])
