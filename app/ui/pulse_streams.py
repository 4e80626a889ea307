"""Where the sound server really plays and records this process's audio (pulsectl, libpulse).

Qt 6.11's PulseAudio backend keeps listing a device after it is unplugged, and says nothing
when PulseAudio moves our stream to another device because of it. Two things go wrong then:
the device menus name a device that is gone, and, when the only microphone was unplugged,
PulseAudio records the speakers' *monitor* instead: everyone hears themselves back (echo).
``StreamWatch`` asks the server itself which devices this process's streams are on, so
QtAudioIO (app.ui.audio_io) can say what happened and stop recording a monitor.

The only module that imports pulsectl. It has its own connection to the server (never Qt's),
opened on first use from the thread that uses it; when there is no PulseAudio server (another
sound system, a sandbox) or it goes away, ``where`` answers None: "cannot tell". No Qt here.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

Kind = Literal["in", "out"]
RETRY_S = 5.0  # after a failed connection, do not try again for this long
CONNECT_TIMEOUT_S = 0.5

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


class StreamWatch:
    """Asks the sound server where this process's streams are. One thread only; ``close()``
    (idempotent) drops the connection."""

    def __init__(self, socket: str | None, clock: Any = time.monotonic) -> None:
        """``socket``: the server's unix socket (app.ui.sound_server.socket_path); None (a
        network server, whose round trips would hold up the audio thread): nothing is asked."""
        self._socket = socket
        self._pulse: Any = None
        self._clock = clock
        self._next_try = 0.0
        self._closed = False
        self._pid = str(os.getpid())

    def where(self, kind: Kind) -> list[Device] | None:
        """The devices our recording ("in") or playing ("out") streams are on, or None when
        the server cannot be asked."""
        pulse = self._connect()
        if pulse is None:
            return None
        try:
            if kind == "in":
                streams, field, info = pulse.source_output_list(), "source", pulse.source_info
            else:
                streams, field, info = pulse.sink_input_list(), "sink", pulse.sink_info
            found: dict[str, Device] = {}
            for stream in streams:
                if stream.proplist.get("application.process.id") != self._pid:
                    continue
                dev = info(getattr(stream, field))
                monitor = kind == "in" and getattr(dev, "monitor_of_sink_name", None) is not None
                found[dev.name] = Device(dev.name, dev.description or dev.name, monitor)
            return list(found.values())
        except pulsectl.PulseError as exc:  # gone, or a stream went while we asked
            log.info("sound server query failed: %s", exc)
            self._drop()
            return None

    def present(self, kind: Kind) -> set[str] | None:
        """Names of the microphones ("in", monitors left out) or speakers ("out") the server
        has now, or None when it cannot be asked (Qt lists unplugged ones too)."""
        pulse = self._connect()
        if pulse is None:
            return None
        try:
            if kind == "out":
                return {dev.name for dev in pulse.sink_list()}
            return {
                dev.name
                for dev in pulse.source_list()
                if getattr(dev, "monitor_of_sink_name", None) is None
            }
        except pulsectl.PulseError as exc:
            log.info("sound server query failed: %s", exc)
            self._drop()
            return None

    def _connect(self) -> Any:
        if self._pulse is not None or self._closed or pulsectl is None or self._socket is None:
            return self._pulse
        now = self._clock()
        if now < self._next_try:
            return None
        self._next_try = now + RETRY_S
        pulse = pulsectl.Pulse("peermeet-watch", server=f"unix:{self._socket}", connect=False)
        try:
            pulse.connect(autospawn=False, timeout=CONNECT_TIMEOUT_S)
        except pulsectl.PulseError as exc:
            log.debug("no sound server to watch: %s", exc)
            pulse.close()
            return None
        self._pulse = pulse
        return pulse

    def _drop(self) -> None:
        pulse, self._pulse = self._pulse, None
        if pulse is not None:
            pulse.close()

    def close(self) -> None:
        self._closed = True
        self._drop()
