"""The rendezvous' rooms across restarts (``peermeet-rendezvous --state FILE``).

A restarted server would otherwise know no room: every participant that gets back in by
itself (app.meeting.rejoin) would hear "no such room". With a state file the server keeps
each live room's id, hint, size, expiry and owner token, and its tombstones, so rooms come back
with the server and their owners can still end or extend them. Members are not kept: they
come back by joining again. The file holds owner tokens, so it is written owner-only (0600),
atomically; a damaged one is moved aside (``.bad``) and the server starts without it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from app.errors import PeerMeetError
from app.jsonfile import read_json, set_aside, write_json
from app.net.rooms import Rooms

log = logging.getLogger(__name__)
VERSION = 1


def load(rooms: Rooms, path: Path) -> int:
    """Restore ``rooms`` from ``path``; the number of rooms restored (0 without a file)."""
    data = read_json(path)  # (a file that is not JSON is set aside there)
    if data is None:
        return 0
    try:
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError("not a PeerMeet rendezvous state file")
        return rooms.restore(data)
    except (ValueError, TypeError, KeyError, RecursionError, PeerMeetError) as exc:
        set_aside(path, f"damaged ({exc})")
        return 0


def save(rooms: Rooms, path: Path) -> None:
    """Write ``rooms`` to ``path`` (atomically, owner-only); OSError if that failed."""
    write_json(path, {"version": VERSION, **rooms.snapshot()}, compact=True)
