"""Command line: wiring only. Builds objects, injects config, owns the event loop.

peermeet                         the desktop app (or a headless demo where there is no display)
peermeet host --headless --name NAME [--size small|mid|large] [--lifetime 3h] [--port P]
peermeet join LINK --headless [--seconds N] [--stats-json PATH]
peermeet lan list [--seconds N]          rooms announced on the LAN, as JSON lines
peermeet lan knock ROOM-NAME --headless  knock on a LAN room; join once the host admits you
peermeet demo [--seconds 10]
peermeet-rendezvous --host 0.0.0.0 --port 8765 [--turn-secret S --turn-url URL]
host/join also take --stun URL, --turn URL --turn-user U --turn-pass P (or PEERMEET_TURN_PASS),
--relay-only
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from app.argtypes import (
    RawHelp,
    duration,
    epilog,
    host_name,
    meeting_name,
    out_file,
    port,
    positive,
    rendezvous_address,
    seconds,
    video_size,
    writable_file,
)
from app.errors import LinkError, PeerMeetError
from app.meeting.links import link_text, parse_link

EXIT_BAD_LINK, EXIT_UNREACHABLE = 2, 3
_EXITS = """exit status: 0 once in the call, however it ends (the last stderr line says how); 2 bad
link or option; 3 host unreachable; 4 refused by the room (wrong or outdated link, expired,
full); 5 (lan knock) the room's host key changed; 130/143 Ctrl+C/SIGTERM before the call
started; 1 anything else. Progress goes to stderr; --stats-json is written however it ends."""
_HOST_EPILOG = epilog(
    (
        "peermeet host --headless --name team-sync --synthetic --seconds 600 "
        "--stats-json host.json",
        "(stdout's first line is the share link)",
    ),
    _EXITS,
)
_JOIN_EPILOG = epilog(
    (
        "peermeet join 'peermeet://192.168.1.20:8765/team-sync#k=…' --headless --seconds 30",
        "peermeet join - --headless --stats-json stats.json < link.txt",
    ),
    _EXITS,
)


def _media_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--headless", action="store_true", help="no window: synthetic tone, no speaker")
    p.add_argument("--synthetic", action="store_true", help="test pattern instead of the camera")
    p.add_argument("--display-name", help="your name as others see it")
    p.add_argument(
        "--res", type=video_size, default=(640, 480), help="video size (default 640x480)"
    )
    p.add_argument(
        "--fps", type=positive, default=30, help="video frames a second (default %(default)s)"
    )
    p.add_argument(
        "--seconds",
        type=seconds,
        help="leave after this many seconds (default: stay until stopped)",
    )
    p.add_argument(
        "--stats-json",
        metavar="PATH",
        type=writable_file,
        help="write call statistics here on leaving",
    )
    p.add_argument(
        "--chat", action="append", default=[], help="say this to each peer on connect (repeatable)"
    )
    p.add_argument("--muted", action="store_true", help="join with the microphone muted")
    p.add_argument("--stun", action="append", default=[], help="STUN server, e.g. stun:host:3478")
    p.add_argument(
        "--turn", action="append", default=[], help="TURN server, e.g. turn:host:3478?transport=tcp"
    )
    p.add_argument("--turn-user", help="TURN user name")
    p.add_argument(
        "--turn-pass",
        help="TURN password (or set PEERMEET_TURN_PASS, which other users cannot see in the "
        "process list; if both are given, --turn-pass is used)",
    )
    p.add_argument(
        "--relay-only", action="store_true", help="only TURN relays: peers never see your address"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what the call does")
    # benchmarks only (bench/call.py): stock aiortc behaviour, fixed quality, the video codec
    p.add_argument("--baseline", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--pin-quality", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--denoise", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--codec", choices=("vp8", "h264"), help=argparse.SUPPRESS)
    p.add_argument("--no-dtx", action="store_true", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peermeet", description="Peer-to-peer video meetings.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="open the desktop app (default)")
    host = sub.add_parser(
        "host", help="start a meeting", epilog=_HOST_EPILOG, formatter_class=RawHelp
    )
    host.add_argument(
        "--name", required=True, type=meeting_name, help="meeting name, e.g. team-sync"
    )
    host.add_argument(
        "--size",
        choices=("small", "mid", "large"),
        default="small",
        help="room size: small 4, mid 8, large 16 people (default %(default)s)",
    )
    host.add_argument(
        "--lifetime",
        type=duration,
        default=3 * 3600,
        help="how long the room lives: 3h, 90m, 1h30m … (default 3h)",
    )
    host.add_argument("--port", type=port, default=0, help="rendezvous port (0: any free port)")
    host.add_argument(
        "--bind", default="0.0.0.0", help="address the rendezvous listens on (default %(default)s)"
    )
    host.add_argument(
        "--advertise",
        type=host_name,
        help="host name or address to put in the link (default: the --bind address; for "
        "0.0.0.0 this computer's LAN address)",
    )
    host.add_argument(
        "--rendezvous",
        type=rendezvous_address,
        help="use an outside rendezvous, e.g. https://meet.example",
    )
    host.add_argument(
        "--announce",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="announce the room on the LAN (default: when bound to a LAN address)",
    )
    host.add_argument("--auto-admit", action="store_true", help="let in everyone who knocks")
    host.add_argument(
        "--knock-timeout", type=seconds, default=60.0, help="seconds to answer a knock (default 60)"
    )
    host.add_argument(
        "--identity", metavar="PATH", type=out_file, help="host key file (default: user data dir)"
    )
    _media_args(host)
    join = sub.add_parser(
        "join", help="join a meeting by its link", epilog=_JOIN_EPILOG, formatter_class=RawHelp
    )
    join.add_argument(
        "link",
        help="the meeting link, or - to read it from standard input (other users of this "
        "computer can see a link given here in the process list; piped in, they cannot)",
    )
    join.add_argument(
        "--name", dest="display_name_alias", metavar="DISPLAY_NAME", help="same as --display-name"
    )
    _media_args(join)
    lan = sub.add_parser("lan", help="meetings on this network, without a link")
    lan_sub = lan.add_subparsers(dest="lan_command")
    lan_list = lan_sub.add_parser("list", help="print rooms announced on the LAN as JSON lines")
    lan_list.add_argument(
        "--seconds", type=seconds, default=3.0, help="how long to listen (default 3)"
    )
    lan_list.add_argument("-v", "--verbose", action="store_true", help="log what discovery does")
    knock = lan_sub.add_parser(
        "knock",
        help="knock on a LAN room; join once the host admits you",
        epilog=_EXITS,
        formatter_class=RawHelp,
    )
    knock.add_argument("room", help="the room name, as `peermeet lan list` shows it")
    knock.add_argument(
        "--accept-new-key",
        action="store_true",
        help="knock even though the room's host key changed since last time",
    )
    knock.add_argument("--fingerprint", help="knock only on the host whose key starts like this")
    knock.add_argument(
        "--find-seconds", type=seconds, default=5.0, help="how long to look (default 5)"
    )
    _media_args(knock)
    for p in (lan_list, knock):
        p.add_argument(
            "--pins",
            metavar="PATH",
            type=out_file,
            help="host key pin file (default: user data dir)",
        )
        p.add_argument(
            "--interface",
            action="append",
            default=[],
            metavar="ADDR",
            help="use only this local address for discovery (default: all)",
        )
    demo = sub.add_parser("demo", help="a host and two synthetic guests on this machine")
    demo.add_argument("--seconds", type=seconds, default=10.0, help="how long to talk (default 10)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and "://" in args_list[0]:
        args_list.insert(0, "join")  # `peermeet LINK` joins
    parser = build_parser()
    args = parser.parse_args(args_list)
    logging.basicConfig(
        level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    command = args.command or "run"
    if command in _WINDOW_TAKES and not args.headless and (extra := _headless_only(parser, args)):
        named = extra[0] if len(extra) == 1 else f"{', '.join(extra[:-1])} and {extra[-1]}"
        print(
            f"peermeet: {named} {'works' if len(extra) == 1 else 'work'} only with --headless "
            "(a call without a window): add --headless, or leave "
            f"{'it' if len(extra) == 1 else 'them'} out to open the desktop app (its Settings "
            "has the camera, microphone, STUN/TURN servers and Hide my IP address)",
            file=sys.stderr,
        )
        return EXIT_BAD_LINK  # (2: a wrong option, as argparse says it)
    try:
        if command == "run" or (command == "join" and not args.headless):
            if command == "join":  # (headless, the runner reads a piped-in link)
                args.link = link_text(args.link, sys.stdin)
            return _desktop(args)
        if command == "demo":
            from app.meeting.demo import run_demo

            return asyncio.run(run_demo(args.seconds))
        if command in ("host", "join") and not args.headless:
            return _desktop(args)
        if command == "lan" and (args.lan_command != "knock" or not args.headless):
            from app.meeting import lan_cli

            return lan_cli.main(args)
        from app.meeting import runner

        return asyncio.run(runner.run(args, _stop_event))
    except LinkError as exc:
        print(f"peermeet: bad link: {exc}", file=sys.stderr)
        return EXIT_BAD_LINK
    except PeerMeetError as exc:
        print(f"peermeet: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 128 + (_SIGNALS[-1] if _SIGNALS else signal.SIGINT)  # 130 Ctrl-C, 143 SIGTERM


#: what the desktop window takes from `peermeet host/join` (the rest is for --headless)
_WINDOW_TAKES = {"host": {"name"}, "join": {"link", "muted"}}


def _headless_only(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The options given to ``args.command`` that the window would not use (it was silent
    about them: ``peermeet join LINK --relay-only`` opened it without hiding the address)."""
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    used = _WINDOW_TAKES[args.command] | {"command", "headless", "verbose", "help"}
    return [
        action.option_strings[-1]
        for action in commands.choices[args.command]._actions
        if action.dest not in used and getattr(args, action.dest, None) != action.default
    ]


