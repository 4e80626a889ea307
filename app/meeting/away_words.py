"""What a headless call (``peermeet host/join --headless``) prints, once each, while it is out
of touch with its rendezvous: what happened, what it means for the call, what happens next.

The desktop app's words (app.meeting.rejoin) go with its banner and tiles; a terminal has
neither, so these name the server and say how the call goes on. Retries are not printed: the
call says when it is back, or how it ended."""

from __future__ import annotations

from app.meeting import rejoin


def _people(count: int) -> str:
    return "the person" if count == 1 else f"the {count} people"


def lost(address: str, connected: int, *, hosting: bool) -> str:
    """The rendezvous at ``address`` is gone; ``connected``: peers still connected to us."""
    retry = f"Trying to reconnect (every {rejoin.MAX_DELAY_S:g} s)"
    if connected:
        return (
            f"lost the connection to the meeting's server at {address}. The call goes on peer "
            f"to peer: audio and video with {_people(connected)} connected to you keep flowing "
            "(they never went through the server), but nobody new can join, and a connection "
            f"that breaks cannot be made again until the server is back. {retry}."
        )
    why = (
        "Is the server still running, and this computer online?"
        if hosting
        else "Is the meeting's server down, has the host closed PeerMeet, or is this computer "
        "offline?"
    )
    return (
        f"lost the connection to the meeting's server at {address}, and nobody is connected "
        f"to you. {retry}; the call ends if nobody can be reached for "
        f"{rejoin.ALONE_S / 60:g} minutes. ({why})"
    )


def alone(address: str) -> str:
    """While out of touch with the server at ``address``, the last peer connection is gone."""
    return (
        f"nobody is connected to you any more, and the meeting's server at {address} is still "
        f"out of reach. Still trying; the call ends if nobody can be reached for "
        f"{rejoin.ALONE_S / 60:g} minutes."
    )


def back(address: str, away_s: float) -> str:
    """Back in the room on the server at ``address`` after ``away_s`` seconds."""
    return (
        f"back in touch with the meeting's server at {address} (after {away_s:.0f} s): "
        "people can join again. Connections that kept working carry on; any that broke are "
        "made afresh (a moment without that person's audio and video)."
    )
