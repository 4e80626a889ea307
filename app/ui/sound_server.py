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

Qt's connection is found among this process's sockets: one connected to the server's path,
other than our own (app.ui.pulse_streams makes one, through connect_own, to ask the server
where our streams are). No Qt in here; the state is process-wide, as Qt's connection is.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
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


def connections(path: str) -> set[str]:
    """This process's live connections to the unix socket ``path``, as "socket:[inode]"."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return set()
    found = set()
    for name in fds:
        try:
            link = os.readlink(f"/proc/self/fd/{name}")
            if not link.startswith("socket:"):
                continue
            with socket.socket(fileno=os.dup(int(name))) as sock:  # a copy: closing it is safe
                if sock.family != socket.AF_UNIX or sock.getpeername() != path:
                    continue
                try:  # a connection whose server died reads as end of file
                    alive = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
                except BlockingIOError:
                    alive = True
                if alive:
                    found.add(link)
        except (OSError, ValueError):
            continue  # closed meanwhile, not a socket we can ask, …
    return found


#: connections that are ours, not Qt's (app.ui.pulse_streams asks the server itself): they say
#: nothing about Qt's. While one is being made, state() keeps its last answer (_busy), so
#: none is ever seen unclaimed; _lock keeps the two apart, _one_at_a_time the makers.
_ours: set[str] = set()
_busy = [False]
_lock = threading.RLock()
_one_at_a_time = threading.Lock()


def connect_own(connect: Callable[[], bool], path: str) -> tuple[set[str], bool]:
    """Run ``connect()``, which opens one connection of our own to ``path`` (True if it did),
    and claim what is new: (claimed, whether it connected and that is one connection, ours).
    Not so (e.g. Qt reconnecting at that very moment): close it, then release_own(claimed)."""
    with _one_at_a_time:
        with _lock:
            before = connections(path)
            _busy[0] = True
        connected = False
        try:
            connected = connect()
        finally:
            with _lock:
                new = connections(path) - before
                _ours.update(new)
                _busy[0] = False
    return new, connected and len(new) == 1


def release_own(claimed: set[str]) -> None:
    """Our connections in ``claimed`` were closed."""
    with _lock:
        _ours.difference_update(claimed)


def connected_here(path: str) -> bool:
    """Whether Qt holds a live connection to the unix socket ``path`` (ours do not count)."""
    with _lock:
        return bool(connections(path) - _ours)


class _Server:
    def __init__(self) -> None:
        self.path = socket_path()
        self.qt_seen = False  # Qt was connected once: it uses this server
        self.back_since: float | None = None  # the server answers again since, Qt not connected
        self.last: State = "ok"

    def state(self) -> State:
        with _lock:
            if not _busy[0]:  # (else one of ours is being made: it might pass for Qt's)
                self.last = self._state()
            return self.last

    def _state(self) -> State:
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
_making = threading.Lock()


def state() -> State:
    """See the module doc. Call from any thread that uses Qt audio (cheap: a few syscalls)."""
    global _server
    with _making:
        if _server is None:
            _server = _Server()
    return _server.state()
