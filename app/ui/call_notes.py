"""What the call window says: the meeting's time running out, the end of the call, a camera
that stopped or is missing, a reminder that you are muted (pure: no Qt)."""

from __future__ import annotations

from app.meeting.events import ENDED_TEXT

END_WARNINGS_S = (300, 60)  # before the room's end
CAMERA_OFF = "Your video is off: check the camera, then press Start video."
SHARING = "You are sharing your screen with everyone in the call."
SHARING_ALONE = "You are sharing your screen: whoever joins will see it."
MUTED_HINT = "You are muted. Press Unmute or Ctrl+D to talk."
BACK_IN_TOUCH = "Back in touch with the meeting."
NO_MIC = "No microphone is connected, so the others hear silence. Plug one in to talk."


def ended_text(reason: str, *, host: bool, rejoin: bool) -> str:
    """What a call window says when the call ended for ``reason``; ``host``: this window's
    person hosts the meeting (only they can end it); ``rejoin``: Join again is offered."""
    text = ENDED_TEXT.get(reason, f"The call ended: {reason}.")
    if reason == "ended" and host:
        return "You ended the meeting."
    if rejoin:
        return text + " Press Join again to try, or close this window."
    if reason == "expired" and host:
        return text + " Close this window; Start meeting gives you a new link."
    if reason != "left":
        again = "the same link" if reason == "disconnected" else "a new link"
        text += f" Close this window, or join again with {again}."
    return text


def end_warning(
    expires_at: float, now: float, warned: set[tuple[float, int]], host: bool = False
) -> str | None:
    """The warning due now, 5 minutes and 1 minute before the room's time runs out, once each
    (again after an extension brings the end back within reach); None if none is due.
    ``warned`` holds what was said already, and is updated; ``host``: said to the host."""
    if not expires_at:
        return None
    left = expires_at - now
    due = [m for m in END_WARNINGS_S if 0 < left <= m]
    if not due or (expires_at, min(due)) in warned:
        return None
    warned.add((expires_at, min(due)))
    minutes = max(1, round(left / 60))
    who = "Give it" if host else "The host can give it"
    return (
        f"This meeting ends in {minutes} minute{'s' if minutes > 1 else ''}. {who} more time "
        "in My meetings (+1 hour)."
    )
