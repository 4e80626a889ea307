"""What the call window says at the meeting's end, to the host and to a guest."""

from __future__ import annotations

from app.ui.call_notes import end_warning, ended_text


def test_the_end_warnings_speak_to_the_host_as_the_one_who_can_extend() -> None:
    warned: set[tuple[float, int]] = set()
    guest = end_warning(1000.0, 1000.0 - 290, warned)
    assert guest is not None and "The host can give it more time" in guest
    assert end_warning(1000.0, 1000.0 - 280, warned) is None  # once
    host = end_warning(1000.0, 1000.0 - 50, set(), host=True)
    assert host == "This meeting ends in 1 minute. Give it more time in My meetings (+1 hour)."


def test_an_expired_meeting_tells_the_host_how_to_go_on() -> None:
    assert "join again with a new link" in ended_text("expired", host=False, rejoin=False)
    host = ended_text("expired", host=True, rejoin=False)
    assert "Start meeting" in host and "join again" not in host
    assert ended_text("ended", host=True, rejoin=False) == "You ended the meeting."
