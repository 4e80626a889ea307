"""Reopening "This computer" meetings after a restart: the embedded half of HostService.resume.

A meeting still within its lifetime gets its room back on the SAME port, so old links keep
working, or is marked unavailable with the reason (the port is taken). If this computer's
network address changed meanwhile, its link changes too. An ended meeting is "reburied" so a
late joiner hears that it ended rather than that it never existed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from app.errors import PeerMeetError, os_reason
from app.meeting.host_servers import ServerPool, room_id
from app.meeting.links import Link, parse_link
from app.meeting.store import LIVE, UNAVAILABLE, MeetingRecord
from app.net.rooms import MIN_LIFETIME_S, TOMBSTONE_S


async def reopen(
    record: MeetingRecord,
    servers: ServerPool,
    clock: Callable[[], float],
    address: Callable[[bool], str],
) -> bool:
    """Recreate ``record``'s room on its old port; False (and a note saying why) if it cannot.
    ``address(ipv6)``: the host to put in links now."""
    try:
        server = await servers.open(record.port, record.ipv6)
        rid, lifetime = room_id(record), int(record.expires_at - clock())
        seat = server.rooms.create(rid, record.room, record.size, lifetime)
        server.rooms.leave(rid, seat.peer_id)
    except OSError as exc:
        why = os_reason(exc)
        record.state, record.note = (
            UNAVAILABLE,
            (
                f"Could not reopen: port {record.port} on this computer is taken ({why}), "
                "probably by another program. Close it and restart PeerMeet, or start a new "
                "meeting and send its link."
            ),
        )
        return False
    except PeerMeetError as exc:
        record.state, record.note = UNAVAILABLE, f"Could not reopen: {exc}"
        return False
    record.state, record.note = LIVE, ""
    record.owner_token, record.expires_at = seat.room.owner_token, seat.room.expires_at
    _readdress(record, address(record.ipv6))
    return True


def _readdress(record: MeetingRecord, host: str) -> None:
    """If this computer's network address changed, the old link cannot work: make a new one
    (same room, secret and port) and say so."""
    old = parse_link(record.link)
    if host != old.host and not Link(host, 1, "", "").is_loopback:
        record.link = str(Link(host, old.port, old.room, old.secret))
        record.note = (
            f"This computer's network address changed (it was {old.host}), so the link "
            "changed too: send the new one."
        )


def rebury(record: MeetingRecord, servers: ServerPool, now: float) -> None:
    """Make a late joiner of an ended meeting hear "ended" again (its server must run)."""
    entry = servers.get(record.port)
    if entry is None or record.expires_at + TOMBSTONE_S < now:
        return
    rooms = entry[0].rooms
    with contextlib.suppress(PeerMeetError):
        seat = rooms.create(room_id(record), record.room, record.size, MIN_LIFETIME_S)
        rooms.end(seat.room.room_id, seat.room.owner_token)
