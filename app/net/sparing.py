"""Warnings about what someone else may send without end (data-channel messages that do not
read, sealed blobs that do not open, blobs past a client's queue): each kind is logged the first
few times, then once every SAY_EVERY with the count so far. A broken or hostile peer may send
nothing else: logged each time, the rendezvous's 50 blobs a second were 50 lines a second."""

from __future__ import annotations

SAY_FIRST, SAY_EVERY = 3, 1000


def worth_saying(count: int, first: int = SAY_FIRST, every: int = SAY_EVERY) -> bool:
    """Whether the ``count``-th (from 1) of a warning that may come without end is logged:
    the first ``first`` of them, then every ``every``-th (which should say the count)."""
    return count <= first or count % every == 0
