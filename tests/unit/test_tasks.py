"""TaskOwner (app.meeting.tasks): work for one key in turn, nothing left behind."""

from __future__ import annotations

import asyncio
import inspect

from app.meeting.tasks import TaskOwner


async def test_work_cancelled_while_waiting_its_turn_is_closed_not_left_unawaited() -> None:
    """A rejoin left while it waits to drop a peer's link (Session._rejoined): the drop never
    runs, and is closed (no "coroutine was never awaited" warning)."""
    owner, gate, ran = TaskOwner(), asyncio.Event(), []

    async def busy() -> None:
        await gate.wait()

    async def drop() -> None:
        ran.append("drop")

    owner.for_peer("peer", busy())
    await asyncio.sleep(0)  # it holds the peer's turn
    work = drop()
    waiting = asyncio.ensure_future(owner.serial("peer", work))
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert inspect.getcoroutinestate(work) == inspect.CORO_CLOSED and ran == []
    await owner.close()
