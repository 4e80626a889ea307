"""Periodic (app/net/periodic.py): one background step on a timer, stopped cleanly."""

from __future__ import annotations

import asyncio

import pytest

from app.net.periodic import Periodic


async def test_a_step_that_raises_is_logged_and_the_next_one_runs() -> None:
    calls: list[int] = []
    third = asyncio.Event()

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 3:
            third.set()
        if len(calls) == 1:
            raise ValueError("first step fails")

    job = Periodic(step, 0.01, "test-job")
    job.start()
    job.start()  # (already running: nothing more)
    await asyncio.wait_for(third.wait(), 5)
    await job.stop()
    await job.stop()  # idempotent
    assert len(asyncio.all_tasks()) == 1  # only this test's own task


async def test_stopping_a_task_that_had_died_does_not_raise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Closing must go on even if the task ended of an error (a test's event loop stepped
    it from outside run_until_complete: 'no running event loop')."""

    async def step() -> None:
        pass

    job = Periodic(step, 0.01, "test-job")
    job.start()
    task = job._task
    assert task is not None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    job._task = asyncio.get_running_loop().create_task(_fail())
    job._task.add_done_callback(job._ended)
    await asyncio.gather(job._task, return_exceptions=True)
    await asyncio.sleep(0)  # (done callbacks run at the next turn)
    assert "test-job stopped: RuntimeError" in caplog.text  # said when it happened
    await job.stop()  # (it raised RuntimeError here)


async def _fail() -> None:
    raise RuntimeError("no running event loop")
