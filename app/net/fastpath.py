"""Media packets between the socket and aiortc in one call: no queues, no coroutine chains.

Stock, every datagram takes this path in aioice 0.10 / aiortc 1.16: ``StunProtocol`` tries to
parse it as STUN (an exception for each media packet), the ICE connection puts it on an
``asyncio.Queue``, and the DTLS transport's reader task wakes up, takes it off and handles it.
That is a queue, a future and a task step per packet, about 700 times a second for each
participant of a 4-person call. ``install(pc)`` (once the connection is up; idempotent) hands
each SRTP/SRTCP datagram straight to the DTLS transport's own handlers, run to completion on the
spot. Anything else (STUN, DTLS, SCTP data), and any packet that arrives while older ones still
wait in the queue, takes the stock path, so the order of packets is kept.
``patch_ice()`` (process-wide, idempotent) makes aioice skip its STUN parse for datagrams
whose first byte cannot start a STUN message (RFC 7983 demultiplexing), and makes its UDP
sockets read into a 64 KiB buffer instead of asyncio's 256 KiB: a buffer that large is
allocated with mmap for every datagram, which made each read cost 8 times as much (16.6 µs
against 2.0 µs here), and no UDP datagram is larger than 64 KiB.

On the way out, ``send_rtp(dtls, packet)`` does what ``RTCDtlsTransport._send_rtp`` does
(protect, count, send on the nominated candidate pair) as plain calls instead of five nested
coroutines per packet.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

import pylibsrtp
from aioice import ice, turn
from aiortc import clock
from aiortc.rtcdtlstransport import State
from aiortc.rtp import RtpPacket, is_rtcp

from app.net import rtpin

log = logging.getLogger(__name__)
_HANDSHAKE_DONE = "_RTCDtlsTransport__handshake_done"
_RX_BYTES = "_RTCDtlsTransport__rx_bytes"
_RX_PACKETS = "_RTCDtlsTransport__rx_packets"
_TX_BYTES = "_RTCDtlsTransport__tx_bytes"
_TX_PACKETS = "_RTCDtlsTransport__tx_packets"
_STOCK_DATAGRAM = ice.StunProtocol.datagram_received
READ_SIZE = 65_536  # bytes asked of the kernel per datagram (the largest UDP payload fits)
_pending: set[asyncio.Task[None]] = set()  # the rare handler that had to wait
LOG_EVERY = 10.0  # s between logged handler failures
_failures = 0
_logged_at = -LOG_EVERY


def patch_ice() -> None:
    """aioice: no STUN parse for media datagrams, smaller socket reads (see the module doc)."""
    ice.StunProtocol.datagram_received = _datagram_received  # type: ignore[method-assign,assignment]
    for protocol in (ice.StunProtocol, turn.TurnClientUdpProtocol):
        made = protocol.connection_made
        if not getattr(made, "_peermeet", False):
            protocol.connection_made = _small_reads(made)  # type: ignore[method-assign]


def _small_reads(made: Any) -> Any:
    def connection_made(self: Any, transport: Any) -> None:
        if getattr(transport, "max_size", 0) > READ_SIZE:
            transport.max_size = READ_SIZE
        made(self, transport)

    connection_made._peermeet = True  # type: ignore[attr-defined]
    return connection_made


def _datagram_received(self: Any, data: bytes, addr: tuple[Any, ...]) -> None:
    if data and data[0] > 3:  # STUN messages start with 0b00 (RFC 7983)
        self.receiver.data_received(data, self.local_candidate.component)
    else:
        _STOCK_DATAGRAM(self, data, addr)


def run_now(
    coro: Coroutine[Any, Any, None], reraise: type[Exception] | tuple[type[Exception], ...] = ()
) -> None:
    """Run ``coro`` on the spot; if it has to wait, a task finishes it (kept until done).
    Errors are logged, except ``reraise`` ones that happen before it waits."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return
    except reraise:
        raise
    except Exception:
        _failed()
        return
    task = asyncio.get_running_loop().create_task(_finish(coro, waiting))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drive ``coro`` on from where ``run_now`` left it (it yielded ``waiting``)."""
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                waiting._asyncio_future_blocking = False
                try:
                    await waiting
                except asyncio.CancelledError:
                    if not waiting.done():  # this task was cancelled, not what it waited for
                        raise
                except Exception:  # the coroutine gets it from result()
                    pass
            waiting = coro.send(None)
    except StopIteration:
        pass
    except Exception:
        _failed()
    finally:
        coro.close()


def _failed() -> None:
    """Log a failure with its traceback, at most once per LOG_EVERY seconds: a fault that hits
    every packet (hundreds a second) must not flood the log."""
    global _failures, _logged_at
    _failures += 1
    now = time.monotonic()
    if now - _logged_at >= LOG_EVERY:
        _logged_at = now
        log.exception("handling a media packet failed (%d so far)", _failures)


def install(pc: Any) -> None:
    """Shortcut the receive path of ``pc``'s DTLS transports (call when connected)."""
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        if dtls is None or id(dtls) in seen:
            continue
        seen.add(id(dtls))
        connection = getattr(dtls.transport, "_connection", None)
        if connection is None or isinstance(connection.data_received, Shortcut):
            continue
        connection.data_received = Shortcut(dtls, connection)


