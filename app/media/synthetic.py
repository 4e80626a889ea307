"""A test-pattern camera, and the machine-readable stamp that lets tests measure video end to end.

The pattern moves (scrolling rainbow, bouncing box, big frame counter) so a person sees at a glance
that the picture is live, and shows a display name so tiles can be told apart. The stamp is a
block code in the top-left of the luma plane: big black/white blocks survive VP8/H.264 at low
bitrates, where any subtler watermark would be quantised away.
"""

from __future__ import annotations

import functools
import time
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[np.uint8]

BLACK, WHITE = 16, 235  # video-range luma: codecs keep these exactly, no clipping games
_GUARD_TOP, _GUARD_BOTTOM = 0b10101010, 0b01010101
STAMP_ROWS, STAMP_COLS = 12, 8  # guard, 8 data bytes, 2 CRC bytes, guard; a bit per block

# 5x7 glyphs, one hex byte per row (bit 4 = leftmost pixel). Enough for names and counters.
_FONT_SRC = """
0=0E11131519110E 1=040C040404040E 2=0E11010204081F 3=1F02040201110E 4=02060A121F0202
5=1F101E0101110E 6=0608101E11110E 7=1F010204080808 8=0E11110E11110E 9=0E11110F01020C
A=0E1111111F1111 B=1E11111E11111E C=0E11101010110E D=1C12111111121C E=1F10101E10101F
F=1F10101E101010 G=0E11101711110F H=1111111F111111 I=0E04040404040E J=0702020202120C
K=11121418141211 L=1010101010101F M=111B1515111111 N=11111915131111 O=0E11111111110E
P=1E11111E101010 Q=0E11111115120D R=1E11111E141211 S=0F10100E01011E T=1F040404040404
U=1111111111110E V=11111111110A04 W=1111111515150A X=11110A040A1111 Y=1111110A040404
Z=1F01020408101F -=0000001F000000 .=00000000000C0C #=0A0A1F0A1F0A0A ?=0E110102040004
:=000C0C000C0C00 _=0000000000001F '=0C040800000000 (=02040808080402 )=08040202020408
!=04040404040004 ,=000000000C0408 /=00010204081000 +=0004041F040400
"""


def _glyph(hex_rows: str) -> npt.NDArray[np.bool_]:
    rows = np.unpackbits(np.frombuffer(bytes.fromhex(hex_rows), np.uint8)).reshape(7, 8)
    return rows[:, 3:].astype(bool)


_FONT = {item[0]: _glyph(item[2:]) for item in _FONT_SRC.split()} | {" ": _glyph("00" * 7)}


def _text_mask(text: str, scale: int) -> npt.NDArray[np.bool_]:
    """Render text (upper-cased; unknown characters become '?') as a boolean mask."""
    glyphs = [_FONT.get(c, _FONT["?"]) for c in text.upper()] or [_FONT[" "]]
    gap = np.zeros((7, 1), bool)
    row = np.hstack([part for g in glyphs for part in (g, gap)][:-1])
    return np.kron(row, np.ones((scale, scale), bool)).astype(bool)


def block_size(width: int) -> tuple[int, int]:
    """Stamp block (height, width) in pixels; both ends derive it from the frame width.

    Measured with aiortc's VP8 encoder at 300 kbit/s on this pattern: with 8x8 blocks 10-25 %
    of frames came out with wrong blocks (VP8 predicts a changed block from a similar one and
    drops the residual), up to 4 per frame. Blocks twice as tall as wide put each byte in one
    16-pixel macroblock row: still ~10 % of frames, but almost always one block, which the CRC
    repairs: 2397 of 2400 frames read back, none wrong.
    """
    if width < 320:
        return 8, 4
    return (16, 8) if width < 960 else (32, 16)


def stamp(frame_y: Plane, counter: int, capture_ms: int) -> None:
    """Write counter and capture time (both mod 2**32) as blocks into the top-left of a luma plane.

    One byte per row of 8 blocks: a 10101010 guard, 8 data bytes (counter then time,
    big-endian), 2 CRC bytes and a 01010101 guard.
    """
    data = (counter % 2**32).to_bytes(4, "big") + (capture_ms % 2**32).to_bytes(4, "big")
    rows = bytes([_GUARD_TOP, *data, *_crc16(data).to_bytes(2, "big"), _GUARD_BOTTOM])
    bits = np.unpackbits(np.frombuffer(rows, np.uint8)).reshape(STAMP_ROWS, STAMP_COLS)
    bh, bw = block_size(frame_y.shape[1])
    blocks = bits.repeat(bh, axis=0).repeat(bw, axis=1)
    frame_y[: STAMP_ROWS * bh, : STAMP_COLS * bw] = BLACK + blocks * (WHITE - BLACK)


