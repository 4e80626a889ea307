"""libopus's decoder through ctypes: what FFmpeg's wrapper hides, loss concealment and FEC.

``decode(payload)`` decodes a packet; ``conceal()`` synthesises the next 20 ms when a packet is
missing (Opus PLC); ``recover(next_payload)`` rebuilds a missing packet from the in-band FEC
copy carried by the packet after it (PLC if that packet has none); ``has_fec`` tells which.
Output: s16 mono 48 kHz. The library is the system's libopus, or the one bundled with PyAV.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from typing import Any

from app.errors import MediaError

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
MAX_SAMPLES = 5760  # 120 ms, the longest Opus packet

_lib: Any = None


def _load() -> Any:
    global _lib
    if _lib is not None:
        return _lib
    candidates = [ctypes.util.find_library("opus") or ""]
    try:
        import av

        libs = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
        candidates += sorted(glob.glob(os.path.join(libs, "libopus*.so*")))
    except ImportError:  # pragma: no cover - av is a dependency
        pass
    for path in filter(None, candidates):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        lib.opus_decoder_create.restype = ctypes.c_void_p
        lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_void_p]
        lib.opus_decode.restype = ctypes.c_int
        lib.opus_decode.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int,
            ctypes.c_int,
        ]  # fmt: skip
        lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
        _lib = lib
        return lib
    raise MediaError("libopus was not found: audio cannot be decoded. Reinstall PeerMeet.")


def available() -> bool:
    try:
        _load()
    except MediaError:
        return False
    return True


def has_fec(payload: bytes) -> bool:
    """Whether a one-frame SILK/hybrid packet carries LBRR (FEC) data for the one before.

    The TOC byte gives mode and channels; the first range-coded symbols are equiprobable flags
    (VAD, then LBRR, per channel), so they are the top bits of the next byte (RFC 6716 4.2.3).
    """
    if len(payload) < 2 or payload[0] >> 3 >= 16 or payload[0] & 0x03:
        return False  # CELT-only (no LBRR), or several frames per packet: not parsed here
    return bool(payload[1] & 0x40)


class OpusDecoder:
    """One libopus decoder (mono, 48 kHz). Not thread-safe; ``close()`` is idempotent."""

    _state: int | None = None

    def __init__(self) -> None:
        self._lib = _load()
        error = ctypes.c_int(0)
        self._state: int | None = self._lib.opus_decoder_create(SAMPLE_RATE, 1, ctypes.byref(error))
        if not self._state or error.value != 0:
            raise MediaError(f"The audio decoder could not start (libopus error {error.value}).")
        self._pcm = (ctypes.c_int16 * MAX_SAMPLES)()

    def _run(self, data: bytes | None, samples: int, fec: int) -> bytes:
        if self._state is None:
            raise MediaError("The audio decoder was closed.")
        size = len(data) if data else 0
        got = self._lib.opus_decode(self._state, data, size, self._pcm, samples, fec)
        if got < 0:  # a corrupt packet: conceal it instead
            if data is None:
                return bytes(samples * 2)
            return self._run(None, samples, 0)
        return ctypes.string_at(self._pcm, got * 2)

    def decode(self, payload: bytes) -> bytes:
        return self._run(payload, MAX_SAMPLES, 0)

    def conceal(self, samples: int = FRAME_SAMPLES) -> bytes:
        return self._run(None, samples, 0)

    def recover(self, next_payload: bytes, samples: int = FRAME_SAMPLES) -> bytes:
        """The packet before ``next_payload`` from its FEC data; libopus conceals (PLC) when
        the packet carries none."""
        return self._run(next_payload, samples, 1)

    def close(self) -> None:
        if self._state is not None:
            self._lib.opus_decoder_destroy(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
