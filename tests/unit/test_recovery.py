from __future__ import annotations

from app.meeting.recovery import Recovery


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make() -> tuple[Clock, Recovery]:
    clock = Clock()
    return clock, Recovery(clock, stall_s=3, disconnected_s=2, connecting_s=10, backoff_s=(3, 5))


def test_healthy_connection_is_left_alone() -> None:
    clock, rec = make()
    for frames in range(0, 500, 50):
        rec.observe("p", "connected", frames)
        clock.now += 1
        assert rec.reason("p") is None


def test_media_stall_is_detected_after_stall_time() -> None:
    clock, rec = make()
    rec.observe("p", "connected", 100)
    clock.now += 2.9
    rec.observe("p", "connected", 100)
    assert rec.reason("p") is None
    clock.now += 0.2
    assert rec.reason("p") == "no media"


def test_failed_is_immediate_and_disconnected_waits() -> None:
    clock, rec = make()
    rec.observe("a", "failed", 0)
    assert rec.reason("a") == "connection failed"
    rec.observe("b", "connected", 5)
    rec.observe("b", "disconnected", 5)
    clock.now += 1
    assert rec.reason("b") is None
    clock.now += 1
    assert rec.reason("b") == "connection lost"


def test_never_connecting_is_retried() -> None:
    clock, rec = make()
    rec.observe("p", "connecting", 0)
    clock.now += 9
    assert rec.reason("p") is None
    clock.now += 1
    assert rec.reason("p") == "could not connect"


def test_backoff_grows_and_success_resets_it() -> None:
    clock, rec = make()
    rec.observe("p", "failed", 0)
    rec.acted("p")
    rec.observe("p", "failed", 0)
    clock.now += 2.9
    assert rec.reason("p") is None  # first backoff: 3 s
    clock.now += 0.1
    assert rec.reason("p") == "connection failed"
    rec.acted("p")
    rec.observe("p", "failed", 0)
    clock.now += 4.9
    assert rec.reason("p") is None  # second backoff: 5 s
    clock.now += 0.1
    assert rec.reason("p") is not None
    rec.acted("p")
    assert rec.attempts("p") == 3
    rec.observe("p", "connected", 10)
    rec.observe("p", "connected", 20)  # media flows again
    assert rec.attempts("p") == 0


def test_forget() -> None:
    _, rec = make()
    rec.observe("p", "failed", 0)
    rec.forget("p")
    assert rec.reason("p") is None


def test_slow_connect_gets_the_full_stall_time_once_connected() -> None:
    """A connection that took long to connect (TURN over TCP: ~5.5 s) is not "stalled" the
    moment it connects: media gets stall_s from then on."""
    clock, rec = make()
    rec.observe("p", "connecting", 0)
    clock.now += 5.5
    rec.observe("p", "connected", 0)
    assert rec.reason("p") is None
    clock.now += 2.9
    rec.observe("p", "connected", 0)
    assert rec.reason("p") is None
    clock.now += 0.2
    assert rec.reason("p") == "no media"


def test_a_closed_connection_is_dead_and_silence_is_timed() -> None:
    now = [0.0]
    recovery = Recovery(lambda: now[0])
    recovery.observe("p", "connected", 10)
    now[0] = 2.0
    recovery.observe("p", "connected", 50)  # media came at 2.0
    now[0] = 6.5
    recovery.observe("p", "connected", 50)
    assert recovery.silent_for("p") == 4.5
    assert recovery.silent_for("nobody") == 0.0
    recovery.observe("p", "closed", 50)  # the far end's DTLS went away (kill -9, ICE consent)
    assert recovery.reason("p") == "connection failed"
