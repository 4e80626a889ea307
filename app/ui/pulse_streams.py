"""Where the sound server really plays and records this process's audio (pulsectl, libpulse).

Qt 6.11's PulseAudio backend keeps listing a device after it is unplugged, and says nothing
when PulseAudio moves our stream to another device because of it. Two things go wrong then:
the device menus name a device that is gone, and, when the only microphone was unplugged,
PulseAudio records the speakers' *monitor* instead: everyone hears themselves back (echo).
``StreamWatch`` asks the server itself which devices it has and which device each of this
process's streams is on, so QtAudioIO (app.ui.audio_io) can pass over devices that went, say
what happened and stop recording a monitor.

The only module that imports pulsectl. Each watch has a thread of its own that holds its own
connection to the server (never Qt's; claimed through app.ui.sound_server so that it is not
taken for Qt's) and asks only when asked: a server that is slow or hung holds up that thread,
never the GUI or audio thread, which wait at most ``WAIT_S`` for an answer. With no PulseAudio
server on a local socket (another sound system, a network server, a sandbox) every answer is
None: "cannot tell". No Qt here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from app.ui import sound_server

log = logging.getLogger(__name__)

Kind = Literal["in", "out"]
WAIT_S = 0.25  # the longest a caller waits for the server's answer

try:
    import pulsectl
except (ImportError, OSError) as exc:  # no libpulse on this machine: nothing to watch
    pulsectl = None
    log.info("cannot watch the sound server's streams: %s", exc)


@dataclass(frozen=True)
class Device:
    """A device one of our streams is on: its sound-server name (Qt's device id)."""

    name: str
    description: str
    monitor: bool  # a speaker's monitor: records what is played, not a microphone


@dataclass(frozen=True)
class Snapshot:
    """What the server said when asked at ``at`` (the watch's clock)."""

    at: float
    present: dict[Kind, frozenset[str]]  # microphones (monitors left out) and speakers
    streams: dict[Kind, dict[int, Device]]  # this process's streams: index -> device


class StreamWatch:
    """See the module doc. ``snapshot()`` may be called from any thread; ``close()`` is
    idempotent and does not wait for a hung server."""

    def __init__(self, socket: str | None, clock: Callable[[], float] = time.monotonic) -> None:
        """``socket``: the server's unix socket (app.ui.sound_server.socket_path); None: no
        server to ask (a network one's round trips are not worth it)."""
        self._socket, self._clock = socket, clock
        self._cond = threading.Condition()
        self._latest: Snapshot | None = None
        self._asked = self._served = 0  # requests made, and the last one answered
        self._down = False  # the last answer: the server could not be asked
        self._connecting: float | None = None  # since when a connection is being made
        self._closed = False
        self._thread: threading.Thread | None = None

    def snapshot(self, wait: float = 0.0) -> Snapshot | None:
        """With ``wait``: an answer asked for now, waited for that long (None if none came).
        Without: the newest answer so far (None if none), and a new one is asked for."""
        if self._socket is None or pulsectl is None:
            return None
        with self._cond:
            if self._closed:
                return None
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pulse-watch", daemon=True)
                self._thread.start()
            self._asked += 1
            mine, latest = self._asked, self._latest
            self._cond.notify_all()
            if wait <= 0:
                return latest
            since = self._connecting
            if since is not None and self._clock() - since > WAIT_S:
                return None  # (a server that takes connections but does not answer)
            self._cond.wait_for(lambda: self._served >= mine, wait)
            return self._latest if self._served >= mine and not self._down else None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- the watch's thread ---------------------------------------------------------------

    def _run(self) -> None:
        pulse: Any = None
        claimed: set[str] = set()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._served or self._closed)
                if self._closed:
                    break
                serving = self._asked
            snapshot = None
            try:
                if pulse is None:  # (again at each request: the server may be back)
                    pulse, claimed = self._connect()
                if pulse is not None:
                    snapshot = self._ask(pulse)
            except Exception as exc:  # gone, or a stream went while we asked, or a bug:
                log.info("sound server query failed: %r", exc)  # ask afresh next time
                if pulse is not None:
                    self._drop(pulse, claimed)
                pulse, claimed = None, set()
            with self._cond:
                self._down, self._served = snapshot is None, serving
                self._latest = snapshot or self._latest
                self._cond.notify_all()
        if pulse is not None:
            self._drop(pulse, claimed)

    def _connect(self) -> tuple[Any, set[str]]:
        """A connection of our own, made only while Qt has its own (app.ui.sound_server): a
        server that is down, or back without Qt, is not asked (our connection could pass for
        Qt's, and a device reopened then aborts the process)."""
        if sound_server.state() != "ok":
            return None, set()
        path = str(self._socket)
        pulse = pulsectl.Pulse("peermeet-watch", server=f"unix:{path}", connect=False)

        def connect() -> bool:  # (pulsectl's connect timeout always waits it out: none here)
            try:
                pulse.connect(autospawn=False)
            except pulsectl.PulseError as exc:
                log.debug("no sound server to watch: %s", exc)
                return False
            return True

        with self._cond:
            self._connecting = self._clock()
        try:
            claimed, ours = sound_server.connect_own(connect, path)
        finally:
            with self._cond:
                self._connecting = None
        if not ours:
            self._drop(pulse, claimed)
            return None, set()
        return pulse, claimed

    @staticmethod
    def _drop(pulse: Any, claimed: set[str]) -> None:
        pulse.close()
        sound_server.release_own(claimed)

    def _ask(self, pulse: Any) -> Snapshot:
        at, pid = self._clock(), str(os.getpid())
        sources = {dev.index: dev for dev in pulse.source_list()}
        sinks = {dev.index: dev for dev in pulse.sink_list()}
        monitors = {i for i, dev in sources.items() if _monitor(dev)}
        streams: dict[Kind, dict[int, Device]] = {"in": {}, "out": {}}
        asks: tuple[tuple[Kind, Any, str, dict[int, Any]], ...] = (
            ("in", pulse.source_output_list(), "source", sources),
            ("out", pulse.sink_input_list(), "sink", sinks),
        )
        for kind, listed, on, devices in asks:
            for stream in listed:
                dev = devices.get(getattr(stream, on))
                if stream.proplist.get("application.process.id") == pid and dev is not None:
                    monitor = kind == "in" and getattr(stream, on) in monitors
                    streams[kind][stream.index] = Device(
                        dev.name, dev.description or dev.name, monitor
                    )
        present: dict[Kind, frozenset[str]] = {
            "in": frozenset(dev.name for i, dev in sources.items() if i not in monitors),
            "out": frozenset(dev.name for dev in sinks.values()),
        }
        return Snapshot(at, present, streams)


