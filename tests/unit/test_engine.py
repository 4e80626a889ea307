"""The engine's loop (app.net.batching) and its thread (app.meeting.engine), with real sockets,
real threads and real loops; only the batching window's sleep is recorded instead of slept."""

from __future__ import annotations

import asyncio
import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from app.meeting.engine import EngineThread, run_engine
from app.net.batching import QUANTUM_S, BatchingSelector, new_engine_loop


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    yield a, b
    a.close()
    b.close()


def selector_on(
    sock: socket.socket, sleep: list[float], peer: socket.socket | None = None
) -> BatchingSelector:
    """A BatchingSelector watching ``sock``; its sleeps are recorded in ``sleep`` and, if
    ``peer`` is given, it sends a datagram to ``sock`` during the first one."""

    def fake_sleep(seconds: float) -> None:
        sleep.append(seconds)
        if peer is not None and len(sleep) == 1:
            peer.send(b"late")

    sel = BatchingSelector(0.005, fake_sleep)
    sel.register(sock, selectors.EVENT_READ)
    return sel


def test_ready_io_is_taken_at_once(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    slept: list[float] = []
    sel = selector_on(a, slept)
    b.send(b"x")
    assert [key.fileobj for key, _ in sel.select(None)] == [a]
    assert slept == []
    sel.close()


def test_idle_wait_gathers_io_for_one_quantum(pair: tuple[socket.socket, socket.socket]) -> None:
    a, b = pair
    slept: list[float] = []
    sel = selector_on(a, slept, peer=b)
    ready = sel.select(None)  # nothing yet: waits a quantum, then takes what came meanwhile
    assert [key.fileobj for key, _ in ready] == [a]
    assert slept == [0.005]
    sel.close()


def test_the_window_never_runs_past_the_loops_next_timer(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, _ = pair
    slept: list[float] = []
    sel = selector_on(a, slept)
    assert sel.select(0.002) == []  # a timer due in 2 ms: the window is cut to it
    assert slept == [0.002]
    assert sel.select(0) == [] and slept == [0.002]  # a poll never sleeps
    sel.close()


def test_after_an_empty_window_it_blocks_for_the_rest(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    a, b = pair
    slept: list[float] = []
    sel = selector_on(a, slept)
    started = time.monotonic()
    assert sel.select(0.06) == []
    assert slept == [0.005] and time.monotonic() - started >= 0.05  # really waited the rest
    threading.Timer(0.05, b.send, (b"y",)).start()
    assert [key.fileobj for key, _ in sel.select(None)] == [a]  # and wakes for I/O
    sel.close()


def test_quantum_zero_is_asyncios_stock_loop() -> None:
    stock, ours = new_engine_loop(0), new_engine_loop()
    try:
        assert not isinstance(stock._selector, BatchingSelector)  # type: ignore[attr-defined]
        selector = ours._selector  # type: ignore[attr-defined]
        assert isinstance(selector, BatchingSelector) and selector.quantum == QUANTUM_S
    finally:
        stock.close()
        ours.close()


def test_run_engine_runs_a_coroutine_with_timers_and_io() -> None:
    async def echo() -> bytes:
        loop = asyncio.get_running_loop()
        a, b = socket.socketpair()
        with a, b:
            a.setblocking(False)
            b.setblocking(False)
            loop.call_later(0.01, b.send, b"ping")
            return await asyncio.wait_for(loop.sock_recv(a, 10), 2)

    assert run_engine(echo()) == b"ping"


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
