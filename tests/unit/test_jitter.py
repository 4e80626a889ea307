"""The low-latency video jitter buffer: frames leave when complete, in order, under loss and
reordering; aiortc's buffer is the reference for what "one frame later" means."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from app.net.jitter import MAX_WAIT, MAX_WAIT_CAP, VideoJitterBuffer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def vp8_frame(index: int, first_seq: int, packets: int, key: bool = False) -> list[Any]:
    """RTP packets of one VP8 frame as aiortc's receiver hands them over (``_data`` set)."""
    out = []
    for i in range(packets):
        packet = RtpPacket(
            payload_type=96,
            sequence_number=(first_seq + i) % 65536,
            timestamp=(index * 3000) % 2**32,
            marker=int(i == packets - 1),
        )
        start = i == 0
        packet.payload = bytes([0x10 if start else 0x00]) + bytes([index % 256]) * 20
        # VP8 payload header: bit 0 of the first byte is 0 for a keyframe
        header = bytes([0x00 if key else 0x01]) if start else b""
        setattr(packet, "_data", header + bytes([index % 256]) * 20)  # noqa: B010
        out.append(packet)
    return out


def stream(
    frames: int, per_frame: int = 3, first_seq: int = 100, keys: tuple[int, ...] = (0,)
) -> list[list[Any]]:
    return [vp8_frame(i, first_seq + i * per_frame, per_frame, i in keys) for i in range(frames)]


def buffer(clock: Clock | None = None) -> VideoJitterBuffer:
    return VideoJitterBuffer(lambda pt: "vp8", clock=clock or Clock())


def feed(jb: Any, packets: list[Any]) -> list[tuple[int, bool, Any]]:
    """(index of the packet that released a frame, pli, frame) for every add."""
    return [(i, *jb.add(p)) for i, p in enumerate(packets)]


def test_a_frame_is_released_by_its_own_last_packet_not_the_next_frame() -> None:
    frames = stream(5)
    jb, stock = buffer(), JitterBuffer(capacity=512, is_video=True)
    ours_at, stock_at = [], []
    for n, packets in enumerate(frames):
        for p in packets:
            _, frame = jb.add(p)
            if frame is not None:
                ours_at.append((n, frame.timestamp))
            _, old = stock.add(p)
            if old is not None:
                stock_at.append((n, old.timestamp))
    assert ours_at == [(n, n * 3000) for n in range(5)]  # frame n leaves while frame n arrives
    assert stock_at == [(n + 1, n * 3000) for n in range(4)]  # aiortc: one frame later
    assert jb.frames_out == 5 and jb.keyframes_out == 1


def test_frame_data_is_the_packets_in_order() -> None:
    (packets,) = stream(1, per_frame=4)
    jb = buffer()
    released = [f for _, _, f in feed(jb, packets) if f is not None]
    assert len(released) == 1
    assert released[0].data == b"".join(p._data for p in packets)


def test_reordered_packets_within_and_across_frames() -> None:
    frames = stream(6)
    order = [p for f in frames for p in f]
    order[4], order[5] = order[5], order[4]  # inside frame 1
    order[9], order[7] = order[7], order[9]  # frame 3's first packet after frame 2's last
    jb = buffer()
    out = []
    for p in order:
        _, frame = jb.add(p)
        if frame is not None:
            out.append(frame.timestamp)
    for _ in range(3):  # frames completed by one packet wait for the next add at most
        _, frame = jb.add(RtpPacket(sequence_number=order[-1].sequence_number))
        if frame is not None:
            out.append(frame.timestamp)
    assert out == [n * 3000 for n in range(6)]


def test_sequence_numbers_wrap() -> None:
    frames = stream(40, first_seq=65500)
    jb = buffer()
    out = [f.timestamp for _, _, f in feed(jb, [p for f in frames for p in f]) if f is not None]
    assert out == [n * 3000 for n in range(40)]


def test_duplicates_are_ignored() -> None:
    frames = stream(3)
    packets = [p for f in frames for p in f]
    jb = buffer()
    out = [f.timestamp for _, _, f in feed(jb, packets[:4] + packets[:4] + packets[4:]) if f]
    assert out == [0, 3000, 6000]


def test_a_retransmission_in_time_fills_the_gap() -> None:
    clock = Clock()
    frames = stream(4)
    packets = [p for f in frames for p in f]
    lost = packets.pop(4)  # middle of frame 1
    jb = buffer(clock)
    out = [f.timestamp for _, _, f in feed(jb, packets[:9]) if f is not None]
    assert out == [0]  # frame 1 is incomplete, frame 2 must wait for it
    clock.now += MAX_WAIT / 2
    _, frame = jb.add(lost)  # the NACKed packet comes back through RTX
    assert frame is not None and frame.timestamp == 3000
    rest = [f.timestamp for _, _, f in feed(jb, packets[9:]) if f is not None]
    _, frame = jb.add(packets[-1])  # a duplicate: flushes the frame still waiting
    assert rest + ([frame.timestamp] if frame else []) == [6000, 9000]


