"""What the call window says about the meeting's time running out (pure: tested without Qt)."""

from __future__ import annotations

END_WARNINGS_S = (300, 60)  # before the room's end


def end_warning(expires_at: float, now: float, warned: set[tuple[float, int]]) -> str | None:
    """The warning due now, 5 minutes and 1 minute before the room's time runs out, once each
    (again after an extension brings the end back within reach); None if none is due.
    ``warned`` holds what was said already, and is updated."""
    if not expires_at:
        return None
    left = expires_at - now
    due = [m for m in END_WARNINGS_S if 0 < left <= m]
    if not due or (expires_at, min(due)) in warned:
        return None
    warned.add((expires_at, min(due)))
    minutes = max(1, round(left / 60))
    return (
        f"This meeting ends in {minutes} minute{'s' if minutes > 1 else ''}. The host can "
        "give it more time in My meetings (+1 hour)."
    )
