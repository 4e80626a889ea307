"""Received frames over time, per peer, for ``--stats-json``: lab tests and benches read
recovery times and frame rates from it. Bounded: past ``max_rows`` samples per peer every
other sample is dropped and the interval doubles, so a long call keeps a coarser history."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.jsonfile import write_json
from app.meeting import events as ev
from app.meeting.session import Session


class FrameTimeline:
    def __init__(
        self,
        session: Session,
        interval: float = 0.25,
        max_rows: int = 4000,
        clock: Callable[[], float] = time.time,  # wall clock: comparable across processes
    ) -> None:
        self._session, self._interval, self._max_rows, self._clock = (
            session,
            interval,
            max_rows,
            clock,
        )
        self.frames: dict[str, list[tuple[float, int, int]]] = {}  # peer -> (t, video, audio)
        self.events: list[tuple[float, str, str, str]] = []  # (t, event, peer, detail)
        self._task: asyncio.Task[None] | None = None
        session.subscribe(self._on_event)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="frame-timeline")

    async def close(self) -> None:
        """Stop sampling (after one last sample). Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.sample()

    def sample(self) -> None:
        media, now = self._session.media, round(self._clock(), 3)
        for peer_id in list(self._session.peers):
            rows = self.frames.setdefault(peer_id, [])
            rows.append((now, media.video_frames(peer_id), media.audio_frames(peer_id)))
            if len(rows) > self._max_rows:
                del rows[1::2]
                self._interval *= 2

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval)

    def _on_event(self, event: ev.Event) -> None:
        name = type(event).__name__
        if len(self.events) >= self._max_rows:
            return
        if isinstance(event, ev.ConnectionChanged):
            self.events.append((round(self._clock(), 3), name, event.peer_id, event.state))
        elif "reconnect" in name.lower() or isinstance(event, ev.PeerConnected | ev.PeerLeft):
            peer = str(getattr(event, "peer_id", ""))
            self.events.append((round(self._clock(), 3), name, peer, ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "frames": {p: [list(r) for r in rows] for p, rows in self.frames.items()},
            "events": [list(e) for e in self.events],
        }

    def merge_into(self, path: str) -> None:
        """Add ``"timeline"`` to a stats JSON file written by the Reporter."""
        target = Path(path)
        with contextlib.suppress(OSError, ValueError, RecursionError):
            data = json.loads(target.read_text(encoding="utf-8"))
            data["timeline"] = self.to_json()
            write_json(target, data)
