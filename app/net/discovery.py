"""LAN discovery over mDNS/DNS-SD: the only module that imports zeroconf.

A host announces its room as ``<room>-<fp8>._peermeet._tcp.local.`` with the TXT fields of
``app.net.lanroom.LanRoom`` (never the secret); guests browse for that type. Everything heard
is an untrusted hint (``parse_txt``). Zeroconf binds every usable interface explicitly (IPv4 and
IPv6), so discovery works on a LAN with no internet and no default route; tests pass
``interfaces=["127.0.0.1"]`` to keep multicast on loopback. Records live ``TTL_S`` seconds; a
room whose records aged out is asked for again, so a crashed host's room leaves the list about
two minutes later; a clean exit sends goodbyes and it vanishes at once.

A browser also asks once from a port of its own (``_ask_once``, docs/signaling-protocol.md):
a second program on this computer starting to browse just after another (``lan list`` beside
``lan knock``) otherwise heard no answer for a second or more.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from zeroconf import DNSQuestionType, InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf import __version__ as zeroconf_version
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from app.errors import PeerMeetError, ProtocolError
from app.net.addresses import usable
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
RETRY_MAX_S = 60.0  # longest wait before asking again for a room whose look-up failed
ASK_ONCE_S = 1.0  # how long the port of a browser's own first question waits for answers
_MDNS_PORT, _MDNS_V4, _MDNS_V6 = 5353, "224.0.0.251", "ff02::fb"
_PTR, _IN = 12, 1  # DNS record type and class
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
        query_id: int | None = None,
    ) -> None:
        """``query_id``: the DNS ID of its one-shot first question (random, not 0)."""
        self._zc, self._on_change, self._clock = zc, on_change, clock
        self._loopback_ok = loopback_ok
        self._found: dict[str, FoundRoom] = {}
        self._resolving: dict[str, asyncio.Task[None]] = {}
        #: rooms whose look-up failed, still listed by the network: when to ask again, and the
        #: wait before that (doubled each time)
        self._unresolved: dict[str, tuple[float, float]] = {}
        self._shown: list[FoundRoom] = []
        self._closed = False
        # Multicast answers asked for from the first query: an answer sent straight to port
        # 5353 of this computer reaches only one of the programs sharing it (another browser,
        # a host, avahi), so a first "unicast" question went unanswered here for a second.
        self._browser = AsyncServiceBrowser(
            zc.zeroconf, SERVICE_TYPE, handlers=[self._on_service], question_type=DNSQuestionType.QM
        )
        self._ticker = asyncio.create_task(self._tick(), name="lan-browse-tick")
        self._asking = asyncio.create_task(
            _ask_once(zc.zeroconf, query_id or _new_id()), name="lan-ask-once"
        )

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
        tasks = [self._ticker, self._asking, *self._resolving.values()]
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
        self._unresolved.pop(name, None)  # (news of it: asked for at once)
        if state_change is ServiceStateChange.Removed:
            if self._found.pop(name, None) is not None:
                self._notify()
        elif name in self._found or len(self._found) < MAX_ROOMS:
            self._resolving[name] = asyncio.create_task(self._resolve(name))

    async def _resolve(self, name: str, waited: float = 0.0) -> None:
        """Look ``name`` up (``waited``: it failed before, and was asked for again after this
        many seconds)."""
        info = AsyncServiceInfo(SERVICE_TYPE, name)
        try:
            if not await info.async_request(self._zc.zeroconf, RESOLVE_MS):
                if self._found.pop(name, None) is not None:  # its host stopped answering
                    self._notify()
                if len(self._unresolved) < MAX_ROOMS:  # (asked for again: a host's network
                    wait = min(2 * waited, RETRY_MAX_S) if waited else TICK_S  # came back)
                    self._unresolved[name] = (self._clock() + wait, wait)
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
        if nobody answers. (Pointer records live far longer: zeroconf keeps them 75 minutes.)
        A room whose look-up failed is asked for again, less and less often, as long as its
        pointer record lasts: its host's network may have been gone for a moment, and nothing
        else would ask for it again (its host announces it only when it changes)."""
        while True:
            await asyncio.sleep(TICK_S)
            for name in list(self._found):
                if name not in self._resolving and not self._cached(name):
                    self._resolving[name] = asyncio.create_task(self._resolve(name))
            now = self._clock()
            for name, (due, wait) in list(self._unresolved.items()):
                if now >= due and name not in self._resolving:
                    del self._unresolved[name]
                    self._resolving[name] = asyncio.create_task(self._resolve(name, wait))
            self._notify()

    def _cached(self, name: str) -> bool:
        return bool(AsyncServiceInfo(SERVICE_TYPE, name).load_from_cache(self._zc.zeroconf))


