"""A bound on what a peer can make us hold on the data channel (aiortc internals).

aiortc's SCTP receiver keeps every DATA chunk of a message until the message's last one comes,
however many: it never holds a sender to the receive window it advertises (1 MiB), and it looks
through everything it holds for each chunk that arrives. A peer that sends one message without
end (or leaves a gap it never fills) grows our memory without bound, each chunk costing more
CPU than the one before. ``guard`` ends the association (an SCTP ABORT: the data channel with
that peer closes, its media goes on) once more than MAX_BUFFERED bytes wait to be put together,
four times the window: an honest peer's chat (at most 64 KiB a message) never comes near it.
"""

from __future__ import annotations

import logging
from typing import Any

from aiortc import RTCSctpTransport

log = logging.getLogger(__name__)
MAX_BUFFERED = 4 * 1024 * 1024


def guard(sctp: RTCSctpTransport | None, peer_id: str) -> None:
    """Watch ``sctp`` (a connection's, once it has one); idempotent."""
    if sctp is None or getattr(sctp, "_peermeet_guarded", False):
        return
    receive = sctp._receive_data_chunk
    window = sctp._advertised_rwnd  # (before anything is held)

    async def guarded(chunk: Any) -> None:
        if sctp._association_state == RTCSctpTransport.State.CLOSED:
            return  # (the rest of the packet that ended it)
        await receive(chunk)
        held = window - sctp._advertised_rwnd
        if held > MAX_BUFFERED:
            log.warning("closing the data channel of %s: %d bytes sent unfinished", peer_id, held)
            sctp._inbound_streams.clear()
            await sctp.stop()

    sctp._receive_data_chunk = guarded  # type: ignore[method-assign]
    sctp._peermeet_guarded = True  # type: ignore[attr-defined]
