"""Whether the sound server (PulseAudio, or PipeWire's PulseAudio server) is there for Qt.

QtMultimedia 6.11's PulseAudio backend keeps one connection ("context") per process. When the
server dies Qt drops it and tries once more 3 s later; if the server is not back by then Qt
never tries again. Opening a device without that connection aborts the whole process
(``Assertion 'c' failed at pulse/context.c``), so QtAudioIO asks ``state()`` before opening
anything once a device failed:

- "ok": open devices as usual (also when we cannot tell: no PulseAudio socket known, or Qt
  never connected to it, i.e. Qt uses another backend);
- "down": the server's socket does not answer, or it answers but Qt is not (yet) connected
  again: wait;
- "lost": the server has been back for RECONNECT_S and Qt is still not connected: only a
  restart of the program brings sound back (we keep asking, in case Qt reconnects after all).

Qt's connection is found among this process's sockets: one connected to the server's path.
No Qt in here; the state is process-wide, as Qt's connection is.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Literal

State = Literal["ok", "down", "lost"]
RECONNECT_S = 5.0  # Qt tries to reconnect 3 s after losing the server; after this it will not


def socket_path() -> str | None:
    """The PulseAudio socket this process's clients use, or None if not a local one."""
    server = os.environ.get("PULSE_SERVER", "").strip()
    if server:
        for entry in server.split():  # a list of servers; "{machine-id}unix:/path" is allowed
            entry = entry.rsplit("}", 1)[-1]
            if entry.startswith("unix:"):
                return entry[len("unix:") :]
            if entry.startswith("/"):
                return entry
        return None  # tcp:…: nothing we can watch
    runtime = os.environ.get("PULSE_RUNTIME_PATH")
    if not runtime and os.environ.get("XDG_RUNTIME_DIR"):
        runtime = os.path.join(os.environ["XDG_RUNTIME_DIR"], "pulse")
    return os.path.join(runtime, "native") if runtime else None


def answers(path: str) -> bool:
    """Whether a server accepts connections on the unix socket ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def connected_here(path: str) -> bool:
    """Whether this process holds a live connection to the unix socket ``path`` (Qt's)."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return False
    for name in fds:
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            with socket.socket(fileno=os.dup(int(name))) as sock:  # a copy: closing it is safe
                if sock.family != socket.AF_UNIX or sock.getpeername() != path:
                    continue
                try:  # a connection whose server died reads as end of file
                    alive = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
                except BlockingIOError:
                    alive = True
                if alive:
                    return True
        except (OSError, ValueError):
            continue  # closed meanwhile, not a socket we can ask, …
    return False


class _Server:
    def __init__(self) -> None:
        self.path = socket_path()
        self.qt_seen = False  # Qt was connected once: it uses this server
        self.back_since: float | None = None  # the server answers again since, Qt not connected

    def state(self) -> State:
        if self.path is None:
            return "ok"
        if connected_here(self.path) and answers(self.path):
            self.qt_seen, self.back_since = True, None
            return "ok"
        if not self.qt_seen:
            return "ok"  # Qt does not use it (another backend): nothing to protect
        if not answers(self.path):
            self.back_since = None
            return "down"
        now = time.monotonic()
        self.back_since = self.back_since or now
        return "lost" if now - self.back_since > RECONNECT_S else "down"


_server: _Server | None = None


def state() -> State:
    """See the module doc. Call from any thread that uses Qt audio (cheap: a few syscalls)."""
    global _server
    if _server is None:
        _server = _Server()
    return _server.state()
