"""Noticing that someone talks while muted, so the app can tell them (as Zoom and Meet do).

A pure policy, clock-free: one ``hear(level)`` per 20 ms microphone frame read while muted (the
feed reads the microphone even then; the audio never leaves this machine). It answers True when
enough of the last half second was louder than a quiet room: about 0.2 s of speech, not a
cough, a click or a door. Once it has spoken it keeps quiet for COOLDOWN frames.
"""

from __future__ import annotations

from collections import deque

THRESHOLD = 0.03  # RMS, 0..1 of full scale: above a quiet room (~0.001-0.005), below speech
WINDOW = 25  # frames (0.5 s) looked at
NEEDED = 10  # of them loud: 0.2 s of voice
COOLDOWN = 1000  # frames (20 s) between two hints


class MutedSpeech:
    def __init__(
        self,
        threshold: float = THRESHOLD,
        window: int = WINDOW,
        needed: int = NEEDED,
        cooldown: int = COOLDOWN,
    ) -> None:
        if not 0 < needed <= window:
            raise ValueError("need 0 < needed <= window")
        self.threshold, self.needed, self.cooldown = threshold, needed, cooldown
        self._recent: deque[bool] = deque(maxlen=window)
        self._loud = 0  # True values in _recent
        self._since = cooldown  # frames since the last hint (ready at once)

    def hear(self, level: float) -> bool:
        """One muted frame's RMS level; True when it is time to say "you are muted"."""
        self._since += 1
        if len(self._recent) == self._recent.maxlen:
            self._loud -= self._recent[0]
        loud = level >= self.threshold
        self._recent.append(loud)
        self._loud += loud
        if self._loud < self.needed or self._since < self.cooldown:
            return False
        self._since = 0
        self.reset()
        return True

    def reset(self, ready: bool = False) -> None:
        """Forget the recent frames; ``ready``: the next talking while muted gets a hint at once
        (on unmuting: the person noticed, so a new mute is a new chance to forget)."""
        self._recent.clear()
        self._loud = 0
        if ready:
            self._since = self.cooldown