def _monitor(source: Any) -> bool:
    return getattr(source, "monitor_of_sink_name", None) is not None


#: every QtAudioIO's streams, by (kind, index): a call's and the Settings meter's may be open
#: together; streams are opened one at a time (_OPENING), so the one new one is the opener's
_ADOPTED: set[tuple[Kind, int]] = set()
_OPENING = threading.Lock()


class OwnStreams:
    """One QtAudioIO's own streams at the sound server, told apart from this process's others:
    each is the one stream that is new when its owner opened it (``opening``); or, when the
    server could not be asked then, the one new stream on the device opened that nobody else
    has. Its StreamWatch answers everything else; ``close()`` is idempotent."""

    def __init__(self, socket: str | None) -> None:
        self.watch = StreamWatch(socket)
        self._index: dict[Kind, int | None] = {"in": None, "out": None}
        self._before: dict[Kind, set[int] | None] = {"in": None, "out": None}

    def present(self, kind: Kind, wait: float = WAIT_S) -> frozenset[str] | None:
        """The devices of ``kind`` the server has (None: cannot tell); ``wait`` 0: as it said
        when last asked (see StreamWatch.snapshot)."""
        snapshot = self.watch.snapshot(wait)
        return snapshot.present[kind] if snapshot is not None else None

    @contextlib.contextmanager
    def opening(self, kind: Kind) -> Iterator[None]:
        """Around opening a stream of ``kind``: the stream new at the server is ours."""
        self.forget(kind)
        with _OPENING:
            before = self.watch.snapshot(WAIT_S)
            yield
            after = self.watch.snapshot(WAIT_S) if before is not None else None
        self._before[kind] = set(before.streams[kind]) if before is not None else None
        if after is not None:
            self._adopt(kind, after, None)

    def where(self, kind: Kind, device: str) -> Device | None:
        """The device our stream of ``kind``, opened on ``device``, is on now (None: cannot
        tell); asks anew for next time, without waiting."""
        snapshot = self.watch.snapshot()
        if snapshot is None:
            return None
        index = self._index[kind]
        if index is None:
            index = self._adopt(kind, snapshot, device)
        return snapshot.streams[kind].get(index) if index is not None else None

    def _adopt(self, kind: Kind, snapshot: Snapshot, on: str | None) -> int | None:
        before = self._before[kind]
        with _OPENING:
            fresh = [
                i
                for i, dev in snapshot.streams[kind].items()
                if (before is None or i not in before)
                and (on is None or dev.name == on)
                and (kind, i) not in _ADOPTED
            ]
            if len(fresh) != 1:
                return None
            _ADOPTED.add((kind, fresh[0]))
        self._index[kind], self._before[kind] = fresh[0], None
        return fresh[0]

    def forget(self, kind: Kind) -> None:
        """Our stream of ``kind`` was closed."""
        with _OPENING:
            index = self._index[kind]
            if index is not None:
                _ADOPTED.discard((kind, index))
        self._index[kind] = self._before[kind] = None

    def close(self) -> None:
        self.forget("in")
        self.forget("out")
        self.watch.close()
