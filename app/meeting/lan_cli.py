"""Headless LAN flows: ``peermeet lan list``, ``peermeet lan knock ROOM`` (then the runner joins
with the link it returns) and the LAN side of ``peermeet host --headless``. Progress on stderr."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import sys
import time
from pathlib import Path

from app.errors import PeerMeetError
from app.meeting.host import HostedRoom
from app.meeting.lan import HostLan, choose_room, knock_room, lan_scope
from app.meeting.links import Link
from app.meeting.stopping import unless_stopped
from app.net.discovery import Discovery
from app.net.knock import HostIdentity, pretty_fingerprint
from app.net.knockdesk import KnockRequest
from app.net.lanroom import FoundRoom
from app.net.pins import PinStore

SETTLE_S = 1.0  # after the room shows up, listen a little longer for others of that name
_console = asyncio.Lock()


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _pins(args: argparse.Namespace) -> PinStore:
    return PinStore(Path(args.pins) if args.pins else None)


def main(args: argparse.Namespace) -> int:
    """``peermeet lan …`` other than a headless knock (the runner does that one)."""
    if args.lan_command == "list":
        return asyncio.run(list_rooms(args))
    if args.lan_command == "knock":
        say("peermeet: lan knock runs with --headless; the desktop app has its own LAN room list")
    else:
        say("peermeet: say `peermeet lan list` or `peermeet lan knock ROOM-NAME --headless`")
    return 2


async def list_rooms(args: argparse.Namespace) -> int:
    """Browse for ``--seconds`` (with ``--room``: until that room shows up, plus SETTLE_S for
    others of that name), then print each room as one JSON line."""
    pins = _pins(args)
    discovery = Discovery(args.interface or None)
    try:
        if args.room is not None:
            found = await find_rooms(discovery, args.room, args.seconds)
            rooms = [room for room in found if room.info.room == args.room]
        else:
            browser = discovery.browse(lambda rooms: None)
            await asyncio.sleep(args.seconds)
            rooms = browser.rooms
            await browser.close()
    finally:
        await discovery.close()
    now = time.time()
    for room in rooms:
        check = pins.check(room.info.room, room.info.fingerprint)
        row = {**room.to_json(now), "pin": check.status, "warning": check.warning}
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


async def find_rooms(discovery: Discovery, name: str, seconds: float) -> list[FoundRoom]:
    """Browse until room ``name`` shows up (plus SETTLE_S) or ``seconds`` pass."""
    seen = asyncio.Event()
    browser = discovery.browse(
        lambda rooms: seen.set() if any(r.info.room == name for r in rooms) else None
    )
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(seen.wait(), seconds)
        if seen.is_set():
            await asyncio.sleep(SETTLE_S)
        return browser.rooms
    finally:
        await browser.close()


async def knock_link(args: argparse.Namespace, stop: asyncio.Event | None = None) -> Link:
    """Find the room, knock, show the code; the link once the host admits us. Setting ``stop``
    (Ctrl-C) withdraws the knock and raises KeyboardInterrupt."""
    if stop is None:
        return await _find_and_knock(args)
    return await unless_stopped(_find_and_knock(args), stop, lambda: say("stopped knocking"))


async def _find_and_knock(args: argparse.Namespace) -> Link:
    pins = _pins(args)
    discovery = Discovery(args.interface or None)
    try:
        found = await find_rooms(discovery, args.room, args.find_seconds)
    finally:
        await discovery.close()
    choice = choose_room(
        found, args.room, pins, fingerprint=args.fingerprint, accept_new_key=args.accept_new_key
    )
    for warning in choice.warnings:
        say(warning)
    info = choice.room.info
    say(
        f"knocking on “{info.room}” hosted by {info.host} "
        f"(host key {pretty_fingerprint(info.fingerprint)}) …"
    )

    def on_code(code: str, timeout_s: int) -> None:
        say(f"knock code: {code} — check that the host sees the same code.")
        say(f"waiting up to {timeout_s} s for the host to let you in …")

    link = await knock_room(choice.room, args.display_name or "guest", on_code, pins=pins)
    say("admitted: joining the meeting")
    return link


async def host_lan(
    args: argparse.Namespace, room: HostedRoom, link: Link, host_name: str
) -> HostLan | None:
    """Announce the hosted room and take knocks, when asked or by default on a LAN address."""
    announce = args.announce
    if announce is None:
        announce = room.server is not None and not _is_loopback(args.bind)
    if not announce:
        return None
    if room.server is None:
        raise PeerMeetError("LAN announcing needs the embedded rendezvous: drop --rendezvous.")
    interfaces, addresses = lan_scope(args.bind)
    identity = HostIdentity.load_or_create(Path(args.identity) if args.identity else None)
    lan = HostLan(
        room.server,
        link,
        host_name,
        args.size,
        identity=identity,
        ask=_auto_admit if args.auto_admit else _ask_console,
        interfaces=interfaces,
        addresses=addresses,
        knock_timeout=args.knock_timeout,
        say=say,  # each knock, and how it ended
    )
    try:
        await lan.start()
    except BaseException:
        await lan.close()
        raise
    say(
        f"announcing “{link.room}” on the LAN (host key {pretty_fingerprint(identity.fingerprint)})"
    )
    return lan


def _is_loopback(bind: str) -> bool:
    try:
        return bind == "localhost" or ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


async def _auto_admit(request: KnockRequest) -> bool:
    """--auto-admit (HostLan says the knock and that it was let in, or why not)."""
    return True


async def _ask_console(request: KnockRequest) -> bool:
    """y/n on a terminal; otherwise wait, so the knock times out (the guest is told). HostLan
    says the knock before, and how it ended after."""
    if not sys.stdin.isatty():
        say("not a terminal: the knock will time out (start the host with --auto-admit to admit)")
        await asyncio.Event().wait()  # cancelled by the knock desk's timeout
    async with _console:
        say(f"admit {request.name}? [y/N] ")
        answer = await _read_line()
    return answer.strip().lower() in ("y", "yes")


async def _read_line() -> str:
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()
    fd = sys.stdin.fileno()

    def readable() -> None:
        if not line.done():
            line.set_result(sys.stdin.readline())

    loop.add_reader(fd, readable)
    try:
        return await line
    finally:
        loop.remove_reader(fd)
