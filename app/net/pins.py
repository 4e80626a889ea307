"""Trust on first use for LAN rooms: the host key fingerprint last seen for each room name.

A forged announcement (same room name, another host) must not silently redirect anyone: the
first knock that gets in pins the fingerprint; a different one later is reported as ``changed``
and the UI/CLI warn (the CLI refuses to knock unless told ``--accept-new-key``).
Plain JSON in the user data dir (path injectable), written atomically. Qt-free.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import platformdirs

from app.jsonfile import read_json, write_json
from app.net.knock import pretty_fingerprint

log = logging.getLogger(__name__)
MAX_PINS = 1000
PinStatus = Literal["new", "known", "changed"]


def default_pins_path() -> Path:
    return Path(platformdirs.user_data_dir("peermeet")) / "lan-pins.json"


@dataclass(frozen=True)
class PinCheck:
    room: str
    fingerprint: str
    status: PinStatus
    pinned: str | None  # what was stored before, if anything

    @property
    def warning(self) -> str:
        """What a person reads when the key changed; empty otherwise."""
        if self.status != "changed" or self.pinned is None:
            return ""
        return (
            f"Warning: “{self.room}” is now announced with another host key "
            f"({pretty_fingerprint(self.fingerprint)[:19]}…) than the one you met before "
            f"({pretty_fingerprint(self.pinned)[:19]}…). Someone on this network may be "
            "pretending to be the host. Ask the host whether they reset PeerMeet before knocking."
        )


class PinStore:
    def __init__(self, path: Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.path = path or default_pins_path()
        self._clock = clock
        self._pins: dict[str, dict[str, Any]] = self._load()

    def check(self, room: str, fingerprint: str) -> PinCheck:
        entry = self._pins.get(room)
        pinned = entry.get("fp") if entry else None
        if not isinstance(pinned, str):
            return PinCheck(room, fingerprint, "new", None)
        return PinCheck(room, fingerprint, "known" if pinned == fingerprint else "changed", pinned)

    def remember(self, room: str, fingerprint: str) -> None:
        """Pin (or re-pin, after the person accepted the new key) and save at once."""
        self._pins.pop(room, None)
        self._pins[room] = {"fp": fingerprint, "since": int(self._clock())}
        while len(self._pins) > MAX_PINS:
            self._pins.pop(next(iter(self._pins)))
        self._save()

    def _load(self) -> dict[str, dict[str, Any]]:
        data = read_json(self.path)  # (a damaged file is set aside there)
        rooms = data.get("rooms") if isinstance(data, dict) else None
        if not isinstance(rooms, dict):
            return {}
        return {k: v for k, v in rooms.items() if isinstance(k, str) and isinstance(v, dict)}

    def _save(self) -> None:
        """Save now; a pin that cannot be saved is still kept for this run (logged)."""
        try:
            write_json(self.path, {"version": 1, "rooms": self._pins})
        except OSError as exc:
            log.warning("could not save the host-key pins to %s: %s", self.path, exc)
