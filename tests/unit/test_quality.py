"""The adaptive quality policy: call size, room size, bandwidth and CPU decide what is sent."""

from __future__ import annotations

from app.media.quality import DOWN_HOLD, UP_HOLD, QualityController, Rung, height_cap


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def controller(
    width: int = 1280, height: int = 720, fps: int = 30
) -> tuple[QualityController, Clock]:
    clock = Clock()
    return QualityController(width, height, fps, clock=clock), clock


def test_call_size_sets_the_resolution() -> None:
    assert [height_cap(n) for n in (2, 3, 4, 5, 6, 7, 12)] == [720, 480, 480, 360, 360, 240, 240]
    q, _ = controller()
    assert (q.update(2).height, q.update(2).fps) == (720, 30)
    assert q.update(3).height == 480
    assert q.update(5).height == 360
    assert q.update(8).height == 240


def test_room_size_caps_the_resolution() -> None:
    assert height_cap(2, room_capacity=4) == 720
    assert height_cap(2, room_capacity=8) == 480
    assert height_cap(2, room_capacity=16) == 360


def test_never_above_what_the_camera_captures_and_keeps_its_aspect() -> None:
    q, _ = controller(640, 480, 30)
    assert q.update(2) == q.quality and (q.quality.width, q.quality.height) == (640, 480)
    assert (q.update(5).width, q.quality.height) == (480, 360)
    q15, _ = controller(640, 480, 15)
    assert q15.update(2).fps == 15


def test_low_bandwidth_lowers_fps_before_resolution_and_recovers() -> None:
    q, clock = controller()
    assert q.update(2, bandwidth=5_000_000).height == 720
    steps = []
    for _ in range(8):
        clock.now += DOWN_HOLD
        steps.append((q.update(2, bandwidth=150_000).height, q.quality.fps))
    assert steps[0] == (720, 20)  # first the frame rate
    assert steps[1] == (480, 30)  # then the size
    assert q.quality.bitrate <= 150_000
    assert q.quality.height <= 360
    low = q.quality
    for _ in range(40):  # plenty of bandwidth again: one rung per UP_HOLD, back to the top
        clock.now += 1.0
        q.update(2, bandwidth=5_000_000)
    assert q.quality.height == 720 and q.quality.fps == 30
    assert low.height < 720


def test_steps_down_at_most_once_per_hold_and_up_only_after_a_quiet_spell() -> None:
    q, clock = controller()
    q.update(2)
    clock.now += DOWN_HOLD
    first = q.update(2, cpu_load=0.95)
    clock.now += 0.5
    assert q.update(2, cpu_load=0.95) == first  # not again so soon
    clock.now += UP_HOLD / 2
    assert q.update(2, cpu_load=0.1) == first  # not back yet
    clock.now += UP_HOLD
    assert q.update(2, cpu_load=0.1).fps == 30


def test_cpu_overload_lowers_quality() -> None:
    q, clock = controller(640, 480, 30)
    q.update(3)
    clock.now += DOWN_HOLD
    assert q.update(3, cpu_load=0.9).fps == 20
    clock.now += DOWN_HOLD
    assert q.update(3, cpu_load=0.9).height == 360


def test_pinned_keeps_size_and_rate_but_follows_bandwidth() -> None:
    clock = Clock()
    q = QualityController(640, 480, 30, pinned=True, clock=clock)
    for n in (2, 6, 9):
        clock.now += DOWN_HOLD
        assert (q.update(n, bandwidth=200_000, cpu_load=0.99).height, q.quality.fps) == (480, 30)
    assert q.quality.bitrate < Rung(480, 30).bitrate


def test_bitrate_follows_the_lowest_estimate_within_the_rung() -> None:
    q, _ = controller(640, 480, 30)
    full = q.update(3).bitrate
    assert q.update(3, bandwidth=10_000_000).bitrate == full
    assert q.update(3, bandwidth=int(full * 0.9)).bitrate < full


def test_room_size_setting_caps_the_picture() -> None:
    """A 1:1 call may send 720p, but not in a room created as "large" (16 people)."""
    from app.media.quality import QualityController

    small = QualityController(1280, 720, 30, clock=lambda: 0.0)
    assert small.update(2).height == 720
    large = QualityController(1280, 720, 30, clock=lambda: 0.0)
    large.room_capacity = 16
    assert large.update(2).height <= 360
    mid = QualityController(1280, 720, 30, clock=lambda: 0.0)
    mid.room_capacity = 8
    assert mid.update(2).height <= 480