def _new_id() -> int:
    return secrets.randbelow(0xFFFF) + 1  # (not 0: the ID of every multicast question)


class _Answers(asyncio.DatagramProtocol):
    """Answers to a one-shot question, put in zeroconf's cache as if heard on port 5353."""

    def __init__(self, zc: Zeroconf, query_id: int) -> None:
        from zeroconf._protocol.incoming import DNSIncoming  # (see _ask)

        self._zc, self._id, self._incoming = zc, query_id, DNSIncoming

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if addr[1] != _MDNS_PORT:
            return
        msg = self._incoming(data, (str(addr[0]), _MDNS_PORT))
        if msg.valid and msg.is_response() and msg.id == self._id:
            self._zc.record_manager.async_updates_from_response(msg)

    def error_received(self, exc: Exception) -> None:
        log.debug("one-shot LAN question: %s", exc)


async def _ask_once(zc: Zeroconf, query_id: int) -> None:
    """Ask for the rooms once from a port of our own on each of zeroconf's interfaces (a "legacy
    unicast" query, RFC 6762 6.7): responders answer such a query at once, straight to that
    port, so only this program hears it. Its ID makes it unlike any other program's question:
    zeroconf ignores a query equal to one it took less than 800 ms before, from whoever it
    came, so a second program on this computer that started browsing just after a first one
    had its first question dropped, and had missed the answer to the first one's (sent before
    it listened); it learned of the rooms only when its browser asked again a second later."""
    await zc.async_wait_for_start()
    try:
        await _ask(zc, query_id)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:  # (its inner parts moved)
        log.info("no one-shot LAN question (zeroconf %s): %r", zeroconf_version, exc)


async def _ask(zc: Zeroconf, query_id: int) -> None:
    from zeroconf._dns import DNSQuestion  # (not exported: imported here, and it may move)
    from zeroconf._protocol.outgoing import DNSOutgoing

    out = DNSOutgoing(0, False, query_id)  # (a multicast one is sent with ID 0)
    out.add_question(DNSQuestion(SERVICE_TYPE, _PTR, _IN))
    (packet,) = out.packets()
    loop = asyncio.get_running_loop()
    transports: list[asyncio.BaseTransport] = []
    try:
        for sender in list(zc.engine.senders):
            try:
                sock, to = _one_shot_socket(sender.sock_name, sender.is_ipv6)
            except OSError as exc:  # an interface that cannot send multicast: expected
                log.debug("no one-shot LAN question on %s: %s", sender.sock_name, exc)
                continue
            try:
                endpoint, _ = await loop.create_datagram_endpoint(
                    lambda: _Answers(zc, query_id), sock=sock
                )
            except OSError as exc:
                sock.close()
                log.debug("no one-shot LAN question on %s: %s", sender.sock_name, exc)
                continue
            transports.append(endpoint)
            endpoint.sendto(packet, to)
        await asyncio.sleep(ASK_ONCE_S)
    finally:
        for transport in transports:
            transport.close()


def _one_shot_socket(bound: tuple[Any, ...], ipv6: bool) -> tuple[socket.socket, tuple[Any, ...]]:
    """A UDP socket on an ephemeral port of zeroconf's sending address ``bound``, set to send
    multicast out of that interface; and where to send the question."""
    family = socket.AF_INET6 if ipv6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        if ipv6:
            scope = int(bound[3]) if len(bound) > 3 else 0
            sock.bind((bound[0], 0, 0, scope))
            if scope:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, scope)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
            return sock, (_MDNS_V6, _MDNS_PORT, 0, scope)
        sock.bind((bound[0], 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(bound[0]))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        return sock, (_MDNS_V4, _MDNS_PORT)
    except OSError:
        sock.close()
        raise
