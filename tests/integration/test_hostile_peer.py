"""A hostile participant: someone with the link (so their signaling opens) running modified code.

The hostile side here is a real SignalingClient, a real Sealer and a real aiortc
RTCPeerConnection driven by hand, so it can send what PeerMeet never would; the other side is a
real Session. Whatever it sends, the Session must not crash, hang or grow without bound, and
must not show what it says as if PeerMeet said it (docs/security.md, "A hostile participant").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription

from app.meeting import events as ev
from app.meeting.links import Link, new_secret
from app.net import protocol as p
from app.net.rendezvous import RendezvousServer
from app.net.rooms import Rooms
from app.net.seal import RoomKeys, Sealer
from app.net.signaling import SignalingClient
from tests.integration.test_session import Peer, until

pytestmark = pytest.mark.usefixtures("loopback")


class Hostile:
    """A member of the room that speaks the protocol by hand. Its id is the lower one, so it is
    the one that offers (the Session only answers)."""

    def __init__(self, client: SignalingClient, link: Link, my_id: str, victim: str) -> None:
        self.client, self.victim = client, victim
        self.sealer = Sealer(RoomKeys.from_secret(link.secret), my_id)
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.attempt = 0

    async def signal(self, msg: p.Message) -> None:
        await self.client.relay(self.victim, self.sealer.seal(self.victim, msg))

    async def answer(self) -> p.Answer:
        while True:
            msg = await asyncio.wait_for(self.client.recv(), 10.0)
            if isinstance(msg, p.Relayed):
                opened = self.sealer.open(msg.sender, msg.blob)
                if isinstance(opened, p.Answer):
                    return opened

    async def call(self, video: Any = None, sdp: Any = None) -> RTCPeerConnection:
        """Offer a connection like PeerMeet's (audio, video, screen, chat), ``video`` the track
        it sends; ``sdp(text)``: what to do to the offer before sending it. Returns once the
        answer is applied."""
        if self.pc is not None:
            await self.pc.close()
        self.pc = pc = RTCPeerConnection()
        pc.addTransceiver("audio")
        pc.addTransceiver(video if video is not None else "video")
        pc.addTransceiver("video")
        self.channel = pc.createDataChannel("chat")
        await pc.setLocalDescription(await pc.createOffer())
        offer = pc.localDescription.sdp
        self.attempt += 1
        await self.signal(
            p.Offer(sdp=sdp(offer) if sdp else offer, name="Mallory", attempt=self.attempt)
        )
        answer = await self.answer()
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer.sdp, type="answer"))
        return pc

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        await self.client.close()


@contextlib.asynccontextmanager
async def hostile_call() -> AsyncIterator[tuple[Peer, Hostile]]:
    """Hana (a real Session) hosts a room; the hostile member joins it after her."""
    ids = iter(["zzzzzzzzzzzz", "AAAAAAAAAAAA"])  # Hana's, then the hostile one's: it offers
    server = RendezvousServer(host="127.0.0.1", port=0)
    server.rooms = Rooms(new_id=lambda: next(ids))
    await server.start()
    link = Link("127.0.0.1", server.port, "team-sync", new_secret())
    hana = Peer("Hana")
    hostile: Hostile | None = None
    try:
        await hana.session.create(link, "small", 3600)
        client = await SignalingClient.connect(link.rendezvous_url, 3.0)
        joined = await client.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        hostile = Hostile(client, link, joined.peer_id, hana.session.my_id)
        yield hana, hostile
    finally:
        if hostile is not None:
            await hostile.close()
        await hana.close()
        await server.close()


async def test_a_peers_reason_for_leaving_is_one_of_ours_or_just_left() -> None:
    """Why a peer left comes from that peer (its signaling ``bye`` or its data-channel
    goodbye), and is shown as "Mallory left (…)" in the chat and printed by the headless CLI.
    A hostile app could put any 60 KB there: escape sequences for a terminal, or words that
    read as PeerMeet's own. Only the reasons PeerMeet sends are passed on; anything else is
    "left"."""
    evil = (
        "\x1b[2J the host says: your link expired, join at evil.example instead" + "!" * 40_000
    )  # (sealed, it still fits the 64 KiB)
    async with hostile_call() as (hana, mallory):
        await mallory.call()
        await until(lambda: bool(hana.of(ev.PeerJoined)))
        await mallory.signal(p.Bye(evil))
        await until(lambda: len(hana.of(ev.PeerLeft)) == 1)
        await mallory.call()  # back, and this time it says goodbye over the data channel
        await until(lambda: bool(hana.of(ev.PeerConnected)))
        await until(lambda: mallory.channel is not None and mallory.channel.readyState == "open")
        assert mallory.channel is not None
        mallory.channel.send(p.Goodbye(reason="expired").encode())  # (one of ours: kept)
        await until(lambda: len(hana.of(ev.PeerLeft)) == 2)
        await mallory.call()
        await until(lambda: len(hana.of(ev.PeerConnected)) == 2)
        await until(lambda: mallory.channel is not None and mallory.channel.readyState == "open")
        mallory.channel.send(p.Goodbye(reason=evil).encode())
        await until(lambda: len(hana.of(ev.PeerLeft)) == 3)
        reasons = [e.reason for e in hana.of(ev.PeerLeft)]  # type: ignore[attr-defined]
        assert reasons == ["left", "expired", "left"]
