"""run_now: a coroutine runs on the spot, and one that has to wait is finished by a task."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from app.net import fastpath


async def test_a_coroutine_that_does_not_wait_runs_before_run_now_returns() -> None:
    done: list[int] = []

    async def handle() -> None:
        done.append(1)

    fastpath.run_now(handle())
    assert done == [1]


async def test_a_coroutine_that_waits_is_finished_later_with_the_result() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    got: list[int] = []

    async def handle() -> None:
        got.append(await future)
        await asyncio.sleep(0)  # a bare yield as well
        got.append(2)

    fastpath.run_now(handle())
    assert got == []
    future.set_result(1)
    for _ in range(5):
        await asyncio.sleep(0)
    assert got == [1, 2] and not fastpath._pending


async def test_a_failed_wait_reaches_the_coroutine() -> None:
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    seen: list[str] = []

    async def handle() -> None:
        try:
            await future
        except ValueError as exc:
            seen.append(str(exc))

    fastpath.run_now(handle())
    future.set_exception(ValueError("lost"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == ["lost"]


async def test_errors_are_logged_not_raised_unless_asked(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise RuntimeError("bad packet")

    async def down() -> None:
        raise ConnectionError("link down")

    monkeypatch.setattr(fastpath, "_logged_at", -fastpath.LOG_EVERY)
    with caplog.at_level(logging.ERROR):
        for _ in range(50):  # a fault on every packet: logged once, not fifty times
            fastpath.run_now(broken())
    assert caplog.text.count("handling a media packet failed") == 1
    with pytest.raises(ConnectionError):
        fastpath.run_now(down(), ConnectionError)


def test_send_rtp_refuses_a_transport_that_is_not_connected() -> None:
    from aiortc.rtcdtlstransport import State

    class Dtls:
        _state = State.CLOSED

    with pytest.raises(ConnectionError):
        fastpath.send_rtp(Dtls(), b"\x80" + bytes(20))


async def test_the_shortcut_leaves_everything_but_srtp_to_the_stock_path() -> None:
    """Empty datagrams, DTLS records and packets behind a non-empty queue go the stock way."""
    stock: list[bytes] = []

    class Connection:
        _queue: asyncio.Queue[Any] = asyncio.Queue()

        def data_received(self, data: bytes, component: int) -> None:
            stock.append(data)

    class Dtls:
        _rx_srtp = None  # not keyed yet
        _RTCDtlsTransport__handshake_done = False

    shortcut = fastpath.Shortcut(Dtls(), Connection())
    for data in (b"", b"\x16\xfe\xfd", b"\x80" + bytes(20)):
        shortcut(data, 1)
    assert stock == [b"", b"\x16\xfe\xfd", b"\x80" + bytes(20)] and shortcut.packets == 0


def test_rtpin_steps_aside_for_a_receiver_whose_handler_was_replaced() -> None:
    from app.net import rtpin

    class Receiver:
        async def _handle_rtp_packet(self, packet: Any, arrival_time_ms: int) -> None:
            pass

    plain, replaced = Receiver(), Receiver()
    assert not rtpin.enabled(plain)  # not one of ours
    rtpin.enable(plain)
    rtpin.enable(replaced)
    replaced._handle_rtp_packet = plain._handle_rtp_packet  # type: ignore[method-assign]
    assert rtpin.enabled(plain) and not rtpin.enabled(replaced)
