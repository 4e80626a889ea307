"""Re-NACK: the policy (which missing packets to ask for again, when) on an injected clock, and
the adapter's task against a fake receiver."""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc.rtp import RTCP_RTPFB_NACK, RtcpPacket, RtcpRtpfbPacket

from app.net.renack import (
    DEFAULT_RTT,
    MAX_ASKS,
    MIN_INTERVAL,
    RTT_FACTOR,
    SENDER_HISTORY,
    Renacker,
    RenackPolicy,
)

BASE = 1 << 20  # the jitter buffer's extended numbering starts here


def test_asks_again_after_the_interval_then_at_most_max_asks_times() -> None:
    policy = RenackPolicy()
    missing = {BASE + 5: 0.0}  # aiortc NACKed it when the hole was seen, at 0
    wait = RTT_FACTOR * 0.2
    assert wait == 0.25
    assert policy.due(missing, 0.0, 0.2) == []
    assert policy.due(missing, wait - 0.001, 0.2) == []  # the retransmission may still come
    assert policy.next_at(missing, 0.2) == wait
    asks = [n * 0.125 for n in range(1, 20) if policy.due(missing, n * 0.125, 0.2) == [5]]
    assert asks == [wait, 2 * wait, 3 * wait] and MAX_ASKS == 3
    assert policy.next_at(missing, 0.2) is None  # given up: the skip/PLI path takes over
    assert policy.asked == 3


def test_interval_follows_the_round_trip_with_a_floor_and_a_default() -> None:
    policy = RenackPolicy()
    assert policy.interval(0.2) == RTT_FACTOR * 0.2
    assert policy.interval(0.001) == MIN_INTERVAL  # a LAN: still give the RTX a moment
    assert policy.interval(None) == RTT_FACTOR * DEFAULT_RTT


def test_stops_once_the_packet_arrives_or_its_frame_is_skipped() -> None:
    policy = RenackPolicy()
    missing = {BASE + 1: 0.0, BASE + 2: 0.0}
    assert policy.due(missing, 0.1, 0.02) == [1, 2]
    del missing[BASE + 1]  # the retransmission arrived
    assert policy.due(missing, 0.2, 0.02) == [2]
    missing.clear()  # the jitter buffer skipped the frame: nothing is wanted any more
    assert policy.due(missing, 0.3, 0.02) == [] and policy.next_at(missing, 0.02) is None
    missing[BASE + 1] = 0.5  # the same number missing again later (a new hole) starts afresh
    assert policy.due(missing, 0.55, 0.02) == [1]


def test_each_packet_has_its_own_schedule() -> None:
    policy = RenackPolicy(min_interval=0.25)
    missing = {BASE + 10: 0.0, BASE + 20: 0.125}
    assert policy.due(missing, 0.25, 0.0625) == [10]  # 20 was seen only 125 ms ago
    assert policy.next_at(missing, 0.0625) == 0.375
    assert policy.due(missing, 0.375, 0.0625) == [20]
    assert policy.next_at(missing, 0.0625) == 0.5  # 10 again, 250 ms after its last ask
    assert policy.due(missing, 0.75, 0.0625) == [10, 20]


def test_sequence_numbers_wrap_and_come_out_in_nack_order() -> None:
    policy = RenackPolicy()
    ext = (BASE | 0xFFFF) - 1  # 65534 in 16 bits
    missing = {ext + i: 0.0 for i in range(4)}  # 65534, 65535, 0, 1
    lost = policy.due(missing, 1.0, 0.01)
    assert lost == [0, 1, 65534, 65535]
    packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=1, media_ssrc=2, lost=lost)
    (parsed,) = RtcpPacket.parse(bytes(packet))  # aiortc packs them without error
    assert sorted(parsed.lost) == lost


def test_packets_the_sender_no_longer_has_are_not_asked_for() -> None:
    policy = RenackPolicy()
    missing = {BASE: 0.0, BASE + 50: 0.0}
    assert policy.due(missing, 1.0, 0.01, highest=BASE + SENDER_HISTORY + 10) == [50]


def test_max_asks_zero_turns_it_off() -> None:
    policy = RenackPolicy(max_asks=0)
    assert policy.due({BASE: 0.0}, 5.0, 0.01) == [] and policy.next_at({BASE: 0.0}, 0.01) is None


class FakeBuffer:
    def __init__(self) -> None:
        self.holes: dict[int, float] = {}
        self.highest: int | None = BASE + 100
        self.on_hole: Any = None

    def missing(self) -> dict[int, float]:
        return dict(self.holes)


class FakeReceiver:
    def __init__(self) -> None:
        self.nacks: list[tuple[int, list[int]]] = []
        self.sent = asyncio.Event()

    async def _send_rtcp_nack(self, media_ssrc: int, lost: list[int]) -> None:
        self.nacks.append((media_ssrc, lost))
        self.sent.set()


class Packet:
    ssrc = 1234


async def test_the_adapter_sends_what_is_due_and_closes_cleanly() -> None:
    clock = [10.0]
    buffer, receiver = FakeBuffer(), FakeReceiver()
    renacker = Renacker(receiver, buffer, lambda: 0.01, clock=lambda: clock[0])
    assert buffer.on_hole is not None
    buffer.holes = {BASE + 7: 9.0}  # seen a second ago: due at once
    buffer.on_hole(Packet())
    await asyncio.wait_for(receiver.sent.wait(), 1)
    assert receiver.nacks == [(1234, [7])]
    receiver.sent.clear()
    clock[0] = 10.02  # not due yet (25 ms floor): a new hole wakes the task, nothing is sent
    buffer.on_hole(Packet())
    await asyncio.sleep(0.005)
    assert receiver.nacks == [(1234, [7])]
    buffer.holes.clear()  # repaired
    await renacker.aclose()
    await renacker.aclose()  # idempotent
    assert buffer.on_hole is None
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []


async def test_a_disabled_policy_starts_nothing() -> None:
    buffer = FakeBuffer()
    renacker = Renacker(FakeReceiver(), buffer, policy=RenackPolicy(max_asks=0))
    assert buffer.on_hole is None
    await renacker.aclose()
