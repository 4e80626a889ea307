"""``peermeet host --headless`` and ``peermeet join LINK --headless``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path

from app.config import EngineConfig
from app.errors import PeerMeetError, RendezvousUnreachable
from app.jsonfile import write_json
from app.meeting import events as ev
from app.meeting import netconfig
from app.meeting.headless import (
    MediaOptions,
    Reporter,
    build_media,
    close_media,
    engine_mode,
    measure,
    outcome_of,
)
from app.meeting.host import HostedRoom
from app.meeting.host_remote import in_host_words
from app.meeting.lan_cli import host_lan, knock_link
from app.meeting.links import link_text, parse_link, parse_rendezvous
from app.meeting.session import Session
from app.meeting.stopping import unless_stopped
from app.meeting.timeline import FrameTimeline
from app.net.peers import set_loopback_only


def _media_options(args: argparse.Namespace, label: str) -> MediaOptions:
    width, height = args.res  # (app.argtypes.video_size)
    return MediaOptions(
        args.synthetic,
        width,
        height,
        args.fps,
        label=label,
        baseline=getattr(args, "baseline", False),
        pin_quality=getattr(args, "pin_quality", False),
        noisy_pattern=getattr(args, "denoise", False),
        muted=getattr(args, "muted", False),
    )


async def run(args: argparse.Namespace, stop_event: Callable[[], asyncio.Event]) -> int:
    """The call; its statistics go to ``--stats-json`` however it ends (or fails to begin)."""
    written: list[str] = []  # the stats file, once the call's own are written
    try:
        return await _run(args, stop_event, written)
    except (PeerMeetError, KeyboardInterrupt) as exc:
        if args.stats_json and not written:  # (failed before the call's own stats existed)
            with contextlib.suppress(OSError):
                write_json(Path(args.stats_json), {**outcome_of(exc), "peers": {}})
        raise


async def _run(
    args: argparse.Namespace, stop_event: Callable[[], asyncio.Event], written: list[str]
) -> int:
    ice_servers = netconfig.user_servers(args)  # (wrong ones said before anything starts)
    stop = stop_event()
    name = args.display_name or getattr(args, "display_name_alias", None)
    room: HostedRoom | None = None
    if args.command == "host":
        lifetime = args.lifetime  # seconds (app.argtypes.duration)
        outside = parse_rendezvous(args.rendezvous) if args.rendezvous else None
        room = HostedRoom(
            args.name, bind=args.bind, port=args.port, advertise=args.advertise, rendezvous=outside
        )
        link = await room.start()
        name = name or "host"
    elif args.command == "lan":
        link = await knock_link(args, stop)
        name = name or "guest"
    else:
        link = parse_link(link_text(args.link, sys.stdin))  # (`join -`: read here, so a
        # missing link is said in --stats-json too)
        name = name or "guest"
    try:
        set_loopback_only(link.is_loopback)
        config = EngineConfig(
            display_name=name,
            loopback_only=link.is_loopback,
            ice_servers=ice_servers,
            connect_timeout_s=7.0,
            relay_only=args.relay_only,
            lan_only=args.command == "lan",  # found by LAN discovery: link-local/.local are fine
            rendezvous_addresses=await netconfig.rendezvous_addresses(
                link, outside=bool(getattr(args, "rendezvous", None))
            ),
        )
        engine_mode(
            getattr(args, "baseline", False),
            getattr(args, "codec", None),
            dtx=not getattr(args, "no_dtx", False),
        )
        media = build_media(_media_options(args, name), report=sys.stderr)
    except BaseException:  # (a hosted room is not left open behind a failed start)
        if room is not None:
            await room.close()
        raise
    session = Session(config, media)
    reporter = Reporter(session, chat_on_connect=list(args.chat))
    reporter.rendezvous, reporter.hosting = link.address, room is not None
    metrics = measure(media, reporter)
    timeline = FrameTimeline(session)
    timeline.start()
    session.subscribe(lambda e: stop.set() if isinstance(e, ev.SessionEnded) else None)
    lan_host = None
    try:
        metrics.start()
        if room is not None:
            own = room.own_link or link  # (--advertise: maybe not reachable from here)
            try:
                await unless_stopped(session.create(own, args.size, lifetime), stop, _stopped)
            except RendezvousUnreachable as exc:  # (a guest's words say "Check the link")
                if not args.rendezvous:
                    raise
                option = f"--rendezvous {args.rendezvous}"
                todo = f"Check {option}, and that the server runs and this computer is online."
                raise in_host_words(exc, todo, option) from None
            print(link, flush=True)  # the contract: the share link is stdout's first line
            lan_host = await host_lan(args, room, link, name)
        else:
            await unless_stopped(session.join(link), stop, _stopped)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.seconds)
    except (PeerMeetError, KeyboardInterrupt) as exc:  # (Ctrl+C: before the call started)
        reporter.failed(exc)
        raise
    finally:
        if lan_host is not None:
            await lan_host.close()
        await timeline.close()
        if args.stats_json:
            try:
                reporter.write_stats(args.stats_json)
                timeline.merge_into(args.stats_json)
                written.append(args.stats_json)
            except OSError as exc:  # (leaving goes on: the others must not see us drop)
                print(f"could not write {args.stats_json}: {exc}", file=sys.stderr, flush=True)
        await session.leave()
        await close_media(media)
        await metrics.aclose()
        if room is not None:
            await room.close()
    return 0


def _stopped() -> None:
    print("stopped before the call started", file=sys.stderr, flush=True)
