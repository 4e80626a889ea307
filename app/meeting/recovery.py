"""When to rebuild a peer connection. Pure and clock-driven, so it is tested without sleeping.

aiortc has no ICE restart, so a dead connection is replaced by a new one, negotiated again
through sealed signaling. A connection needs rebuilding when ICE says failed, stays
disconnected, never finishes connecting, or is "connected" but no media has arrived for a
while (audio flows at least every 0.4 s, even when muted, so silence on the wire means a dead
path).
After each attempt the next one waits longer (backoff), and success resets the count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Health:
    state: str
    state_since: float
    frames: int
    progress_at: float
    acted_at: float | None = None
    attempts: int = 0
    heard_at: float = 0.0  # media last came (not moved by a rebuild, unlike progress_at)


class Recovery:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        stall_s: float = 3.0,
        disconnected_s: float = 2.0,
        connecting_s: float = 10.0,
        backoff_s: tuple[float, ...] = (3.0, 5.0, 8.0),
    ) -> None:
        self._clock = clock
        self.stall_s, self.disconnected_s, self.connecting_s = stall_s, disconnected_s, connecting_s
        self.backoff_s = backoff_s
        self._peers: dict[str, _Health] = {}

    def observe(self, peer_id: str, state: str, frames: int) -> None:
        """Record a connection's state and its received-frame count (video + audio)."""
        now = self._clock()
        health = self._peers.get(peer_id)
        if health is None:
            self._peers[peer_id] = _Health(state, now, frames, now, heard_at=now)
            return
        if state != health.state:  # a new state gets the full stall time to show media
            health.state, health.state_since, health.progress_at = state, now, now
        if frames != health.frames:
            health.frames, health.progress_at, health.heard_at = frames, now, now
            if state == "connected":
                health.attempts = 0

    def reason(self, peer_id: str) -> str | None:
        """Why this connection should be rebuilt now, or None."""
        health = self._peers.get(peer_id)
        if health is None:
            return None
        now = self._clock()
        if health.acted_at is not None:
            wait = self.backoff_s[min(health.attempts, len(self.backoff_s)) - 1]
            if now - health.acted_at < wait:
                return None
        in_state = now - health.state_since
        if health.state in ("failed", "closed"):  # closed: the far end's DTLS went away
            return "connection failed"
        if health.state == "disconnected" and in_state >= self.disconnected_s:
            return "connection lost"
        if health.state in ("new", "connecting") and in_state >= self.connecting_s:
            return "could not connect"
        if health.state == "connected" and now - health.progress_at >= self.stall_s:
            return "no media"
        return None

    def silent_for(self, peer_id: str) -> float:
        """Seconds since media last arrived from ``peer_id`` (or its state last changed)."""
        health = self._peers.get(peer_id)
        return 0.0 if health is None else self._clock() - health.progress_at

    def quiet_for(self, peer_id: str) -> float:
        """Seconds since media last arrived from ``peer_id``, rebuilds or not."""
        health = self._peers.get(peer_id)
        return 0.0 if health is None else self._clock() - health.heard_at

    def acted(self, peer_id: str) -> None:
        """A rebuild was started: back off before the next one."""
        health = self._peers.get(peer_id)
        if health is not None:
            now = self._clock()
            health.acted_at = now
            health.attempts += 1
            health.state, health.state_since, health.progress_at = "new", now, now

    def forget(self, peer_id: str) -> None:
        self._peers.pop(peer_id, None)

    def attempts(self, peer_id: str) -> int:
        health = self._peers.get(peer_id)
        return health.attempts if health else 0
