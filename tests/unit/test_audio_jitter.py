"""The adaptive audio jitter buffer, driven by a simulated network and a simulated clock."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from app.net.audio_jitter import (
    CAPACITY,
    FRAME_S,
    FRAME_TS,
    IDLE_AFTER,
    START_DELAY,
    AudioJitterBuffer,
)


@dataclass
class Run:
    jb: AudioJitterBuffer = field(default_factory=AudioJitterBuffer)
    #: (tick time, kind, frame index or None, delay, target) for every tick
    ticks: list[tuple[float, str, int | None, float, float]] = field(default_factory=list)

    def latency(self, since: float, until: float = 1e9) -> list[float]:
        """Send-to-playout time of every frame played from its own packet in [since, until)."""
        return [
            t - i * FRAME_S
            for t, kind, i, _, _ in self.ticks
            if kind == "audio" and i is not None and since <= t < until
        ]

    def kinds(self, since: float, until: float = 1e9) -> list[str]:
        return [kind for t, kind, *_ in self.ticks if since <= t < until]


def simulate(
    delays: list[float | None],
    until: float | None = None,
    base: float = 0.002,
    stamp: Callable[[int], int] = lambda i: 1000 + i * FRAME_TS,
) -> Run:
    """Packet i is sent at i * 20 ms and arrives ``base + delays[i]`` later (None: lost, or not
    sent), with RTP timestamp ``stamp(i)``."""
    arrivals = sorted((i * FRAME_S + base + d, i) for i, d in enumerate(delays) if d is not None)
    end = until if until is not None else len(delays) * FRAME_S + 0.5
    run, k, now = Run(), 0, 0.0
    while now < end:
        tick = run.jb.next_tick()
        arrival = arrivals[k][0] if k < len(arrivals) else None
        if arrival is not None and (tick is None or arrival <= tick):
            now = arrival
            i = arrivals[k][1]
            run.jb.put(stamp(i) % 2**32, i.to_bytes(4, "big"), now)
            k += 1
        elif tick is not None:
            now = max(now, tick)
            kind, payload = run.jb.tick(now)
            index = int.from_bytes(payload, "big") if payload else None
            if kind == "fec" and index is not None:
                index -= 1  # the packet after the lost one carries its FEC copy
            run.ticks.append((now, kind, index, run.jb.delay, run.jb.target))
        else:
            break
    return run


def test_clean_link_plays_each_packet_about_10_ms_after_it_arrives() -> None:
    rng = random.Random(1)
    run = simulate([rng.uniform(0, 0.002) for _ in range(500)])
    late = run.latency(since=1.0)
    assert len(late) > 400
    assert max(late) < 0.020  # stock aiortc: 80 ms (4 packets of prefetch)
    assert run.kinds(since=0.1, until=9.5).count("audio") == len(run.kinds(0.1, 9.5))
    assert run.jb.target <= 0.015


def test_one_lost_packet_is_concealed_and_delay_does_not_change() -> None:
    delays: list[float | None] = [0.001] * 300
    delays[100] = None
    run = simulate(delays)
    kinds = run.kinds(since=0.1, until=5.5)
    assert kinds.count("plc") + kinds.count("fec") == 1
    before, after = run.latency(1.0, 2.0), run.latency(2.1, 3.1)
    assert max(after) <= max(before) + 0.002  # stock aiortc: ~280 ms from here on
    assert max(after) < 0.040
    played_at = [tick[3] for tick in run.ticks if 2.1 < tick[0] < 5.5]
    assert max(abs(d - run.jb.target) for d in played_at) < 0.002  # the depth never moved


def test_a_burst_raises_the_delay_then_drains_back_to_target() -> None:
    """A 200 ms stall: ten packets come at once. The buffer covers the jitter it saw for a
    while, then drops frames until it is back at the clean-link delay."""
    delays: list[float | None] = [0.001] * 400
    for i in range(100, 110):  # sent 2.0 .. 2.18 s, all delivered at 2.2 s
        delays[i] = 2.2 - i * FRAME_S
    run = simulate(delays)
    clean = max(run.latency(1.0, 2.0))
    assert max(run.latency(2.3, 3.0)) > 0.1  # it did adapt to the burst
    settled = run.latency(5.5, 8.0)
    assert max(settled) <= clean + 0.003  # back where it was, not stuck high
    assert run.jb.stats.drained >= 5
    targets = [target for t, *_, target in run.ticks if t > 5.5]
    assert max(targets) < 0.015
    settled_delays = [tick[3] for tick in run.ticks if 5.5 < tick[0] < 7.9]
    assert max(abs(d - run.jb.target) for d in settled_delays) < 0.002  # back at target depth


def test_30_ms_of_jitter_never_conceals_two_frames_in_a_row() -> None:
    rng = random.Random(7)
    run = simulate([rng.uniform(0, 0.030) for _ in range(1500)])  # 30 s, reordering included
    kinds = run.kinds(since=2.0, until=29.0)
    pairs = sum(1 for a, b in itertools.pairwise(kinds) if a != "audio" and b != "audio")
    assert pairs == 0
    assert kinds.count("audio") > 0.97 * len(kinds)
    assert 0.025 < run.jb.target < 0.045
    assert max(run.latency(2.0)) < 0.080


def test_loss_with_the_next_packet_already_here_uses_fec() -> None:
    rng = random.Random(3)
    delays: list[float | None] = [rng.uniform(0, 0.030) for _ in range(300)]
    delays[150] = None
    delays[151] = 0.0  # the next packet is early: its FEC copy rebuilds the lost one
    run = simulate(delays)
    assert ("fec" in run.kinds(2.9, 3.2)) and run.jb.stats.recovered >= 1


def test_queue_is_bounded_when_nobody_plays() -> None:
    jb = AudioJitterBuffer()
    for i in range(500):  # ten seconds of packets, never ticked
        jb.put(i * FRAME_TS, b"x", i * FRAME_S)
    assert jb.depth <= CAPACITY


def test_stops_when_packets_stop_and_restarts_with_them() -> None:
    delays: list[float | None] = [0.001] * 100 + [None] * 100 + [0.001] * 100
    run = simulate(delays)
    gap = [kind for t, kind, *_ in run.ticks if 2.0 + IDLE_AFTER + 0.05 < t < 4.0]
    assert gap == []  # no concealment for a peer that went quiet
    assert run.kinds(4.1, 5.5).count("audio") >= 60


def _paused(n: int = 400, keepalive: int = 20) -> list[float | None]:
    """A clean link; the sender pauses for frames 100-299 (silence), sending one in
    ``keepalive``."""
    rng = random.Random(5)
    delays: list[float | None] = [rng.uniform(0, 0.002) for _ in range(n)]
    for i in range(100, 300):
        if (i - 100) % keepalive != keepalive - 1:
            delays[i] = None
    return delays


def test_after_a_pause_in_sending_the_learned_delay_holds() -> None:
    """A sender that pauses during silence, with a keep-alive every 0.4 s: the player stops
    IDLE_AFTER after each packet, and when sound returns (at 6 s) it plays at the delay it had
    learned on this link (about 10 ms), not at START_DELAY as it would for a new stream."""
    run = simulate(_paused())
    resumed = run.latency(since=6.0, until=6.5)
    assert len(resumed) >= 20 and max(resumed) < 0.020
    pause = run.kinds(2.0 + IDLE_AFTER + 0.05, 6.0)
    assert pause.count("audio") == 10  # each keep-alive, played
    assert pause.count("plc") <= 10 * (IDLE_AFTER / FRAME_S + 1)  # then silence, not concealment


def test_a_stream_on_a_new_timeline_starts_over() -> None:
    """Timestamps that jump by far more than the time that passed (a new encoder) are a new
    stream: the player starts again from START_DELAY."""
    run = simulate(_paused(), stamp=lambda i: 1000 + i * FRAME_TS + (9_000_000 if i >= 300 else 0))
    resumed = run.latency(since=6.0, until=6.3)
    assert len(resumed) >= 10 and min(resumed) >= START_DELAY


def test_late_keep_alives_do_not_set_the_delay_used_after_the_pause() -> None:
    """Two keep-alives 150 ms late early in a pause: the delay played at once the sound returns
    (long after they left the window) is still the one learned from the steady stream."""
    delays = _paused()
    delays[119] = delays[139] = 0.150
    run = simulate(delays)
    resumed = run.latency(since=6.0, until=6.5)
    assert len(resumed) >= 20 and max(resumed) < 0.020
