"""Low-latency receive and packet size, over real aiortc connections on 127.0.0.1: media packets
skip the queues and the sender tasks (fastpath), frames leave the buffer without waiting for the
next one, and every media datagram fits 1200 bytes.

One sender ("A") with a synthetic camera and a tone, and receivers connected to A by their own
PeerLink, exactly as in a mesh call (tests.integration.encode_rig).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.media.synthetic import read_stamp
from app.net import fastpath, rtpin
from tests.integration.encode_rig import (
    Pair,
    Sender,
    call_fixture,  # noqa: F401  (the "call" fixture)
    drain,
    until,
)

pytestmark = pytest.mark.usefixtures("loopback")


async def test_media_packets_skip_the_queues_and_the_sender_tasks(call: Any) -> None:
    """Each receiver gets its SRTP packets straight from the socket (fastpath), and each of A's
    senders is pushed its packets as they are encoded (sender_binding.DirectSender)."""
    sender, pairs, received = call
    await asyncio.sleep(1.0)
    for pair in pairs:
        dtls = pair.b.pc.getTransceivers()[1].receiver.transport
        shortcut = dtls.transport._connection.data_received
        assert isinstance(shortcut, fastpath.Shortcut)
        total = dtls._RTCDtlsTransport__rx_packets
        assert total > 50 and shortcut.packets > 0.8 * total  # all but handshake, SCTP
        for transceiver in pair.b.pc.getTransceivers()[:2]:  # and then no coroutine at all
            assert rtpin.enabled(transceiver.receiver)
        sent = pair.a.pc.getTransceivers()[1].sender.transport  # fastpath.send_rtp counts too
        assert sent._RTCDtlsTransport__tx_packets > 50
    video = sender.out.video_encoder
    assert video is not None
    for _ in range(50):  # (a loaded machine: a few slow encodes keep the average up a while)
        if video.inline_frames > 5:
            break
        await asyncio.sleep(0.1)
    assert video.inline_frames > 5  # 320x240: encoded on the loop
    for hub in (video, sender.out.audio_encoder):
        assert hub is not None and len(hub.tracks) == 3
        assert all(track._direct is not None for track in hub.tracks)
    assert all(len(got) > 10 for got in received)


async def test_frames_leave_the_buffer_without_waiting_for_the_next_frame() -> None:
    """At 2 fps aiortc's own buffer would hold every frame ~500 ms for the next one."""
    sender = Sender(fps=2)
    pair = Pair(sender, "slow")
    try:
        await pair.connect()
        got: list[tuple[float, Any]] = []
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 5, 10)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        latencies = [
            (int(t * 1000) - s[1]) % 2**32 for t, f in got if (s := read_stamp(f)) is not None
        ]
        assert len(latencies) >= 4
        assert max(latencies) < 150, latencies
    finally:
        await pair.close()
        await sender.close()


async def test_every_media_datagram_fits_1200_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SRTP datagram handed to a UDP socket (whichever path sent it)."""
    sizes: list[int] = []
    transport = asyncio.selector_events._SelectorDatagramTransport  # type: ignore[attr-defined]
    original = transport.sendto

    def sendto(self: Any, data: bytes, addr: Any = None) -> None:
        if data and 128 <= data[0] < 192:  # RTP/RTCP (SRTP), not DTLS or STUN
            sizes.append(len(data))
        original(self, data, addr)

    monkeypatch.setattr(transport, "sendto", sendto)
    sender = Sender(size=(640, 480), fps=15)
    pair = Pair(sender, "mtu")
    try:
        await pair.connect()
        hub = sender.out.video_encoder
        assert hub is not None
        hub.request_keyframe(urgent=True)  # the largest frames
        await asyncio.sleep(1.5)
    finally:
        await pair.close()
        await sender.close()
    assert len(sizes) > 50
    assert max(sizes) <= 1200
