"""Closing a connection that used a TURN server does not wait long for that server.

When a connection closes, aioice deletes each of its TURN allocations (a REFRESH with lifetime 0)
and waits for the answer with STUN's retransmissions: 31.5 s when nothing answers, as with the
network gone or just changed. Every rebuild of a link closes the old one first, and the work
for one person's link is done in turn (app.meeting.tasks), so a rebuild begun while our network
was away held up the rest of that person's link work that long: back in under a new id after a
network change, the secret that tells the others who we are (app.meeting.resume) went out
seconds late, and they met us as someone new. Leaving the call with the network gone waited as
long too.

``patch()`` (process-wide, idempotent) gives the deletion ``DELETE_S``: time for two
retransmissions on a lossy path. An allocation left undeleted is freed by the TURN server when
its lifetime ends (RFC 8656 section 7), as aioice itself does when the deletion fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aioice import turn

log = logging.getLogger(__name__)
DELETE_S = 2.0  # s an allocation's deletion may take when its connection closes

Delete = Callable[[Any], Coroutine[Any, Any, None]]


def patch() -> None:
    """Bound aioice's TURN allocation deletion to ``DELETE_S`` (see the module doc)."""
    delete: Delete = turn.TurnClientMixin.delete
    if not getattr(delete, "_peermeet", False):
        turn.TurnClientMixin.delete = _bounded(delete)  # type: ignore[method-assign,assignment]


def _bounded(delete: Delete) -> Delete:
    async def bounded(protocol: Any) -> None:
        try:
            await asyncio.wait_for(delete(protocol), DELETE_S)  # (cancelled: its socket closed)
        except TimeoutError:
            address = getattr(protocol, "relayed_address", None)
            log.info("TURN allocation %s: deletion unanswered in %.0f s", address, DELETE_S)

    bounded._peermeet = True  # type: ignore[attr-defined]
    return bounded
