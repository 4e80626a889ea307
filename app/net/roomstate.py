"""The rendezvous' rooms across restarts (``peermeet-rendezvous --state FILE``).

A restarted server would otherwise know no room: every participant that gets back in by
itself (app.meeting.rejoin) would hear "no such room". With a state file the server keeps
each live room's id, hint, size, expiry and owner token, and its tombstones, so rooms come back
with the server and their owners can still end or extend them. Members are not kept: they
come back by joining again. The file holds owner tokens, so it is written owner-only (0600),
atomically; a damaged one is moved aside (``.bad``) and the server starts without it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from app.errors import PeerMeetError
from app.net.rooms import Rooms

log = logging.getLogger(__name__)
VERSION = 1


def load(rooms: Rooms, path: Path) -> int:
    """Restore ``rooms`` from ``path``; the number of rooms restored (0 without a file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return 0
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read the room state %s (%s): starting without it", path, exc)
        return 0
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a PeerMeet rendezvous state file")
        return rooms.restore(data)
    except (ValueError, TypeError, KeyError, RecursionError, PeerMeetError) as exc:
        bad = path.with_name(path.name + ".bad")
        log.warning("room state %s is damaged (%s): moved to %s", path, exc, bad)
        try:
            os.replace(path, bad)
        except OSError as err:
            log.warning("could not move %s aside: %s", path, err)
        return 0


def save(rooms: Rooms, path: Path) -> bool:
    """Write ``rooms`` to ``path`` (atomically, owner-only); False, logged, if that failed."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": VERSION, **rooms.snapshot()}, f, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("could not save the room state to %s: %s", path, exc)
        return False
    return True