class Shortcut:
    """Stands in for one aioice connection's ``data_received``; counts what it short-cut."""

    def __init__(self, dtls: Any, connection: Any) -> None:
        self._dtls, self._stock, self._queue = dtls, connection.data_received, connection._queue
        self.packets = 0

    def __call__(self, data: bytes, component: int) -> None:
        dtls = self._dtls
        if (
            data
            and 127 < data[0] < 192
            and self._queue.empty()
            and dtls._rx_srtp is not None
            and getattr(dtls, _HANDSHAKE_DONE)
        ):
            self.packets += 1
            _handle_srtp(dtls, data)
        else:
            self._stock(data, component)


def _handle_srtp(dtls: Any, data: bytes) -> None:
    """What RTCDtlsTransport._recv_next does with an SRTP/SRTCP datagram."""
    setattr(dtls, _RX_BYTES, getattr(dtls, _RX_BYTES) + len(data))
    setattr(dtls, _RX_PACKETS, getattr(dtls, _RX_PACKETS) + 1)
    arrival_time_ms = clock.current_ms()
    try:
        if is_rtcp(data):
            run_now(dtls._handle_rtcp_data(dtls._rx_srtp.unprotect_rtcp(data)))
            return
        data = dtls._rx_srtp.unprotect(data)
    except pylibsrtp.Error:
        return
    try:  # RTCDtlsTransport._handle_rtp_data, and for our receivers no coroutine at all
        packet = RtpPacket.parse(data, dtls._rtp_header_extensions_map)
    except ValueError:
        return
    receiver = dtls._rtp_router.route_rtp(packet)
    if receiver is None:
        return
    if not rtpin.enabled(receiver):
        run_now(receiver._handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms))
        return
    try:
        rtpin.handle(receiver, packet, arrival_time_ms, run_now)
    except Exception:
        _failed()


def send_rtp(dtls: Any, packet: bytes) -> None:
    """Protect and send one RTP packet; ConnectionError if the link is not (or no longer) up."""
    if dtls._state != State.CONNECTED:
        raise ConnectionError("Cannot send encrypted RTP, not connected")
    data = dtls._tx_srtp.protect(packet)
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None:
        raise ConnectionError("Cannot send data, not connected")
    protocol = pair.protocol
    if type(protocol) is ice.StunProtocol and protocol.transport is not None:
        protocol.transport.sendto(data, pair.remote_addr)  # a plain UDP socket: no wait
    else:  # through a TURN relay: its own send path, which may have to wait
        run_now(protocol.send_data(data, pair.remote_addr), ConnectionError)
    setattr(dtls, _TX_BYTES, getattr(dtls, _TX_BYTES) + len(data))
    setattr(dtls, _TX_PACKETS, getattr(dtls, _TX_PACKETS) + 1)
