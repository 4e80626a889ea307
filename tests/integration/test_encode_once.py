"""Encode once, over real aiortc connections on 127.0.0.1: one encoder instance serves every peer,
slow encoding stays off the loop, scaling the picture down starts no threads, a link closed
before it connected stops its tracks, one keyframe for a PLI and one bitrate (the lowest) for
the peers' REMB.

One sender ("A") with a synthetic camera and a tone, and several receivers, each connected to A
by its own PeerLink, exactly as in a mesh call (tests.integration.encode_rig).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any

import pytest

from app.media import encode_once
from app.media.synthetic import read_stamp
from tests.integration.encode_rig import (
    Pair,
    Sender,
    call_fixture,  # noqa: F401  (the "call" fixture)
    drain,
    until,
)

pytestmark = pytest.mark.usefixtures("loopback")


async def test_one_encoder_instance_serves_every_peer(call: Any) -> None:
    sender, pairs, received = call
    await asyncio.sleep(2.0)
    hub = sender.out.video_encoder
    assert hub is not None and list(hub.encoders) == ["vp8"]  # one encoder, for three peers
    encoder = hub.encoders["vp8"]
    for got in received:
        stamped = [read_stamp(f) for _, f in got]
        assert sum(s is not None for s in stamped) >= 20
    # each captured frame was encoded once, not once per peer
    assert encoder.frames <= sender.video.frames_captured + 1
    assert min(len(g) for g in received) >= 0.8 * encoder.frames - 5
    assert sender.out.audio_encoder is not None
    assert list(sender.out.audio_encoder.encoders) == ["opus"]
    assert encoder.options["noise-sensitivity"] == "0"  # a test pattern: no denoiser
    sender.video.source.noisy = True  # type: ignore[attr-defined]  # as a camera would be
    await asyncio.sleep(1.5)  # the next adaptation (every second) sees it
    assert encoder.options["noise-sensitivity"] == "4"
    for pair in pairs:  # aiortc never made its own encoder for any of A's senders
        for transceiver in pair.a.pc.getTransceivers()[:2]:
            assert transceiver.sender._RTCRtpSender__encoder is None


async def test_slow_video_encoding_stays_off_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encode_once, "INLINE_ENCODE", 0.0)  # every frame counts as slow
    sender = Sender()
    pair = Pair(sender, "slow")
    got: list[tuple[float, Any]] = []
    try:
        await pair.connect()
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 10)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        hub = sender.out.video_encoder
        assert hub is not None and hub.inline_frames == 0 and hub.encoders["vp8"].frames >= 10
    finally:
        await pair.close()
        await sender.close()


def _native_threads() -> set[int]:
    """Thread ids of this process that are not Python threads (codec and swscale workers)."""
    tasks = {int(tid) for tid in os.listdir("/proc/self/task")}  # first: a Python thread
    return tasks - {thread.native_id for thread in threading.enumerate()}  # started now is one


async def test_scaling_the_picture_down_starts_no_threads(caplog: pytest.LogCaptureFixture) -> None:
    """A picture sent smaller than it is captured (here 640x480 as 480x360: a large room) is
    scaled on the encoding thread. PyAV's frame.reformat() started a swscale context with a
    thread per CPU core for every frame, alive as long as the frame: on a 16-core desktop 16
    more threads for the whole call, and 480 thread starts a second at 30 fps."""
    caplog.set_level(logging.INFO, logger="app.media.encode_once")
    sender = Sender(size=(640, 480))
    pair = Pair(sender, "small")
    sender.out.set_room_capacity(16)  # -> at most 360p
    got: list[tuple[float, Any]] = []
    try:
        await pair.connect()
        reader = asyncio.ensure_future(drain(pair.tracks["video"], got))
        await until(lambda: len(got) >= 3)
        hub = sender.out.video_encoder
        assert hub is not None and hub.quality is not None and hub.quality.quality.height == 360
        before, seen = _native_threads(), set()
        for _ in range(50):  # about 15 frames
            seen |= _native_threads()
            await asyncio.sleep(0.02)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        assert got[-1][1].height == 360
        assert seen - before == set(), f"{len(seen - before)} threads started while scaling"
        steps = [r.getMessage() for r in caplog.records if r.getMessage().startswith("video ")]
        assert any("p15 -> 360p15 (1 peers" in step for step in steps), steps  # (said in the log)
    finally:
        await pair.close()
        await sender.close()


async def test_a_link_closed_before_it_connected_stops_its_tracks() -> None:
    """aiortc stops a sender's track only if the sender ever ran: a peer gone before its
    connection came up (or a rebuild that never connected) left its tracks in the shared
    encoders for the rest of the call, counted as participants by the quality choice."""
    sender = Sender()
    pair = Pair(sender, "never")
    hubs = [sender.out.audio_encoder, sender.out.video_encoder]
    assert all(hub is not None and len(hub.tracks) == 1 for hub in hubs)
    await pair.a.make_offer()
    await pair.close()
    try:
        assert all(hub is not None and hub.tracks == [] for hub in hubs)
    finally:
        await sender.close()


async def test_a_pli_from_one_peer_yields_one_keyframe_that_every_peer_receives(
    call: Any,
) -> None:
    sender, pairs, _ = call
    await asyncio.sleep(1.0)
    hub = sender.out.video_encoder
    before_hub = hub.keyframes
    before = [p.video_buffer.keyframes_out for p in pairs]
    first = pairs[0]
    ssrc = first.a.pc.getTransceivers()[1].sender._ssrc
    await first.b.pc.getTransceivers()[1].receiver._send_rtcp_pli(ssrc)
    await until(
        lambda: all(p.video_buffer.keyframes_out > b for p, b in zip(pairs, before, strict=True)), 3
    )
    assert hub.keyframes == before_hub + 1
    # requests from every peer at once are merged into one keyframe
    await asyncio.sleep(0.5)
    before_hub = hub.keyframes
    for pair in pairs:
        ssrc = pair.a.pc.getTransceivers()[1].sender._ssrc
        await pair.b.pc.getTransceivers()[1].receiver._send_rtcp_pli(ssrc)
    await asyncio.sleep(0.6)
    assert hub.keyframes == before_hub + 1


async def test_remb_from_the_peers_sets_one_bitrate_the_lowest(call: Any) -> None:
    sender, _, _ = call
    await asyncio.sleep(0.5)
    tracks = sender.out.video_encoder.tracks
    for track, bitrate in zip(tracks, (2_000_000, 900_000, 260_000), strict=True):
        track.set_estimate(bitrate)
    assert sender.out.video_encoder._estimate() == 260_000
