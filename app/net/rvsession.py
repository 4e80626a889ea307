"""One rendezvous connection's outgoing side (app.net.rendezvous): a bounded queue drained by
its own writer task, so a slow reader is dropped and never stalls the others.

Relayed blobs may fill only RELAY_SHARE of the queue: past that, a blob for this client is
dropped, not the client. Any member may send 200 blobs of 64 KiB at once (the rate limit's
burst), 50 times the queue: were the client dropped for that, one member could throw any other
out of the room at will, however fast it reads (it comes back with a new id, every one of its
connections made again). A client that does not read is dropped all the same, when a send
stalls for ``send_timeout``; the rest of the queue stays for the server's own messages
(``peer_left`` ...), which never wait behind a flood of blobs.
"""

from __future__ import annotations

import asyncio
import logging

from app.errors import PeerMeetError, refusal
from app.net import protocol
from app.net.sparing import worth_saying
from app.net.wsio import CLOSE_TIMEOUT, WsConnection

log = logging.getLogger("app.net.rendezvous")
RELAY_SHARE = 0.75  # of the queue's messages and bytes: the most relayed blobs may take


class Session:
    """One connection's outgoing side: a bounded queue drained by its own writer task."""

    def __init__(
        self, conn: WsConnection, queue_size: int, send_timeout: float, queue_bytes: int = 1 << 18
    ) -> None:
        self.conn = conn
        self.room_id = ""
        self.peer_id = ""
        self.closing = False
        self._dropped = False  # too slow: closed without waiting for it
        self._send_timeout = send_timeout
        self._limit = queue_size
        self._max_bytes, self._queued_bytes = queue_bytes, 0  # bounded memory per client
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size + 1)  # +1: end mark
        self.relays_dropped = 0  # blobs for this client past RELAY_SHARE of the queue
        self._writer = asyncio.create_task(self._write(), name=f"rv-writer-{conn.remote}")

    def send(self, msg: protocol.Message | str, relayed: bool = False) -> bool:
        """Queue a message; False if the client is closing or was just dropped as too slow.
        ``relayed``: a blob from another member, dropped (True) past RELAY_SHARE of the queue."""
        if self.closing:
            return False
        text = msg if isinstance(msg, str) else msg.encode()
        share = RELAY_SHARE if relayed else 1.0
        size, queued = self._queue.qsize(), self._queued_bytes + len(text)
        if size < self._limit * share and queued <= self._max_bytes * share:
            self._queued_bytes += len(text)
            self._queue.put_nowait(text)
            return True
        if relayed:
            self.relays_dropped += 1
            if worth_saying(self.relays_dropped, first=1):
                log.warning(
                    "dropped %d blob(s) for %s: too many at once",
                    self.relays_dropped,
                    self.conn.remote,
                )
            return True
        log.warning("dropping slow client %s (outgoing queue full)", self.conn.remote)
        self._dropped = True
        self.conn.abort()  # now: its writer may be stuck in a send for send_timeout
        while not self._queue.empty():
            self._queue.get_nowait()
        self.finish()
        return False

    def fail(self, code: str, detail: str = "") -> None:
        """Tell the client why, then close (logged for the operator: -v shows it)."""
        log.info("refused %s: %s%s", self.conn.remote, code, f" ({detail})" if detail else "")
        self.send(protocol.Error(code, str(refusal(code, detail))))
        self.finish()

    def finish(self) -> None:
        """Close the connection once everything queued so far is sent. Idempotent."""
        if not self.closing:
            self.closing = True
            self._queue.put_nowait(None)  # never full: send() leaves the last slot free

    async def wait_closed(self) -> None:
        self.finish()
        await self._writer

    async def _write(self) -> None:
        grace = CLOSE_TIMEOUT
        try:
            while (text := await self._queue.get()) is not None:
                self._queued_bytes -= len(text)
                async with asyncio.timeout(self._send_timeout):
                    await self.conn.send_text(text)
        except (TimeoutError, PeerMeetError) as exc:
            log.info("cannot send to %s: %s", self.conn.remote, exc)
            grace = 0.0  # it stopped reading: no polite close handshake
        finally:
            self.closing = True
            await self.conn.close(0.0 if self._dropped else grace)
