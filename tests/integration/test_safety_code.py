"""The safety code proves nobody is in between: it comes from the certificates the DTLS
handshake used, so someone who relays (and can re-seal) the signaling and terminates each end's
handshake with their own certificate cannot make both ends show one code, even by adding the
far end's fingerprints to the SDP under a hash name that aiortc does not check."""

from __future__ import annotations

import asyncio
import hashlib
import re

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCCertificate

from app.net.peers import handshake_safety_code

pytestmark = pytest.mark.usefixtures("loopback")


def _prints(sdp: str) -> list[str]:
    return sorted({m.upper() for m in re.findall(r"a=fingerprint:\S+ ([0-9A-Fa-f:]+)", sdp)})


def _code_of_earlier_versions(local_sdp: str, remote_sdp: str) -> str:
    """What versions before this one showed: the SDP's fingerprints, hashed."""
    digest = hashlib.sha256("|".join(sorted(_prints(local_sdp) + _prints(remote_sdp))).encode())
    number = int.from_bytes(digest.digest()[:5], "big") % 100_000_000
    return f"{number // 10_000:04d} {number % 10_000:04d}"


def _smuggle(sdp: str, prints: list[str]) -> str:
    """The far end's fingerprints added under "sha-1", which aiortc does not check."""
    extra = "".join(f"a=fingerprint:sha-1 {value}\r\n" for value in prints)
    return re.sub(r"(a=fingerprint:sha-256 [0-9A-F:]+\r\n)", lambda m: m[1] + extra, sdp)


async def _connected(*pcs: RTCPeerConnection) -> None:
    for _ in range(500):
        if all(pc.connectionState == "connected" for pc in pcs):
            return
        await asyncio.sleep(0.02)
    raise AssertionError([pc.connectionState for pc in pcs])


async def _offer_answer(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def test_both_ends_show_one_code_as_earlier_versions_did() -> None:
    a, b = RTCPeerConnection(), RTCPeerConnection()
    a.createDataChannel("chat")
    a.addTransceiver("video")
    assert handshake_safety_code(a) == ""  # no handshake yet
    try:
        await _offer_answer(a, b)
        await _connected(a, b)
        code = handshake_safety_code(a)
        assert re.fullmatch(r"\d{4} \d{4}", code) and code == handshake_safety_code(b)
        sdp = (a.localDescription.sdp, a.remoteDescription.sdp)
        assert code == _code_of_earlier_versions(*sdp)  # so an older peer shows the same
    finally:
        await a.close()
        await b.close()


async def test_someone_in_between_cannot_make_the_codes_match() -> None:
    a, b, to_a, to_b = (RTCPeerConnection() for _ in range(4))
    cert = RTCCertificate.generateCertificate()  # one certificate on both legs
    for middle in (to_a, to_b):
        middle._RTCPeerConnection__certificates = [cert]  # type: ignore[attr-defined]
    a.createDataChannel("chat")
    to_b.createDataChannel("chat")
    try:
        await a.setLocalDescription(await a.createOffer())
        await to_b.setLocalDescription(await to_b.createOffer())
        offer = _smuggle(to_b.localDescription.sdp, _prints(a.localDescription.sdp))
        await b.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await b.setLocalDescription(await b.createAnswer())
        await to_b.setRemoteDescription(b.localDescription)
        await to_a.setRemoteDescription(a.localDescription)
        await to_a.setLocalDescription(await to_a.createAnswer())
        answer = _smuggle(to_a.localDescription.sdp, _prints(b.localDescription.sdp))
        await a.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await _connected(a, b, to_a, to_b)
        # the SDP-only code of earlier versions was fooled: the same digits on both screens
        fooled = [_code_of_earlier_versions(p.localDescription.sdp, p.remoteDescription.sdp)
                  for p in (a, b)]  # fmt: skip
        assert fooled[0] == fooled[1]
        assert handshake_safety_code(a) != handshake_safety_code(b)
        assert handshake_safety_code(a) == handshake_safety_code(to_a)  # each leg: its own
    finally:
        for pc in (a, b, to_a, to_b):
            await pc.close()
