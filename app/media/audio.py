"""Qt-free PCM building blocks: a bounded ring for microphones, a test tone, a null speaker and
the two measurements the UI and the tests need (tone power, RMS level).

All PCM follows app/media/pcm.py: s16le, mono, 48 kHz, 20 ms frames of FRAME_BYTES.
"""

from __future__ import annotations

import math
import threading

import av
import numpy as np

from app.errors import MediaError
from app.media.pcm import FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SAMPLE_BYTES, SAMPLE_RATE

#: default ring capacity: 200 ms of audio
RING_MS = 200


def ms_to_bytes(ms: int) -> int:
    """Bytes of s16 mono 48 kHz PCM for ``ms`` milliseconds."""
    return SAMPLE_RATE * ms // 1000 * SAMPLE_BYTES


class PcmRing:
    """Thread-safe bounded FIFO of PCM bytes; a PcmSource for whatever a producer ``push``-es.

    The producer (e.g. the Qt microphone callback) may push chunks of any size. When more than
    ``capacity_ms`` is buffered the OLDEST audio is dropped, so latency never grows past it.
    ``read_frame`` returns exactly FRAME_BYTES, or None while less than a frame is buffered.
    """

    def __init__(self, capacity_ms: int = RING_MS) -> None:
        if capacity_ms < FRAME_MS:
            raise ValueError(f"capacity_ms must hold at least one frame ({FRAME_MS} ms)")
        self.capacity = ms_to_bytes(capacity_ms)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        #: bytes thrown away (overflow, or ``drop_oldest``: the consumer was behind) - diagnostics
        self.dropped = 0

    def push(self, pcm: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            self._buf += pcm
            excess = len(self._buf) - self.capacity
            if excess > 0:
                excess += excess % SAMPLE_BYTES  # never split a sample
                del self._buf[:excess]
                self.dropped += excess

    def read_frame(self) -> bytes | None:
        with self._lock:
            if len(self._buf) < FRAME_BYTES:
                return None
            frame = bytes(self._buf[:FRAME_BYTES])
            del self._buf[:FRAME_BYTES]
            return frame

    @property
    def buffered(self) -> int:
        """Bytes currently buffered."""
        with self._lock:
            return len(self._buf)

    def drop_oldest(self, nbytes: int) -> int:
        """Throw away up to ``nbytes`` of the oldest audio, whole samples only (a consumer that
        is behind catches up); counted in ``dropped``. Returns the bytes dropped."""
        with self._lock:
            n = min(nbytes, len(self._buf))
            n -= n % SAMPLE_BYTES
            if n <= 0:
                return 0
            del self._buf[:n]
            self.dropped += n
            return n

    def clear(self) -> None:
        with self._lock:
            self._buf.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._buf.clear()


class ToneSource:
    """A synthetic microphone: a continuous sine, phase-continuous from frame to frame."""

    def __init__(self, freq: float = 440.0, amplitude: float = 0.3) -> None:
        if not 0.0 <= amplitude <= 1.0:
            raise ValueError("amplitude must be within 0..1 (fraction of full scale)")
        self.freq = freq
        self.amplitude = amplitude
        self._phase = 0.0  # radians at the start of the next frame, kept within [0, 2*pi)
        self._closed = False
        # a whole number of hertz repeats every second: play one precomputed second in a loop
        self._second = self._compute(SAMPLE_RATE // FRAME_SAMPLES) if freq == int(freq) else b""
        self._offset = 0

    def read_frame(self) -> bytes | None:
        if self._closed:
            return None
        if self._second:
            start = self._offset
            self._offset = (start + FRAME_BYTES) % len(self._second)
            return self._second[start : start + FRAME_BYTES]
        return self._compute(1)

    def _compute(self, frames: int) -> bytes:
        """The next ``frames`` frames of the sine."""
        samples = frames * FRAME_SAMPLES
        step = 2.0 * math.pi * self.freq / SAMPLE_RATE
        wave = np.sin(self._phase + step * np.arange(samples, dtype=np.float64))
        self._phase = (self._phase + step * samples) % (2.0 * math.pi)
        return np.round(self.amplitude * 32767.0 * wave).astype("<i2").tobytes()

    def close(self) -> None:
        self._closed = True


class NullSink:
    """A speaker that discards everything (headless runs); counts what it was given."""

    def __init__(self) -> None:
        self.bytes_written = 0

    def write(self, pcm: bytes) -> None:
        self.bytes_written += len(pcm)

    def close(self) -> None:
        pass


def _samples(pcm: bytes) -> np.ndarray:
    usable = len(pcm) - len(pcm) % SAMPLE_BYTES
    return np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64) / 32768.0


CHIME_HZ = (660.0, 880.0)  # the speaker test's two notes


def chime(amplitude: float = 0.25) -> list[bytes]:
    """A short two-note chime (0.3 s each, soft edges) as 20 ms s16 mono frames: what the
    settings dialog plays to test the speaker."""
    note = np.arange(int(0.3 * SAMPLE_RATE)) / SAMPLE_RATE
    fade = np.minimum(1.0, np.minimum(note, note[::-1]) / 0.02)
    wave = np.concatenate([fade * np.sin(2 * np.pi * hz * note) for hz in CHIME_HZ])
    pcm = (amplitude * 32767 * wave).astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def rms(pcm: bytes) -> float:
    """Root-mean-square level of s16 PCM, 0 (silence) .. 1 (full-scale square wave)."""
    usable = len(pcm) - len(pcm) % SAMPLE_BYTES
    if not usable:
        return 0.0
    x = np.frombuffer(pcm, dtype="<i2", count=usable // SAMPLE_BYTES).astype(np.float32)
    return min(1.0, float(np.sqrt(np.dot(x, x) / x.size)) / 32768.0)  # one pass, no temporaries


def tone_power(pcm: bytes, freq: float) -> float:
    """Power of the ``freq`` component of s16 mono 48 kHz PCM (Goertzel / single DFT bin).

    Normalized so that a full-scale sine at ``freq`` gives about 1.0 and silence 0.0; a sine of
    amplitude ``a`` gives about a**2. Other frequencies give almost nothing (a Hann window keeps
    leakage low), so 440 Hz vs 1000 Hz is easy to tell apart from 20 ms upward.
    """
    x = _samples(pcm)
    n = x.size
    if n == 0:
        return 0.0
    window = np.hanning(n)
    t = np.arange(n) / SAMPLE_RATE
    bin_ = np.sum(x * window * np.exp(-2j * np.pi * freq * t))
    # a sine of amplitude A yields |bin| = A * sum(window) / 2
    amplitude = 2.0 * abs(bin_) / float(np.sum(window))
    return float(amplitude * amplitude)


#: device sample types PcmConverter knows: (numpy dtype, full scale, value of silence)
SAMPLE_TYPES = {
    "u8": ("u1", 128.0, 128.0),
    "s16": ("<i2", 32768.0, 0.0),
    "s32": ("<i4", 2147483648.0, 0.0),
    "f32": ("<f4", 1.0, 0.0),
}


class PcmConverter:
    """Our PCM (s16 mono 48 kHz) <-> a device's own format, for devices that refuse ours.

    ``sample_type`` is one of SAMPLE_TYPES; channels are averaged on the way in and duplicated
    on the way out; another rate goes through libswresample. Keeps state (partial frames,
    resampler history): use one converter per stream direction.
    """

    def __init__(self, sample_type: str, channels: int, rate: int) -> None:
        if sample_type not in SAMPLE_TYPES or channels < 1 or rate <= 0:
            raise MediaError(
                f"The audio device wants an unsupported format ({sample_type}, {channels} "
                f"channels, {rate} Hz). Pick another device in Settings."
            )
        dtype, self._scale, self._zero = SAMPLE_TYPES[sample_type]
        self._dtype = np.dtype(dtype)
        self.channels, self.rate = channels, rate
        self.identity = (sample_type, channels, rate) == ("s16", 1, SAMPLE_RATE)
        self._frame_bytes = self._dtype.itemsize * channels
        self._rest = b""  # an incomplete device frame left over from the last chunk
        resample = rate != SAMPLE_RATE
        self._in = av.AudioResampler("s16", "mono", SAMPLE_RATE) if resample else None
        self._out = av.AudioResampler("flt", "mono", rate) if resample else None

    def to_pcm(self, data: bytes) -> bytes:
        """Device bytes (any chunking) -> PCM."""
        if self.identity:
            return data
        data = self._rest + data
        usable = len(data) - len(data) % self._frame_bytes
        data, self._rest = data[:usable], data[usable:]
        x = (np.frombuffer(data, self._dtype).astype(np.float64) - self._zero) / self._scale
        mono = x.reshape(-1, self.channels).mean(axis=1)
        if self._in is not None:
            return _resample(self._in, mono.astype("<f4"), "flt", self.rate)
        return bytes(np.clip(np.round(mono * 32768.0), -32768, 32767).astype("<i2").tobytes())

    def from_pcm(self, pcm: bytes) -> bytes:
        """PCM -> device bytes."""
        if self.identity:
            return pcm
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % SAMPLE_BYTES], "<i2")
        if self._out is not None:
            x = np.frombuffer(_resample(self._out, samples, "s16", SAMPLE_RATE), "<f4")
        else:
            x = samples / 32768.0
        x = np.repeat(x.astype(np.float64), self.channels)  # the same on every channel
        if self._dtype.kind == "f":
            return bytes(np.clip(x, -1.0, 1.0).astype(self._dtype).tobytes())
        lo, hi = self._zero - self._scale, self._zero + self._scale - 1
        y = np.clip(np.round(x * self._scale + self._zero), lo, hi)
        return bytes(y.astype(self._dtype).tobytes())


def _resample(resampler: av.AudioResampler, mono: np.ndarray, fmt: str, rate: int) -> bytes:
    frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format=fmt, layout="mono")
    frame.sample_rate = rate
    return b"".join(bytes(f.to_ndarray().tobytes()) for f in resampler.resample(frame))
