"""Command line: wiring only. Builds objects, injects config, owns the event loop.

peermeet                         the desktop app (or a headless demo where there is no display)
peermeet host --headless --name NAME [--size small|mid|large] [--lifetime 3h] [--port P]
peermeet join LINK --headless [--seconds N] [--stats-json PATH]
peermeet lan list [--seconds N] [--room NAME]  rooms announced on the LAN, as JSON lines
peermeet lan knock ROOM-NAME --headless  knock on a LAN room; join once the host admits you
peermeet demo [--seconds 10]
peermeet-rendezvous --host 0.0.0.0 --port 8765 [--turn-secret S --turn-url URL]
host/join --headless also take --stun URL, --turn URL --turn-user U --turn-pass P (or
PEERMEET_TURN_PASS), --relay-only; without --headless host takes only --name, join only the
link and --muted (the window asks for the rest; anything else given is refused, exit status 2)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence

from app.cliargs import WINDOW_TAKES, build_parser, headless_only
from app.errors import LinkError, OptionError, PeerMeetError
from app.meeting.links import link_text, parse_link

EXIT_BAD_LINK, EXIT_UNREACHABLE = 2, 3


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
    if command in WINDOW_TAKES and not args.headless and (problem := headless_only(parser, args)):
        print(f"peermeet: {problem}", file=sys.stderr)
        return OptionError.exit_status
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
    from app.net.addresses import host_port

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
        print(f"peermeet-rendezvous listening on {host_port(args.host, port)}{https}", flush=True)
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