def read_stamp(frame: av.VideoFrame) -> tuple[int, int] | None:
    """Decode (counter, capture_ms) from a frame, or None if it carries no intact stamp.

    Up to two flipped blocks (what low-bitrate VP8 does now and then) are corrected, three are
    detected. The guards must be exact: they reject frames that carry no stamp at all.
    """
    if frame.format.name not in ("yuv420p", "yuvj420p", "nv12", "gray"):
        frame = frame.reformat(format="yuv420p", threads=1)
    bh, bw = block_size(frame.width)
    h, w = STAMP_ROWS * bh, STAMP_COLS * bw
    if frame.height < h or frame.width < w:
        return None
    plane = frame.planes[0]
    index, threshold = _probe_index(bh, bw, plane.line_size)
    sums = np.frombuffer(cast(Any, plane), np.uint8)[index].sum(axis=2, dtype=np.uint32)
    raw = np.packbits(sums > threshold, axis=1).tobytes()
    if raw[0] != _GUARD_TOP or raw[-1] != _GUARD_BOTTOM:
        return None
    syndrome = _crc16(raw[1:9]) ^ int.from_bytes(raw[9:11], "big")
    flips = _CORRECTIONS.get(syndrome) if syndrome else 0
    if flips is None:
        return None
    word = int.from_bytes(raw[1:9], "big") ^ flips
    return word >> 32, word & 0xFFFFFFFF


