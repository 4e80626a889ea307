"""RemoteRooms: meetings hosted on an outside rendezvous, created, ended and extended over the
wire. HostService keeps only the owner token for these; each call opens a short connection,
does one thing and, for end and extend, waits until the rendezvous confirms it. End and extend
take no seat (``manage``), so they work on a full room; a rendezvous from before that request
is asked as a member instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from app.errors import RendezvousUnreachable, RoomRefused, UntrustedCertificate, refusal
from app.meeting.links import Link, parse_link
from app.meeting.store import MeetingRecord
from app.net import protocol
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.net.wsio import NOT_FOUND, untrusted

Connect = Callable[[str, float], Awaitable[SignalingClient]]

#: what the host can do when its rendezvous cannot be reached (a guest's words, "ask the host
#: whether PeerMeet is still running", are no use to the host: it runs on a server)
CHECK_ADDRESS = "Check the address, and that the server runs."
CHECK_SERVER = "Check that the server runs and that this computer is online, then try again."


def in_host_words(
    exc: RendezvousUnreachable, what_to_do: str, address: str = "the server's address"
) -> RendezvousUnreachable:
    """``exc`` (said to a guest: "Check the link") as the host of a room on an outside
    rendezvous reads it, who gave no link but the server's ``address``; unchanged if it names
    no server (its words say it). A name not found is said as such, whatever ``what_to_do``:
    "… and that the server runs" is no use when the name leads to no server at all."""
    if isinstance(exc, UntrustedCertificate):  # (a host checks the server, not a link)
        return untrusted(exc.where, exc.reason, address)
    if not exc.where:
        return exc
    why = f" ({exc.reason})" if exc.reason else ""
    if exc.reason == NOT_FOUND:
        return RendezvousUnreachable(
            f"Cannot find the rendezvous server {exc.where}{why}. Check the spelling of "
            f"{address}, and that this computer is online and its DNS works.",
            where=exc.where,
            reason=exc.reason,
        )
    return RendezvousUnreachable(
        f"Cannot reach the rendezvous server at {exc.where}{why}. {what_to_do}",
        where=exc.where,
        reason=exc.reason,
    )


class RemoteRooms:
    def __init__(self, connect: Connect, timeout: float) -> None:
        self._open, self._timeout = connect, timeout

    async def _connect(self, url: str, what_to_do: str = CHECK_SERVER) -> SignalingClient:
        """A connection to the rendezvous at ``url``; RendezvousUnreachable in the host's words."""
        try:
            client = await self._open(url, self._timeout)
            client.who = "the rendezvous server"
            return client
        except RendezvousUnreachable as exc:
            raise in_host_words(exc, what_to_do) from None

    async def create(self, link: Link, size: str, lifetime_s: int) -> tuple[str, float]:
        """Create the room ``link`` names, leaving it empty; its owner token and expiry."""
        client = await self._connect(link.rendezvous_url, CHECK_ADDRESS)
        try:
            keys = RoomKeys.from_secret(link.secret)
            joined = await client.create(keys.room_id, link.room, size, lifetime_s)
        finally:
            await client.close()
        return joined.owner_token or "", joined.expires_at

    async def end(self, record: MeetingRecord) -> None:
        await self._control(record, None)

    async def extend(self, record: MeetingRecord, seconds: int) -> float | None:
        """Extend the room by ``seconds``; the new expiry the rendezvous confirmed."""
        return await self._control(record, seconds)

    async def _control(self, record: MeetingRecord, extend_s: int | None) -> float | None:
        """End (``extend_s`` None) or extend a room from outside it; the new expiry."""
        link = parse_link(record.link)
        room = RoomKeys.from_secret(link.secret).room_id
        client = await self._connect(link.rendezvous_url)
        try:
            reply = await client.manage(room, record.owner_token, extend_s)
        except RoomRefused as exc:
            if exc.code != "bad_message":
                raise
            reply = None  # a rendezvous from before "manage": end or extend as a member
        finally:
            await client.close()
        if reply is None:
            return await self._control_as_member(link, room, record.owner_token, extend_s)
        return reply.expires_at if isinstance(reply, protocol.Extended) else None

    async def _control_as_member(
        self, link: Link, room: str, owner_token: str, extend_s: int | None
    ) -> float | None:
        """The same by joining the room first (refused when the room is full)."""
        client = await self._connect(link.rendezvous_url)
        try:
            await client.join(room, link.room)
            if extend_s is None:
                await client.end(owner_token)
            else:
                await client.extend(owner_token, extend_s)
            async with asyncio.timeout(self._timeout):
                while (msg := await client.recv()) is not None:
                    if isinstance(msg, protocol.Error):
                        raise refusal(msg.code)
                    if isinstance(msg, protocol.Extended) and extend_s is not None:
                        return msg.expires_at
                    if isinstance(msg, protocol.RoomEnded) and extend_s is None:
                        return None
        except TimeoutError:
            raise RendezvousUnreachable("The rendezvous did not confirm in time.") from None
        finally:
            await client.close()
        if extend_s is None:
            return None
        raise RendezvousUnreachable("The rendezvous closed the connection before confirming.")