def test_a_lost_packet_skips_to_the_next_keyframe_and_asks_for_one() -> None:
    clock = Clock()
    frames = stream(10, keys=(0, 6))
    packets = [p for f in frames for p in f]
    del packets[4]  # frame 1 can never be decoded, nor anything up to the next keyframe
    jb = buffer(clock)
    out, plis = [], 0
    for p in packets:
        clock.now += 0.01
        pli, frame = jb.add(p)
        plis += pli
        if frame is not None:
            out.append(frame.timestamp)
    assert out[0] == 0 and out[1] == 6 * 3000  # frames 1-5 depend on the lost packet
    assert out == [0, *range(6 * 3000, 10 * 3000, 3000)]
    assert jb.frames_skipped >= 1


def test_after_max_wait_without_a_keyframe_a_pli_is_sent() -> None:
    clock = Clock()
    frames = stream(12)
    packets = [p for f in frames for p in f]
    del packets[4]
    jb = buffer(clock)
    plis = []
    for p in packets:
        clock.now += 0.033 / 3
        pli, _ = jb.add(p)
        if pli:
            plis.append(clock.now)
    assert plis, "the sender must be asked for a keyframe"
    assert plis[0] <= 4 * 0.033 + MAX_WAIT + 0.05


@pytest.mark.parametrize("seed", range(5))
def test_random_loss_and_reordering_never_release_undecodable_frames(seed: int) -> None:
    """Whatever arrives, released frames are in order, whole, and decodable: after a skipped
    frame the next one released is a keyframe."""
    rng = random.Random(seed)
    frames = stream(300, keys=tuple(range(0, 300, 25)))
    packets = [p for f in frames for p in f if rng.random() > 0.02]
    for i in range(len(packets) - 1):  # swap neighbours now and then
        if rng.random() < 0.05:
            packets[i], packets[i + 1] = packets[i + 1], packets[i]
    clock = Clock()
    jb = buffer(clock)
    out = []
    for p in packets:
        clock.now += 0.011
        _, frame = jb.add(p)
        if frame is not None:
            out.append(frame)
    indexes = [f.timestamp // 3000 for f in out]
    assert indexes == sorted(set(indexes))
    for prev, frame in itertools.pairwise(out):
        index = frame.timestamp // 3000
        assert frame.data == b"".join(p._data for p in frames[index])  # whole
        if index != prev.timestamp // 3000 + 1:
            assert frame.data[0] & 1 == 0, "after a gap only a keyframe may follow"
    complete_keys = {
        i for i in range(0, 300, 25) if all(p in packets for p in frames[i])
    }  # every keyframe that arrived whole must come out
    assert complete_keys <= set(indexes)


def test_decoder_backlog_skips_to_a_keyframe() -> None:
    backlog = [0]
    jb = VideoJitterBuffer(lambda pt: "vp8", clock=Clock(), backlog=lambda: backlog[0])
    frames = stream(8, keys=(0, 5))
    out = []
    for n, packets in enumerate(frames):
        backlog[0] = 50 if n in (2, 3) else 0
        for p in packets:
            _, frame = jb.add(p)
            if frame is not None:
                out.append(frame.timestamp // 3000)
    assert out == [0, 1, 5, 6, 7]


def test_the_repair_wait_is_learned_from_retransmissions_including_late_ones() -> None:
    """On a 200 ms round trip a retransmission takes ~200 ms: the first one comes too late (its
    frame was skipped), but it teaches the buffer to wait ~1.5x that for the next gap."""
    clock = Clock()
    jb = buffer(clock)
    assert jb.max_wait == MAX_WAIT  # nothing learned yet: the floor
    frames = stream(40, keys=(0, 10, 20))
    packets = [p for f in frames for p in f]
    first, second = packets[4], packets[64]  # middle of frames 1 and 21
    held = {4: first, 64: second}
    out: list[int] = []
    plis: list[float] = []
    for i, p in enumerate(packets):
        clock.now = i * 0.011  # 3 packets per frame at 30 fps
        if i in held:
            continue
        for lost_at, lost in list(held.items()):
            if clock.now >= lost_at * 0.011 + 0.2:  # the retransmission arrives 200 ms late
                pli, frame = jb.add(lost)
                plis += [clock.now] if pli else []
                out += [frame.timestamp // 3000] if frame is not None else []
                del held[lost_at]
        pli, frame = jb.add(p)
        plis += [clock.now] if pli else []
        out += [frame.timestamp // 3000] if frame is not None else []
    for _ in range(5):  # a repair completes several frames at once; each add hands one on
        _, frame = jb.add(packets[-1])
        out += [frame.timestamp // 3000] if frame is not None else []
    assert out[:2] == [0, 10]  # the first gap outlasted MAX_WAIT: skipped to the keyframe
    assert jb.repaired_late == 1 and jb.repaired == 1
    assert 0.25 < jb.max_wait < 0.35  # learned: 1.5 x 200 ms
    assert [n for n in out if n >= 20] == list(range(20, 40))  # the second gap was repaired
    assert plis and max(plis) < 60 * 0.011  # only the first gap cost a keyframe


def test_the_learned_wait_is_bounded_and_forgotten() -> None:
    clock = Clock()
    jb = buffer(clock)
    frames = stream(6)
    packets = [p for f in frames for p in f]
    lost = packets.pop(4)
    feed(jb, packets)
    clock.now = 1.5  # a repair far slower than any useful wait
    jb.add(lost)
    assert jb.max_wait == MAX_WAIT_CAP
    clock.now = 30.0  # long after: the path may have changed, back to the floor
    assert jb.max_wait == MAX_WAIT


def test_holes_are_tracked_only_for_a_while() -> None:
    clock = Clock()
    jb = buffer(clock)
    packets = [p for f in stream(6) for p in f]
    lost = packets.pop(4)
    feed(jb, packets)
    clock.now = 10.0
    jb.add(packets[-1])  # expires the hole
    jb.add(lost)  # no longer a repair: too old to tell anything about the path
    assert jb.repaired == jb.repaired_late == 0 and jb.max_wait == MAX_WAIT


def test_rtx_packets_are_routed_to_their_receiver_even_with_a_shared_payload_type() -> None:
    """Camera and screen share the RTX payload type: aiortc alone drops every retransmission."""
    from aiortc.rtcdtlstransport import RtpRouter
    from aiortc.rtcrtpparameters import (
        RTCRtpDecodingParameters,
        RTCRtpReceiveParameters,
        RTCRtpRtxParameters,
    )

    from app.net.receive import route_rtx

    router: Any = RtpRouter()

    class Receiver:
        transport = type("Transport", (), {"_rtp_router": router})()

        async def receive(self, parameters: Any) -> None:
            ssrcs = [e.ssrc for e in parameters.encodings]  # what aiortc 1.16 registers
            router.register_receiver(self, ssrcs=ssrcs, payload_types=[97, 98])

    camera, screen = Receiver(), Receiver()
    for receiver, ssrc in ((camera, 1000), (screen, 2000)):
        route_rtx(receiver)
        encoding = RTCRtpDecodingParameters(ssrc=ssrc, payloadType=97)
        encoding.rtx = RTCRtpRtxParameters(ssrc=ssrc + 1)
        asyncio.run(receiver.receive(RTCRtpReceiveParameters(encodings=[encoding])))
    for receiver, ssrc in ((camera, 1001), (screen, 2001)):
        assert router.route_rtp(RtpPacket(payload_type=98, ssrc=ssrc)) is receiver


# -- what re-NACK (app.net.renack) is told ---------------------------------------------------


def test_holes_are_reported_when_opened_and_forgotten_when_filled() -> None:
    clock = Clock()
    jb = buffer(clock)
    opened: list[int] = []
    jb.on_hole = lambda packet: opened.append(packet.sequence_number)
    packets = [p for f in stream(4) for p in f]
    lost = packets.pop(4)
    clock.now = 1.0
    feed(jb, packets)
    assert opened == [105]  # the packet after the gap, once
    assert {e & 0xFFFF: seen for e, seen in jb.missing().items()} == {104: 1.0}
    assert jb.highest is not None and jb.highest & 0xFFFF == 111
    jb.add(lost)
    assert jb.missing() == {} and opened == [105]


def test_holes_of_skipped_frames_are_not_wanted_any_more() -> None:
    clock = Clock()
    jb = buffer(clock)
    packets = [p for f in stream(12, keys=(0, 8)) for p in f]
    del packets[4]  # frame 1: cannot be shown before keyframe 8
    del packets[29 - 1]  # frame 9 (after the keyframe): still worth repairing
    for p in packets:
        clock.now += 0.005
        jb.add(p)
    assert [e & 0xFFFF for e in jb.missing()] == [129]


def test_after_a_skip_without_a_keyframe_only_newer_holes_are_wanted() -> None:
    clock = Clock()
    jb = buffer(clock)
    packets = [p for f in stream(12) for p in f]
    del packets[4]
    for p in packets[:20]:
        jb.add(p)
    clock.now = 0.5  # past the repair wait (and the first PLI's rate limit)
    pli, _ = jb.add(packets[20])  # waited long enough: skipped, waiting for a keyframe
    assert pli and jb.missing() == {}
    del packets[25]
    for p in packets[21:]:
        jb.add(p)
    assert [e & 0xFFFF for e in jb.missing()] == [126]


def test_missing_packets_across_the_sequence_wrap() -> None:
    jb = buffer()
    packets = [p for f in stream(4, first_seq=65532) for p in f]
    lost = [packets.pop(3), packets.pop(3)]  # 65535 and 0
    feed(jb, packets)
    exts = sorted(jb.missing())
    assert [e & 0xFFFF for e in exts] == [65535, 0] and exts[1] == exts[0] + 1
    for p in lost:
        jb.add(p)
    assert jb.missing() == {}