@functools.cache
def _probe_index(bh: int, bw: int, line_size: int) -> tuple[npt.NDArray[np.intp], int]:
    """Where ``read_stamp`` looks, as indices into the luma buffer, shape (rows, cols, pixels),
    and the sum of a block's pixels above which it reads as white.

    Three lines through the middle of each row of blocks (at 3/8, 1/2 and 5/8 of its height),
    the middle half of each block: block edges, where compression rings and neighbours bleed,
    are skipped, and a frame is read with a handful of numpy calls (a benchmark reads every
    frame on the loop it measures).
    """
    offsets = sorted({3 * bh // 8, bh // 2, 5 * bh // 8})
    rows = np.array([[r * bh + o for o in offsets] for r in range(STAMP_ROWS)], dtype=np.intp)
    margin = bw // 4
    cols = np.arange(STAMP_COLS)[:, None] * bw + np.arange(margin, bw - margin)[None, :]
    index = rows[:, None, :, None] * line_size + cols[None, :, None, :]
    index = index.reshape(STAMP_ROWS, STAMP_COLS, -1)
    return index, index.shape[2] * (BLACK + WHITE) // 2


def _crc16(data: bytes) -> int:
    """CRC-16 with polynomial 0x3D65, no init/xorout/reflection, so it is linear.

    Over 64 data bits it has Hamming distance 6 (checked by the unit tests): correcting two bit
    errors still leaves every three-bit error detected, never "corrected" into a wrong value.
    """
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[(crc >> 8) ^ byte]
    return crc


def _crc_table(poly: int) -> list[int]:
    table = []
    for n in range(256):
        c = n << 8
        for _ in range(8):
            c = ((c << 1) ^ poly) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
        table.append(c)
    return table


def _corrections() -> dict[int, int]:
    """Syndrome -> data-bit mask to flip, for every error of one or two bits (CRC bits too)."""
    columns = [(_crc16((1 << i).to_bytes(8, "big")), 1 << i) for i in range(64)]
    columns += [(1 << j, 0) for j in range(16)]  # an error in the CRC itself flips no data
    table = {syn: mask for syn, mask in columns}
    for a, (syn_a, mask_a) in enumerate(columns):
        for syn_b, mask_b in columns[a + 1 :]:
            table[syn_a ^ syn_b] = mask_a | mask_b
    return table


_CRC_TABLE = _crc_table(0x3D65)
_CORRECTIONS = _corrections()


def plane_view(frame: av.VideoFrame, index: int) -> Plane:
    """A writable numpy view of one plane without its line padding (no copy)."""
    plane = frame.planes[index]
    rows = frame.height if index == 0 else (frame.height + 1) // 2
    cols = frame.width if index == 0 else (frame.width + 1) // 2
    view: Plane = np.frombuffer(cast(Any, plane), np.uint8).reshape(-1, plane.line_size)
    return view[:rows, :cols]


def wall_ms() -> int:
    """Capture time for stamps: wall clock, so peers with synced clocks can measure latency."""
    return int(time.time() * 1000) % 2**32


class SyntheticCamera:
    """A camera that needs no hardware: the fallback source, and the test source.

    Everything that does not move is precomputed, so a 640x480 frame costs a few memcpy's.
    """

    paced = False  # next_frame() returns at once; whoever calls it sets the rate

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 30,
        label: str = "",
        *,
        noisy: bool = False,
    ) -> None:
        if width % 2 or height % 2 or width < 160 or height < 120:
            raise ValueError(f"test pattern must be even-sized, at least 160x120: {width}x{height}")
        self.width, self.height, self.fps, self.label = width, height, fps, label
        #: a test pattern has no sensor noise, so the encoder skips its denoiser; True makes
        #: the encoder treat it like a camera (benchmarks of the camera case)
        self.noisy = noisy
        self.frames = 0
        self._period = (width // 4) * 2  # scroll period in pixels; even keeps chroma aligned
        x = np.arange(width + self._period)[None, :]
        y = np.arange(height)[:, None]
        hue = ((x + y) % self._period) / self._period * 6.0
        r, g, b = (np.clip(np.abs((hue + k) % 6 - 3) - 1, 0, 1) for k in (0.0, 4.0, 2.0))
        shade = 0.55 + 0.4 * (1 - y / height)
        luma = 0.299 * r + 0.587 * g + 0.114 * b
        self._bg_y = (16 + 219 * luma * shade).astype(np.uint8)
        half = (slice(None, None, 2), slice(None, None, 2))
        self._bg_u = (128 + 224 * 0.7 * (-0.169 * r - 0.331 * g + 0.5 * b))[half].astype(np.uint8)
        self._bg_v = (128 + 224 * 0.7 * (0.5 * r - 0.419 * g - 0.081 * b))[half].astype(np.uint8)
        self._box = (height // 5) // 2 * 2
        digit_scale = max(2, height // 80)
        self._digits = [_text_mask(d, digit_scale) for d in "0123456789"]
        self._digit_step = 6 * digit_scale
        self._counter_at = (height - 9 * digit_scale, digit_scale * 2)
        bh, bw = block_size(width)
        label_scale = max(2, height // 120)
        left = STAMP_COLS * bw + 2 * label_scale
        fits = max(0, (width - left - 2 * label_scale) // (6 * label_scale))
        self._label = _text_mask(label[:fits], label_scale) if label[:fits].strip() else None
        self._label_at = (2 * label_scale, left)
        self._stamp_uv = ((STAMP_ROWS * bh) // 2, (STAMP_COLS * bw) // 2)

    def next_frame(self) -> av.VideoFrame:
        """The next frame, stamped with its number and the wall-clock time now."""
        frame = self.render(self.frames, wall_ms())
        self.frames += 1
        return frame

    def render(self, n: int, capture_ms: int) -> av.VideoFrame:
        """Frame number n, stamped with (n, capture_ms); same arguments, same picture."""
        w, h = self.width, self.height
        frame = av.VideoFrame(w, h, "yuv420p")
        y, u, v = (plane_view(frame, i) for i in range(3))
        off = (n * 4) % self._period
        y[:] = self._bg_y[:, off : off + w]
        u[:] = self._bg_u[:, off // 2 : off // 2 + w // 2]
        v[:] = self._bg_v[:, off // 2 : off // 2 + w // 2]
        s = self._box
        bx, by = _bounce(n * 5, w - s), _bounce(n * 3, h - s)
        y[by : by + s, bx : bx + s] = WHITE
        y[by + s // 4 : by + 3 * s // 4, bx + s // 4 : bx + 3 * s // 4] = BLACK
        u[by // 2 : (by + s) // 2, bx // 2 : (bx + s) // 2] = 64
        v[by // 2 : (by + s) // 2, bx // 2 : (bx + s) // 2] = 200
        text = f"{n % 1_000_000:06d}"
        top, left = self._counter_at
        _draw(y, u, v, [self._digits[int(c)] for c in text], top, left, self._digit_step)
        if self._label is not None:
            _draw(y, u, v, [self._label], *self._label_at, 0)
        u[: self._stamp_uv[0], : self._stamp_uv[1]] = 128
        v[: self._stamp_uv[0], : self._stamp_uv[1]] = 128
        stamp(y, n, capture_ms)
        return frame

    def close(self) -> None:
        """Nothing to release; present so the feed can treat every source alike."""


def _bounce(pos: int, span: int) -> int:
    """Triangle wave in [0, span], even (chroma-aligned): a position that bounces off walls."""
    p = pos % (2 * span) if span > 0 else 0
    return (p if p <= span else 2 * span - p) // 2 * 2


def _draw(
    y: Plane, u: Plane, v: Plane, masks: list[npt.NDArray[np.bool_]], top: int, left: int, step: int
) -> None:
    """White text on a dark, colourless plate, so it stays readable on any background."""
    mh = masks[0].shape[0]
    width = step * (len(masks) - 1) + masks[-1].shape[1]
    pad = max(2, mh // 7) // 2 * 2
    t, lft = (top - pad) // 2 * 2, (left - pad) // 2 * 2
    y[t : top + mh + pad, lft : left + width + pad] = BLACK + 16
    u[t // 2 : (top + mh + pad) // 2, lft // 2 : (left + width + pad) // 2] = 128
    v[t // 2 : (top + mh + pad) // 2, lft // 2 : (left + width + pad) // 2] = 128
    for i, mask in enumerate(masks):
        c = left + i * step
        y[top : top + mh, c : c + mask.shape[1]][mask] = WHITE
