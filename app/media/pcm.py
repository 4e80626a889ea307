"""The small Qt-free audio interface between the engine and whatever plays or records sound.

PCM everywhere in PeerMeet is signed 16-bit little-endian, mono, 48 kHz, in 20 ms frames of
960 samples (1920 bytes). The Qt adapter (app/ui/audio_io.py), the synthetic tone and the
headless null devices all speak this.
"""

from __future__ import annotations

from typing import Protocol

SAMPLE_RATE = 48_000
CHANNELS = 1
SAMPLE_BYTES = 2
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 960
FRAME_BYTES = FRAME_SAMPLES * SAMPLE_BYTES * CHANNELS  # 1920
#: A remote audio track may carry a callable under this attribute, set by whoever plays it
#: (app/media/mixer.py). A producer that decodes to PCM itself (app/net/playout.py) then hands
#: each frame to it as bytes instead of wrapping it in an av.AudioFrame for ``recv()``; empty
#: bytes mean the stream rests (its sender paused during silence) until the next frame.
PCM_HOOK = "peermeet_pcm_consumer"


class PcmSource(Protocol):
    """A microphone. ``read_frame`` returns exactly FRAME_BYTES, or None when nothing is ready
    (the engine then sends silence). It must never block for long: it is called on the loop."""

    def read_frame(self) -> bytes | None: ...

    def close(self) -> None: ...


class PcmSink(Protocol):
    """A speaker. ``write`` takes any multiple of SAMPLE_BYTES; it must not block."""

    def write(self, pcm: bytes) -> None: ...

    def close(self) -> None: ...
