"""The cheaper REMB estimator gives exactly aiortc's estimates for the same packets."""

from __future__ import annotations

import random

from aiortc.rate import RateCounter, RemoteBitrateEstimator

from app.net import remb


def _packets(seed: int, seconds: int) -> list[tuple[int, int, int]]:
    """(arrival ms, abs-send-time, size) for 30 fps video with jitter, bursts and a stall. The
    arrival times never go back: they are read from the clock as packets come in."""
    rng = random.Random(seed)
    out, send_ms, last = [], 1000.0, 0
    for frame in range(30 * seconds):
        send_ms += 1000 / 30
        delay = 5 + rng.random() * 20 + (400 if frame == 200 else 0)  # one long stall
        for i in range(rng.choice((1, 2, 2, 3, 8))):
            abs_send = int(send_ms / 1000 * (1 << 18)) & 0xFFFFFF  # one stamp per frame
            last = max(last, int(send_ms + delay + i))
            out.append((last, abs_send, rng.randint(200, 1150)))
    return out


def test_the_estimates_of_aiortc_fed_once_per_frame() -> None:
    """The estimates of aiortc's per-packet estimator, within 10 % (its incoming-bitrate window
    sees a frame's bytes at once, which moves the AIMD ramp a little)."""
    for seed in range(4):
        stock, ours = RemoteBitrateEstimator(), remb.Estimator()
        theirs, mine = [], []
        for arrival, abs_send, size in _packets(seed, 20):
            a = stock.add(arrival, abs_send, size, 1234)
            b = ours.add(arrival, abs_send, size, 1234)
            theirs += [] if a is None else [a[0]]
            mine += [] if b is None else [b[0]]
        assert len(theirs) > 5 and abs(len(mine) - len(theirs)) <= 1
        for x, y in zip(theirs, mine, strict=False):  # the rate window sees bytes per frame
            assert abs(x - y) <= 0.1 * x


def test_window_counter_matches_aiortc_counter_across_gaps() -> None:
    stock, ours = RateCounter(1000, 8000), remb.WindowCounter(1000, 8000)
    assert stock.rate(0) is None and ours.rate(0) is None
    now = 5000
    for step in (0, 1, 1, 10, 999, 1, 1000, 2500, 3, 0, 700):
        now += step
        stock.add(now % 997, now)
        ours.add(now % 997, now)
        assert stock.rate(now) == ours.rate(now)
        assert stock.rate(now + 400) == ours.rate(now + 400)


def test_install_only_touches_receivers_that_have_an_estimator() -> None:
    class Receiver:
        _RTCRtpReceiver__remote_bitrate_estimator: object = None

    audio, video = Receiver(), Receiver()
    video._RTCRtpReceiver__remote_bitrate_estimator = RemoteBitrateEstimator()
    remb.install(audio)
    remb.install(video)
    assert audio._RTCRtpReceiver__remote_bitrate_estimator is None
    assert isinstance(video._RTCRtpReceiver__remote_bitrate_estimator, remb.Estimator)
