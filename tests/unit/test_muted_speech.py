"""Noticing speech while muted: the policy frame by frame, and the microphone feed that uses it."""

from __future__ import annotations

import numpy as np
import pytest

from app.media.audio import ToneSource
from app.media.audio_tracks import AudioFeed
from app.media.muted_speech import COOLDOWN, NEEDED, WINDOW, MutedSpeech
from app.media.pcm import FRAME_SAMPLES


def hints(policy: MutedSpeech, levels: list[float]) -> list[int]:
    """Indices of the frames at which the policy spoke up."""
    return [i for i, level in enumerate(levels) if policy.hear(level)]


def test_a_fifth_of_a_second_of_voice_gets_one_hint_then_a_cooldown() -> None:
    policy = MutedSpeech()
    assert hints(policy, [0.1] * NEEDED) == [NEEDED - 1]  # 0.2 s in
    assert hints(policy, [0.1] * (COOLDOWN - 1)) == []  # still talking: no nagging
    assert hints(policy, [0.1] * 3) == [0]  # 20 s after the first hint, a second one


def test_a_quiet_room_a_cough_or_a_click_get_no_hint() -> None:
    policy = MutedSpeech()
    rng = np.random.default_rng(1)
    room = list(rng.uniform(0.0, 0.01, 3000))  # a minute of room noise
    assert hints(policy, room) == []
    cough = [0.0] * 20 + [0.4] * 4 + [0.0] * 40  # 80 ms, loud
    clicks = ([0.5] + [0.0] * (WINDOW // 3)) * 20  # sharp and sparse
    assert hints(policy, cough * 10 + clicks) == []


def test_unmuting_forgets_what_was_heard() -> None:
    policy = MutedSpeech()
    assert hints(policy, [0.1] * (NEEDED - 1)) == []
    policy.reset()  # unmuted, then muted again
    assert hints(policy, [0.1] * (NEEDED - 1)) == []
    assert hints(policy, [0.1]) == [0]
    with pytest.raises(ValueError):
        MutedSpeech(window=5, needed=6)


def test_the_feed_counts_talking_while_muted_and_only_then() -> None:
    """Frame by frame (AudioFeed._tick, no loop): the tone reaches the counter only while muted,
    and what is sent meanwhile is silence."""
    feed = AudioFeed(ToneSource(440.0, amplitude=0.3))
    for i in range(50):
        feed._tick(i)
    assert feed.muted_speech == 0 and feed.level > 0.1  # unmuted: sent, no hint
    feed.set_muted(True)
    for i in range(50, 50 + NEEDED):
        feed._tick(i)
    assert feed.muted_speech == 1 and feed.level == 0.0
    for i in range(60, 60 + NEEDED):  # still talking, still muted: no second hint yet
        feed._tick(i)
    assert feed.muted_speech == 1
    feed.set_muted(False)  # noticed; muted again later and talking: a new hint at once
    feed.set_muted(True)
    for i in range(70, 70 + NEEDED):
        feed._tick(i)
    assert feed.muted_speech == 2
    echo = AudioFeed(ToneSource(440.0, amplitude=0.3))
    echo.far_end = lambda: True  # the others talk on our speaker: the mic may hear them
    echo.set_muted(True)
    for i in range(200):
        echo._tick(i)
    assert echo.muted_speech == 0
    echo.far_end = lambda: False
    for i in range(200, 200 + NEEDED):
        echo._tick(i)
    assert echo.muted_speech == 1
    quiet = AudioFeed(ToneSource(440.0, amplitude=0.01))  # a far-away voice: below the bar
    quiet.set_muted(True)
    for i in range(200):
        quiet._tick(i)
    assert quiet.muted_speech == 0
    assert FRAME_SAMPLES == 960
