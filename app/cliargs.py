"""The ``peermeet`` command line's options, their --help, and which of them only a headless
call uses (the desktop window takes the link, the name and --muted)."""

from __future__ import annotations

import argparse

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


def _call_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """--headless and -v, then the group of options only a headless call uses (main() refuses
    them without --headless: the window would not use them)."""
    p.add_argument("--headless", action="store_true", help="no window: synthetic tone, no speaker")
    p.add_argument("-v", "--verbose", action="store_true", help="log what the call does")
    return p.add_argument_group(
        "with --headless (the desktop app asks for these in its dialogs and Settings)"
    )


def _media_args(p: argparse._ActionsContainer) -> None:
    p.add_argument("--synthetic", action="store_true", help="test pattern instead of the camera")
    p.add_argument("--display-name", help="your name as others see it")
    p.add_argument(
        "--res",
        type=video_size,
        default=(640, 480),
        metavar="WxH",
        help="video size (default 640x480)",
    )
    p.add_argument(
        "--fps",
        type=positive,
        default=30,
        metavar="N",
        help="video frames a second (default %(default)s)",
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
        "--chat",
        action="append",
        default=[],
        metavar="TEXT",
        help="say this to each peer on connect (repeatable)",
    )
    p.add_argument(
        "--muted",
        action="store_true",
        help="start with the microphone muted (peermeet join LINK: the Join dialog too)",
    )
    p.add_argument(
        "--stun",
        action="append",
        default=[],
        metavar="URL",
        help="STUN server, e.g. stun:host:3478",
    )
    p.add_argument(
        "--turn",
        action="append",
        default=[],
        metavar="URL",
        help="TURN server, e.g. turn:host:3478?transport=tcp",
    )
    p.add_argument("--turn-user", metavar="USER", help="TURN user name")
    p.add_argument(
        "--turn-pass",
        metavar="PASSWORD",
        help="TURN password (or set PEERMEET_TURN_PASS, which other users cannot see in the "
        "process list; if both are given, --turn-pass is used)",
    )
    p.add_argument(
        "--relay-only", action="store_true", help="only TURN relays: peers never see your address"
    )
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
    call = _call_options(host)
    call.add_argument(
        "--size",
        choices=("small", "mid", "large"),
        default="small",
        help="room size: small 4, mid 8, large 16 people (default %(default)s)",
    )
    call.add_argument(
        "--lifetime",
        type=duration,
        default=3 * 3600,
        help="how long the room lives: 3h, 90m, 1h30m … (default 3h)",
    )
    call.add_argument("--port", type=port, default=0, help="rendezvous port (0: any free port)")
    call.add_argument(
        "--bind",
        default="0.0.0.0",
        help="address the rendezvous listens on (default %(default)s: every IPv4 interface; :: "
        "every IPv4 and IPv6 one)",
    )
    call.add_argument(
        "--advertise",
        type=host_name,
        help="host name or address to put in the link (default: the --bind address; for "
        "0.0.0.0 this computer's LAN address)",
    )
    call.add_argument(
        "--rendezvous",
        type=rendezvous_address,
        help="use an outside rendezvous, e.g. https://meet.example",
    )
    call.add_argument(
        "--announce",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="announce the room on the LAN (default: when bound to a LAN address)",
    )
    call.add_argument("--auto-admit", action="store_true", help="let in everyone who knocks")
    call.add_argument(
        "--knock-timeout", type=seconds, default=60.0, help="seconds to answer a knock (default 60)"
    )
    call.add_argument(
        "--identity", metavar="PATH", type=out_file, help="host key file (default: user data dir)"
    )
    _media_args(call)
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
    _media_args(_call_options(join))
    lan = sub.add_parser("lan", help="meetings on this network, without a link")
    lan_sub = lan.add_subparsers(dest="lan_command")
    lan_list = lan_sub.add_parser("list", help="print rooms announced on the LAN as JSON lines")
    lan_list.add_argument(
        "--seconds", type=seconds, default=3.0, help="how long to listen (default 3)"
    )
    lan_list.add_argument(
        "--room",
        metavar="NAME",
        help="only rooms with this name; stop listening a second after one shows up",
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
    _media_args(_call_options(knock))
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


#: what the desktop window takes from `peermeet host/join` (the rest is for --headless)
WINDOW_TAKES = {"host": {"name"}, "join": {"link", "muted"}}


def headless_only(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """What to say about options given to ``args.command`` that the window would not use (""
    if none): it was silent about them (``peermeet join LINK --relay-only`` opened it without
    hiding the address)."""
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    used = WINDOW_TAKES[args.command] | {"command", "headless", "verbose", "help"}
    extra = [
        action.option_strings[-1]
        for action in commands.choices[args.command]._actions
        if action.dest not in used and getattr(args, action.dest, None) != action.default
    ]
    if not extra:
        return ""
    one = len(extra) == 1
    named = extra[0] if one else f"{', '.join(extra[:-1])} and {extra[-1]}"
    return (
        f"{named} {'works' if one else 'work'} only with --headless (a call without a window): "
        f"add --headless, or leave {'it' if one else 'them'} out to open the desktop app (its "
        "Settings has the camera, microphone, STUN/TURN servers and Hide my IP address)"
    )
