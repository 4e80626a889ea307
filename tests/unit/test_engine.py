"""EngineThread (app.meeting.engine): real threads, real loops."""

from __future__ import annotations

import asyncio
import threading

import pytest

from app.meeting.engine import EngineThread


async def test_the_engine_runs_work_on_its_own_thread_and_returns_results() -> None:
    engine = EngineThread(name="test-engine")
    engine.start()
    try:

        async def where() -> str:
            await asyncio.sleep(0.01)
            return threading.current_thread().name

        assert await engine.run(where()) == "test-engine"
        assert engine.submit(where()).result(2) == "test-engine"

        async def fails() -> None:
            raise ValueError("boom")

        with pytest.raises(ValueError, match="boom"):
            await engine.run(fails())
        called = threading.Event()
        engine.call(called.set)
        assert await asyncio.to_thread(called.wait, 2)
    finally:
        engine.close()


async def test_cancelling_the_caller_cancels_the_work_on_the_engine() -> None:
    engine = EngineThread()
    engine.start()
    started, cancelled = threading.Event(), threading.Event()

    async def long() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    try:
        task = asyncio.get_running_loop().create_task(engine.run(long()))
        assert await asyncio.to_thread(started.wait, 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(cancelled.wait, 2)
    finally:
        engine.close()


def test_close_cancels_what_is_left_stops_the_thread_and_is_idempotent() -> None:
    engine = EngineThread(name="closing-engine")
    engine.start()
    left = engine.submit(asyncio.sleep(30))
    engine.close()
    engine.close()
    assert left.cancelled()
    assert "closing-engine" not in [t.name for t in threading.enumerate()]
    assert engine.loop.is_closed() and not engine.running
    with pytest.raises(RuntimeError):
        engine.submit(asyncio.sleep(0))
    engine.call(print, "dropped, not raised")


def test_an_engine_never_started_closes_its_loop() -> None:
    engine = EngineThread()
    engine.close()
    assert engine.loop.is_closed()
