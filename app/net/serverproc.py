"""What a standalone rendezvous process sets up before serving: enough file descriptors, and a
loop that does not flood its log when it runs out of them anyway.

A flood of TCP connections that never send a request holds a descriptor each until the
handshake timeout (the per-address limits start at the websocket upgrade). With the usual soft
limit of 1024 that is reached quickly; asyncio then logs "socket.accept() out of system
resource" with a traceback on every loop turn (tens of thousands of lines in seconds;
CPython gh-151615). So the soft limit is raised to the hard one, and that message is logged at
most once per ``QUIET_S``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from typing import Any

from app.errors import os_reason
from app.net.addresses import host_port

log = logging.getLogger(__name__)
QUIET_S = 10.0


def raise_fd_limit() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit; the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65_536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and wanted > soft:  # only ever up
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit from %d: %s", soft, exc)
    return soft


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, clock: Any = time.monotonic) -> None:
    """Log asyncio's accept failures (out of descriptors) once per QUIET_S, without traceback;
    everything else goes to the default handler as before."""
    last = [-QUIET_S]
    skipped = [0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if "accept()" not in str(context.get("message", "")):
            loop.default_exception_handler(context)
            return
        now = clock()
        if now - last[0] < QUIET_S:
            skipped[0] += 1
            return
        last[0] = now
        log.error(
            "cannot accept connections: %s (%d more like it not logged)",
            context.get("exception"),
            skipped[0],
        )
        skipped[0] = 0

    loop.set_exception_handler(handler)


def listen_problem(
    host: str,
    port: int,
    exc: OSError,
    *,
    host_option: str = "--host",
    other: str = "another peermeet-rendezvous?",
) -> str:
    """Why the server cannot listen on ``host``:``port``, and what to do about it (for
    ``peermeet host`` the address option is ``--bind``, and the other program another host)."""
    why = os_reason(exc)
    if exc.errno == errno.EADDRINUSE:
        todo = f"Another program ({other}) uses port {port}: stop it, or give another --port"
    elif exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        todo = f"This computer has no address {host}: give one of its own with {host_option}, or "
        todo += "0.0.0.0 for every interface"
    elif exc.errno == errno.EACCES and 0 < port < 1024:
        todo = "Ports below 1024 need root (or setcap cap_net_bind_service=+ep on python): "
        todo += "run it so, or give a --port from 1024 up"
    else:
        todo = ""
    where = host_port(host, port) if port else f"{host} (any port)"
    return f"cannot listen on {where}: {why}." + (f" {todo}." if todo else "")
