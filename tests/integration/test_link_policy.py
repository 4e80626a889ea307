"""PeerLink applies relay-only and candidate hygiene (app.net.candidates) to real SDP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiortc import AudioStreamTrack, RTCIceTransportPolicy, VideoStreamTrack

from app.config import EngineConfig, IceServer
from app.errors import PeerMeetError
from app.net.peers import LinkPolicy, PeerLink, set_loopback_only

TURN = IceServer("turn:turn.invalid:3478", "u", "p")


def link(
    peer: str,
    offerer: bool,
    policy: LinkPolicy | None = None,
    servers: tuple[IceServer, ...] = (),
) -> PeerLink:
    return PeerLink(
        peer,
        offerer=offerer,
        ice_servers=servers,
        audio=AudioStreamTrack(),
        video=VideoStreamTrack(),
        on_state=lambda *_: None,
        on_track=lambda *_: None,
        on_data=lambda *_: None,
        policy=policy,
    )


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    set_loopback_only(False)


async def test_loopback_candidates_are_dropped_outside_loopback_rooms() -> None:
    set_loopback_only(True)  # the offer carries only 127.0.0.1 candidates
    offerer = link("b", True)
    offer = await offerer.make_offer()
    assert "127.0.0.1" in offer and "a=candidate:" in offer
    set_loopback_only(False)
    answerer = link("a", False)  # default policy: loopback is refused
    try:
        await answerer.accept_offer(offer)
        remote = answerer.pc.remoteDescription.sdp
        assert "a=candidate:" not in remote and "127.0.0.1 " not in remote.split("c=IN IP4")[-1]
    finally:
        await offerer.close()
        await answerer.close()


async def test_loopback_rooms_keep_loopback_candidates() -> None:
    set_loopback_only(True)
    offerer, answerer = link("b", True), link("a", False)
    try:
        await answerer.accept_offer(await offerer.make_offer())
        assert "127.0.0.1" in answerer.pc.remoteDescription.sdp
    finally:
        await offerer.close()
        await answerer.close()


async def test_relay_only_needs_a_turn_server() -> None:
    with pytest.raises(PeerMeetError, match="Relay-only mode needs a TURN server"):
        link("b", True, LinkPolicy(relay_only=True))


async def test_relay_only_sets_the_relay_transport_policy() -> None:
    config = EngineConfig(relay_only=True, ice_servers=(TURN,))
    relayed = link("b", True, LinkPolicy.from_config(config), servers=config.ice_servers)
    try:
        configuration = relayed.pc._RTCPeerConnection__configuration  # aiortc keeps it private
        assert configuration.iceTransportPolicy is RTCIceTransportPolicy.RELAY
    finally:
        await relayed.close()


async def test_a_server_aiortc_cannot_parse_is_left_out_instead_of_failing_the_call() -> None:
    bad = (IceServer("stun:[::1]:3478"), IceServer("stun:s.example:notaport"))
    offerer = link("b", True, servers=(*bad, IceServer("stun:127.0.0.1:9")))
    try:
        config = offerer.pc._RTCPeerConnection__configuration  # type: ignore[attr-defined]
        assert [s.urls for s in config.iceServers] == ["stun:127.0.0.1:9"]
    finally:
        await offerer.close()
