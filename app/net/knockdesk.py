"""Server side of knock-to-join, for the host's embedded rendezvous (see app/net/knock.py).

A ``knock2`` as a connection's first message hands the connection to ``serve_knock``:

    guest → knock2 {hint, name, commit}        (rate-limited per address; pending: limited too)
    host  → knock_wait {pub, commit, timeout_s}  (commit: the hash of the host's nonce)
    guest → knock_reveal {pub}                 (must match the guest's commitment)
          … the host app's ``decide`` hook shows "name wants to join — code 4 8 2 1" …
    host  → knock_nonce {nonce}                (sent as the hook starts: now the guest knows it)
    host  → admitted {pub, box} | error {denied | knock_timeout | no_such_room | …}

The hook runs in the host's process and is cancelled if the guest hangs up or time runs out;
``on_missed(request)`` then tells the host's app a knock went unanswered, and ``on_gone(request)``
that the guest stopped knocking (a host with a log says so; the desktop app leaves no trace).
Nobody learns the code of a knock the hook has not been asked about, and a knock that fails
before that (gone, too slow or malformed) costs its address a whole burst of the rate limit.
An old-style ``knock`` (the nonce came before the guest's key) is refused: ``knock_outdated``.
Without a desk the server answers ``no_knock``. Limits count ``limits.normalise(address)``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from app.errors import ProtocolError, SealError
from app.net import protocol
from app.net.knock import NONCE_BYTES, commitment, decode_key, knock_code, nonce_commitment
from app.net.limits import normalise
from app.net.rooms import TokenBucket
from app.net.seal import b64d, b64e
from app.net.text import clean_name
from app.net.wsio import WsConnection

log = logging.getLogger(__name__)
KNOCK_TIMEOUT_S = 60.0
MAX_IPS = 1024


@dataclass(frozen=True)
class KnockRequest:
    room: str  # the room name the guest asked for (check it is yours)
    name: str  # the guest's display name, cleaned
    guest_pub: bytes
    nonce: bytes
    code: str  # "4 8 2 1": the guest's screen shows the same
    remote: str  # the guest's IP address


@dataclass(frozen=True)
class KnockDecision:
    admit: bool
    box: str = ""  # HostIdentity.seal_secret(...) when admitted
    refusal: str = "denied"  # error code otherwise: denied | no_such_room | room_full


Decide = Callable[[KnockRequest], Awaitable[KnockDecision]]
OnMissed = Callable[[KnockRequest], None]


class KnockLine(Protocol):
    """What the desk needs of a rendezvous connection (``rvsession.Session``)."""

    conn: WsConnection
    peer_id: str

    def send(self, msg: protocol.Message | str) -> bool: ...

    def fail(self, code: str, detail: str = "") -> None: ...

    def finish(self) -> None: ...


class KnockDesk:
    def __init__(
        self,
        host_pub: bytes,
        decide: Decide,
        *,
        timeout: float = KNOCK_TIMEOUT_S,
        reveal_timeout: float = 10.0,
        max_pending: int = 6,
        per_ip: tuple[float, float] = (0.1, 6.0),  # a knock per 10 s, bursts of 6
        pending_per_ip: int = 2,  # one device cannot keep every place taken
        failure_cost: float | None = None,  # tokens a knock failing before the prompt costs
        clock: Callable[[], float] = time.monotonic,
        on_missed: OnMissed = lambda request: None,  # the host did not answer in time
        on_gone: OnMissed = lambda request: None,  # the guest stopped knocking before that
    ) -> None:
        self.on_missed, self.on_gone = on_missed, on_gone
        self._pub, self._decide = host_pub, decide
        self.timeout, self._reveal_timeout = timeout, reveal_timeout
        self.max_pending, self._per_ip, self._clock = max_pending, per_ip, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self.pending = 0
        self.pending_per_ip = pending_per_ip
        self._waiting: Counter[str] = Counter()  # pending knocks by address
        #: default: the whole burst, so a source that gives up after knock_wait waits
        #: burst / rate (60 s) before its next knock
        self.failure_cost = per_ip[1] if failure_cost is None else failure_cost
        self.failures = 0  # knocks that ended before the prompt (for logs and tests)

    async def serve(self, line: KnockLine, msg: protocol.Knock) -> None:
        ip = normalise(line.conn.remote)
        if not self._allow(ip) or self._waiting[ip] >= self.pending_per_ip:
            return line.fail("knock_limited")
        if self.pending >= self.max_pending:
            return line.fail("knock_busy")
        self.pending += 1
        self._waiting[ip] += 1
        try:
            request = await self._handshake(line, msg)
            if request is None:
                self._failed(ip)
            else:
                await self._answer(line, request)
        finally:
            self.pending -= 1
            self._waiting[ip] -= 1
            if not self._waiting[ip]:
                del self._waiting[ip]

    async def _handshake(self, line: KnockLine, msg: protocol.Knock) -> KnockRequest | None:
        name = clean_name(msg.name) or "someone"
        try:
            commit = b64d(msg.commit)
        except SealError:
            commit = b""
        if len(commit) != 32 or len(msg.hint) > 128:
            line.fail("bad_message", "malformed knock")
            return None
        nonce = os.urandom(NONCE_BYTES)
        sealed_nonce = b64e(nonce_commitment(nonce))
        line.send(protocol.KnockWait(b64e(self._pub), sealed_nonce, round(self.timeout)))
        try:
            text = await line.conn.recv_text(self._reveal_timeout)
            reveal = protocol.decode("rv", text) if text is not None else None
            if reveal is None:
                return None  # the guest gave up
            if not isinstance(reveal, protocol.KnockReveal):
                raise ProtocolError(f"expected knock_reveal, got {reveal.TYPE}")
            guest = decode_key(reveal.pub)
        except TimeoutError:
            line.fail("idle", "no knock_reveal in time")
            return None
        except (ProtocolError, SealError) as exc:
            line.fail("bad_message", str(exc))
            return None
        if not hmac.compare_digest(commitment(guest), commit):
            line.fail("bad_message", "the revealed key does not match the knock")
            return None
        code = knock_code(self._pub, guest, nonce)
        return KnockRequest(msg.hint, name, guest, nonce, code, line.conn.remote)

    async def _answer(self, line: KnockLine, request: KnockRequest) -> None:
        decide = asyncio.ensure_future(self._decide(request))
        line.send(protocol.KnockNonce(b64e(request.nonce)))  # the prompt is on its way
        hangup = asyncio.create_task(line.conn.recv_text(None), name="knock-hangup")
        try:
            done, _ = await asyncio.wait(
                (decide, hangup), timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for task in (decide, hangup):
                task.cancel()
            await asyncio.gather(decide, hangup, return_exceptions=True)
        if hangup in done:
            log.info("%s stopped knocking", request.remote)
            self._tell(self.on_gone, request)
            return line.finish()  # gone, or talked out of turn: either way the knock is over
        if decide not in done:
            log.info("%s's knock was not answered in time", request.remote)
            self._tell(self.on_missed, request)
            return line.fail("knock_timeout")
        try:
            decision = decide.result()
        except Exception:
            log.exception("the knock hook failed")
            return line.fail("denied")
        if decision.admit and decision.box:
            log.info("admitted %s (%s)", request.name, request.remote)
            line.send(protocol.Admitted(b64e(self._pub), decision.box))
            return line.finish()
        line.fail(decision.refusal)

    @staticmethod
    def _tell(hook: OnMissed, request: KnockRequest) -> None:
        try:
            hook(request)
        except Exception:
            log.exception("a knock hook failed")

    def _bucket(self, ip: str) -> TokenBucket:
        bucket = self._buckets.pop(ip, None) or TokenBucket(*self._per_ip, clock=self._clock)
        self._buckets[ip] = bucket
        while len(self._buckets) > MAX_IPS:
            self._buckets.popitem(last=False)
        return bucket

    def _allow(self, ip: str) -> bool:
        return self._bucket(ip).allow()

    def _failed(self, ip: str) -> None:
        """A knock that ended before its prompt: no host saw it, so it costs its source more."""
        self.failures += 1
        self._bucket(ip).charge(self.failure_cost)
        log.info("a knock from %s ended before it was put to the host", ip)


async def serve_knock(desk: KnockDesk | None, line: KnockLine, msg: protocol.Message) -> None:
    """Run one knock on a fresh connection, then close it (the rendezvous calls this)."""
    if line.peer_id or not isinstance(msg, protocol.Knock | protocol.KnockV1):
        return line.fail("bad_message", "a knock must be the first message")
    if desk is None:
        return line.fail("no_knock")
    if isinstance(msg, protocol.KnockV1):  # its guest would show a code before fixing its key
        return line.fail("knock_outdated")
    await desk.serve(line, msg)