def _stop_event() -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM, so the call is left cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stop_for(sig: signal.Signals) -> None:
        _SIGNALS.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_for, sig)
    return stop


_SIGNALS: list[signal.Signals] = []  # what stopped us (the exit status says which)


def _desktop(args: argparse.Namespace) -> int:
    """The window app where there is a display; otherwise explain and run the demo."""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        try:
            from app.ui.main import run_app
        except ImportError as exc:  # Qt libraries missing: say so, then show the demo
            print(f"The desktop app cannot start ({exc}).", file=sys.stderr)
        else:
            return int(run_app(args))
    if args.command in ("host", "join"):  # a job to do: say how to do it here, no demo
        if args.command == "join":
            parse_link(args.link)  # a bad link is said first (LinkError: exit 2)
        print(
            "peermeet: no desktop window can open here (no display). "
            f"To {args.command} without a window, add --headless: "
            f"peermeet {args.command} … --headless",
            file=sys.stderr,
        )
        return 1
    from app.meeting.demo import run_demo

    print("No desktop window available here; running a 10-second headless demo instead.\n")
    return asyncio.run(run_demo(10.0))


def rendezvous_main(argv: Sequence[str] | None = None) -> int:
    from app.net import rvoptions, serverproc

    args = rvoptions.build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    async def serve() -> int:
        serverproc.quiet_accept_errors(asyncio.get_running_loop())
        tls = rvoptions.load_tls(args)
        if tls is not None and tls.warning:  # (before "listening": said by then)
            print(f"peermeet-rendezvous: warning: {tls.warning}", file=sys.stderr, flush=True)
        server = rvoptions.build_server(args, tls)
        port = await server.start()
        https = " (https)" if tls is not None else ""
        print(f"peermeet-rendezvous listening on {args.host}:{port}{https}", flush=True)
        print(rvoptions.address_to_give(args.host, port, tls), flush=True)
        try:
            await _stop_event().wait()
        finally:
            await server.close()
        print("peermeet-rendezvous stopped", file=sys.stderr, flush=True)
        return 0

    serverproc.raise_fd_limit()
    try:
        return asyncio.run(serve())
    except PeerMeetError as exc:  # (OptionError: 2, as for peermeet host)
        print(f"peermeet-rendezvous: {exc}", file=sys.stderr)
        return exc.exit_status
    except OSError as exc:
        problem = serverproc.listen_problem(args.host, args.port, exc)
        print(f"peermeet-rendezvous: {problem}", file=sys.stderr)
        return 1
