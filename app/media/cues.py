"""Short sounds that tell what happens in a call without looking: someone joined, someone left,
someone knocks, a chat message came. Qt-free PCM (app/media/pcm.py), made once and cached.

Each is quiet (well under the voices) and brief, with soft edges so it never clicks. They are
played on this computer's speaker only, mixed with the others' voices (SpeakerMixer.play).
"""

from __future__ import annotations

import functools

import numpy as np

from app.media.pcm import FRAME_BYTES, SAMPLE_RATE

#: kind: the notes (Hz, seconds) played one after the other
NOTES: dict[str, tuple[tuple[float, float], ...]] = {
    "joined": ((587.33, 0.09), (880.0, 0.16)),  # up: someone is here
    "left": ((880.0, 0.09), (587.33, 0.16)),  # down: someone went
    "knock": ((1046.5, 0.12), (0.0, 0.08), (1046.5, 0.12), (0.0, 0.08), (1318.5, 0.22)),
    "chat": ((1318.5, 0.07),),
}
AMPLITUDE = 0.12  # of full scale (about -18 dBFS): a cue, not an alarm
EDGE_S = 0.012  # fade in and out of each note


@functools.cache
def frames(kind: str) -> tuple[bytes, ...]:
    """The ``kind`` cue as 20 ms s16 mono frames (the last one padded with silence); a kind
    not in NOTES is no sound at all."""
    parts = []
    for hz, seconds in NOTES.get(kind, ()):
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        fade = np.minimum(1.0, np.minimum(t, t[::-1]) / EDGE_S)
        parts.append(fade * np.sin(2 * np.pi * hz * t) if hz else np.zeros(t.size))
    if not parts:
        return ()
    pcm = (AMPLITUDE * 32767 * np.concatenate(parts)).astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    return tuple(pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES))
