"""Guest side of knock-to-join: knock on a LAN room's rendezvous and, once admitted, get the
link secret. See app/net/knockdesk.py for the exchange and app/net/knock.py for the crypto.

The guest speaks only ``knock2`` (the host commits to its nonce first): it never shows a code
for a nonce that came before its own key was fixed, so nobody can talk it down to the old way."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from app.errors import (
    REFUSAL_TEXT,
    HostKeyChanged,
    ProtocolError,
    RendezvousUnreachable,
    RoomRefused,
    SealError,
    refusal,
)
from app.net import protocol
from app.net.addresses import host_port
from app.net.knock import GuestKey, decode_key, fingerprint, knock_code, nonce_commitment
from app.net.lanroom import FoundRoom
from app.net.seal import b64d, b64e
from app.net.wsio import WsConnection, ws_connect

log = logging.getLogger(__name__)
M = TypeVar("M", bound=protocol.Message)
OnCode = Callable[[str, int], None]  # (code "4 8 2 1", seconds the host has to decide)
#: the ``reason`` of a RendezvousUnreachable from a host that answered, but not as a host does
ODD = "odd answer"
HOST_GONE = (
    "The host went away before answering your knock. "
    "Look for the room again, or ask the host for the link."
)
OLD_HOST = (
    "The host's PeerMeet is older than yours and cannot take this knock. "
    "Ask the host to update PeerMeet, or for the meeting link."
)
#: the longest a guest waits for the host's decision, whatever the host says (it says 60 s)
MAX_DECIDE_S = 120


def not_reached(room: str, where: str, reason: str) -> str:
    """What a guest reads when the host of a room seen on the LAN cannot be reached: no link
    to check (it was announced), but a host that may have closed PeerMeet or left the network."""
    at = f" at {where}" if where else ""
    why = f" ({reason})" if reason else ""
    return (
        f"Cannot reach the host of “{room}”{at}{why}. They may have closed PeerMeet or left "
        "this network: ask them, or ask for the meeting link."
    )


@dataclass(frozen=True)
class Admission:
    secret: str
    address: str  # the address of the host that answered
    port: int


def _url(address: str, port: int) -> str:
    return f"ws://{host_port(address, port)}/ws"


async def _first_reachable(
    addresses: Sequence[str],
    port: int,
    timeout: float,  # noqa: ASYNC109 - per dial
) -> tuple[WsConnection, str]:
    """Dial every announced address at once; keep the first that answers, close the rest."""
    pending = {asyncio.ensure_future(ws_connect(_url(a, port), timeout)): a for a in addresses}
    winner: tuple[WsConnection, str] | None = None
    error: BaseException | None = None
    try:
        while pending and winner is None:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                address = pending.pop(task)
                if task.exception() is not None:
                    error = task.exception()
                elif winner is None:
                    winner = task.result(), address
                else:
                    await task.result().close()
    finally:
        for task in pending:
            task.cancel()
        for result in await asyncio.gather(*pending, return_exceptions=True):
            if isinstance(result, WsConnection):
                await result.close()
    if winner is None:
        raise error or RendezvousUnreachable("The room announces no address to reach it at.")
    return winner


async def knock(
    room: FoundRoom,
    display_name: str,
    on_code: OnCode,
    *,
    connect_timeout: float = 5.0,
    key: GuestKey | None = None,
) -> Admission:
    """Knock on ``room``; return the secret when admitted.

    Raises RoomRefused (denied, knock_timeout, knock_busy, knock_limited, no_knock …),
    HostKeyChanged (the answer did not come from the announced key) or RendezvousUnreachable.
    """
    key = key or GuestKey()
    try:
        conn, address = await _first_reachable(room.addresses, room.port, connect_timeout)
    except RendezvousUnreachable as exc:  # (its words are a link's: "Check the link, …")
        raise RendezvousUnreachable(
            not_reached(room.info.room, exc.where, exc.reason), where=exc.where, reason=exc.reason
        ) from None
    try:
        await conn.send_text(
            protocol.Knock(room.info.room, display_name, b64e(key.commitment)).encode()
        )
        try:
            wait = await _reply(conn, protocol.KnockWait, connect_timeout)
        except RoomRefused as exc:  # an older host does not know knock2
            if exc.code != "bad_message":
                raise
            raise RoomRefused(exc.code, OLD_HOST) from None
        host_pub = decode_key(wait.pub)
        if fingerprint(host_pub) != room.info.fingerprint:
            raise HostKeyChanged(
                f"The host of “{room.info.room}” answered with another key than it announces. "
                "Someone may be impersonating it: do not knock again; ask the host for the link."
            )
        decide_s = min(max(wait.timeout_s, 0), MAX_DECIDE_S)
        await conn.send_text(protocol.KnockReveal(b64e(key.public)).encode())
        opened = await _reply(conn, protocol.KnockNonce, connect_timeout)
        nonce = b64d(opened.nonce)
        if not hmac.compare_digest(nonce_commitment(nonce), b64d(wait.commit)):
            raise SealError("the host's nonce is not the one it committed to")
        on_code(knock_code(host_pub, key.public, nonce), decide_s)
        admitted = await _reply(conn, protocol.Admitted, decide_s + 10.0)
        if admitted.pub != wait.pub:
            raise SealError("the admit came with another host key")
        secret = key.open_secret(host_pub, nonce, room.info.room, admitted.box)
    except SealError as exc:
        raise HostKeyChanged(
            f"The answer to your knock could not be verified ({exc}). "
            "Someone may be impersonating the host: ask the host for the link."
        ) from None
    finally:
        await conn.close()
    return Admission(secret, address, room.port)


async def _reply(conn: WsConnection, kind: type[M], timeout: float) -> M:  # noqa: ASYNC109
    try:
        text = await conn.recv_text(timeout)
        msg = protocol.decode("rv", text) if text is not None else None
    except TimeoutError:
        raise RendezvousUnreachable(
            f"The host did not answer within {timeout:g} s. Try again, or ask for the link."
        ) from None
    except ProtocolError as exc:
        raise RendezvousUnreachable(f"The host sent something odd ({exc}).", reason=ODD) from None
    if msg is None:
        raise RendezvousUnreachable(HOST_GONE)
    if isinstance(msg, protocol.Error):
        raise refusal(msg.code, "" if msg.code in REFUSAL_TEXT else msg.message[:200])
    if not isinstance(msg, kind):
        raise RendezvousUnreachable(f"The host answered the knock with {msg.TYPE!r}.", reason=ODD)
    return msg
