"""run_now: a coroutine runs on the spot, and one that has to wait is finished by a task."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.net import fastrecv


async def test_a_coroutine_that_does_not_wait_runs_before_run_now_returns() -> None:
    done: list[int] = []

    async def handle() -> None:
        done.append(1)

    fastrecv.run_now(handle())
    assert done == [1]


async def test_a_coroutine_that_waits_is_finished_later_with_the_result() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def handle() -> None:
        got.append(await future)
        await asyncio.sleep(0)  # a bare yield as well
        got.append(2)

    fastrecv.run_now(handle())
    assert got == []
    future.set_result(1)
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [1, 2] and not fastrecv._pending


async def test_a_failed_wait_reaches_the_coroutine() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def handle() -> None:
        try:
            await future
        except ValueError as exc:
            seen.append(str(exc))

    fastrecv.run_now(handle())
    future.set_exception(ValueError("lost"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == ["lost"]


async def test_errors_are_logged_not_raised_unless_asked(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("bad packet")

    async def down() -> None:
        raise ConnectionError("link down")

    with caplog.at_level(logging.ERROR):
        fastrecv.run_now(broken())
    assert "handling a media packet failed" in caplog.text
    with pytest.raises(ConnectionError):
        fastrecv.run_now(down(), ConnectionError)
