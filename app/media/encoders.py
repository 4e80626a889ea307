"""The encoders behind encode-once: frames in, ``av.Packet`` out (aiortc only packetizes them).

VideoEncoder: libvpx (VP8) with aiortc's real-time settings, or libx264 (H.264) with a fast
preset and zero-latency tuning (x264's default preset is far too slow for live video). A new
bitrate or picture size reopens the codec, which starts with a keyframe.
AudioEncoder: libopus (mono) in VoIP mode with in-band FEC, so a receiver can rebuild a lost packet
from the one after it. Digital silence (a muted or missing microphone gives exact zeros) is sent
for SILENCE_HANGOVER frames, then only one frame in KEEPALIVE_FRAMES until sound returns
(discontinuous transmission, as Opus's own DTX, which FFmpeg's libopus wrapper does not offer):
the RTP timestamps jump by the gap, and receivers play silence meanwhile. The keep-alive frames
tell a receiver the path still works (app.meeting.recovery) and keep its jitter estimate fresh.
"""

from __future__ import annotations

import fractions
import time
from typing import Any, cast

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from app.errors import MediaError

VIDEO_TIME_BASE = fractions.Fraction(1, 90_000)
AUDIO_TIME_BASE = fractions.Fraction(1, 48_000)
OPUS_BITRATE = 32_000  # bit/s: plenty for speech (aiortc sends 96 kbit/s)
OPUS_EXPECTED_LOSS = 10  # % loss the FEC is sized for
OPUS_COMPLEXITY = 9  # libwebrtc's kDefaultComplexity outside Android and iOS
H264_PRESET = "superfast"
SILENCE_HANGOVER = 10  # frames (200 ms) of digital silence still sent before sending pauses
KEEPALIVE_FRAMES = 20  # while it pauses, one frame in this many is sent (400 ms, as Opus DTX)
DTX = True  # process-wide default for AudioEncoder(dtx=None); benchmarks may switch it off


def _vp8_options(bitrate: int, denoise: bool = True) -> dict[str, str]:
    return {
        "bufsize": str(bitrate),
        "cpu-used": "-12",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),  # minrate = maxrate = bit_rate: constant bitrate
        "maxrate": str(bitrate),
        "noise-sensitivity": "4" if denoise else "0",  # adaptive temporal denoiser, or off
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }


class VideoEncoder:
    """One video encoder; ``encode`` may run in a worker thread (one call at a time)."""

    def __init__(self, codec: str, bitrate: int, denoise: bool = True) -> None:
        if codec not in ("vp8", "h264"):
            raise MediaError(f"PeerMeet cannot encode {codec} video.")
        self.codec = codec
        self.bitrate = bitrate
        #: VP8's temporal denoiser: for camera pictures (sensor noise costs bits); off for clean
        #: content (screen, test pattern), where it only costs ~20 % of the encoding time
        self.denoise = denoise
        self.encode_seconds = 0.0  # moving average of one encode call
        self.frames = 0
        self._ctx: Any = None
        self._opened: tuple[int, int, int, bool] | None = None  # (w, h, bitrate, denoise)
        self.options: dict[str, str] = {}  # what the codec was last opened with
        self.scaler = VideoReformatter()  # scales the frames to encode (one at a time)

    def _open(self, frame: av.VideoFrame) -> Any:
        name = "libvpx" if self.codec == "vp8" else "libx264"
        ctx: Any = av.CodecContext.create(name, "w")
        ctx.width, ctx.height = frame.width, frame.height
        ctx.bit_rate = self.bitrate
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = VIDEO_TIME_BASE
        ctx.framerate = fractions.Fraction(30, 1)
        ctx.gop_size = 3000  # keyframes only when asked for
        ctx.thread_count = 1
        if self.codec == "vp8":
            ctx.qmin, ctx.qmax = 2, 56
            ctx.options = _vp8_options(self.bitrate, self.denoise)
        else:
            ctx.profile = "Baseline"
            ctx.options = {
                "preset": H264_PRESET,
                "tune": "zerolatency",
                "level": "31",
                "maxrate": str(self.bitrate),
                "bufsize": str(self.bitrate // 2),
            }
        self.options = dict(ctx.options)
        return ctx

    def encode(self, frame: av.VideoFrame, keyframe: bool) -> list[av.Packet[Any]]:
        ctx = self._ctx
        wanted = (frame.width, frame.height, self.bitrate, self.denoise)
        if ctx is None or self._opened != wanted:  # (x264 rounds ctx.bit_rate: compare ours)
            ctx = self._ctx = self._open(frame)
            self._opened = wanted
            keyframe = True
        started = time.perf_counter()  # (opening the codec is not encoding: not timed)
        if frame.format.name != "yuv420p":
            frame = self.scaler.reformat(frame, format="yuv420p", threads=1)
        picture = av.video.frame.PictureType
        frame.pict_type = picture.I if keyframe else picture.NONE
        pts, base = frame.pts, frame.time_base
        packets = list(ctx.encode(frame))
        for packet in packets:
            packet.pts, packet.time_base = pts, base
        took = time.perf_counter() - started
        self.encode_seconds = took if self.frames == 0 else 0.9 * self.encode_seconds + 0.1 * took
        self.frames += 1
        return packets


class AudioEncoder:
    """One Opus encoder (mono 48 kHz, 20 ms packets, in-band FEC).

    Mono: a microphone is mono (our frames carry it on both channels), and a mono Opus stream
    costs less to encode and decode; every Opus decoder plays it, on both channels if stereo.
    s16 48 kHz 20 ms frames, what the microphone feed gives, skip the resampler.
    """

    def __init__(self, bitrate: int = OPUS_BITRATE, *, dtx: bool | None = None) -> None:
        self.dtx = DTX if dtx is None else dtx  # pause sending in digital silence (module doc)
        self._ctx: Any = av.CodecContext.create("libopus", "w")
        self._ctx.bit_rate = bitrate
        self._ctx.format = "s16"
        self._ctx.layout = "mono"
        self._ctx.sample_rate = 48_000
        self._ctx.time_base = AUDIO_TIME_BASE
        self._ctx.options = {
            "application": "voip",
            "fec": "1",
            "packet_loss": str(OPUS_EXPECTED_LOSS),
            "frame_duration": "20",
            # what browsers use on desktop (libwebrtc; 5 on mobile); libopus's default, 10,
            # took a quarter more CPU per 20 ms frame here (439 against 350 µs)
            "compression_level": str(OPUS_COMPLEXITY),
        }
        self._resampler = av.AudioResampler(
            format="s16", layout="mono", rate=48_000, frame_size=960
        )
        self._pts = 0
        self._silent = 0  # digital-silence frames in a row
        self.frames = 0
        self.paused = 0  # frames not encoded nor sent (silence past the hang-over)

    def encode(self, frame: av.AudioFrame) -> list[tuple[av.Packet[Any], int]]:
        """Packets with their audio level (dBov, -127..0), pts in 1/48000 s; none for a frame
        of silence that is not sent."""
        out = []
        for samples, chunk in self._mono_chunks(frame):
            if self._pause(samples):
                self._pts += 960  # the stream's clock runs on: the gap shows in the timestamps
                self.paused += 1
                continue
            level = audio_level(samples)
            chunk.pts = None  # the encoder counts its own time stamps
            for packet in self._ctx.encode(chunk):
                packet.pts, packet.time_base = self._pts, AUDIO_TIME_BASE
                self._pts += 960
                out.append((packet, level))
        self.frames += 1
        return out

    def _pause(self, samples: npt.NDArray[np.int16]) -> bool:
        """True for a frame of digital silence past the hang-over, except keep-alive frames."""
        if not self.dtx or samples.any():
            self._silent = 0
            return False
        self._silent += 1
        past = self._silent - SILENCE_HANGOVER
        return past > 0 and past % KEEPALIVE_FRAMES != 0

    def _mono_chunks(
        self, frame: av.AudioFrame
    ) -> list[tuple[npt.NDArray[np.int16], av.AudioFrame]]:
        """960-sample s16 mono chunks (samples, frame to encode): the usual mono frame as it
        is, numpy for stereo, else libswresample."""
        channels = len(frame.layout.channels)
        if frame.format.name == "s16" and frame.sample_rate == 48_000 and frame.samples == 960:
            if channels == 1:  # what our microphone feed gives encode-once
                return [(_s16(frame), frame)]
            if channels == 2:  # packed stereo: L R L R ...
                pairs = frame.to_ndarray().reshape(-1, 2).astype(np.int32)
                return [_chunk(((pairs[:, 0] + pairs[:, 1]) // 2).astype(np.int16))]
        return [_chunk(_s16(c)) for c in self._resampler.resample(frame)]


def _chunk(samples: npt.NDArray[np.int16]) -> tuple[npt.NDArray[np.int16], av.AudioFrame]:
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 48_000
    return samples, frame


def _s16(frame: av.AudioFrame) -> npt.NDArray[np.int16]:
    """The samples of an s16 mono frame (a view of its buffer, no copy)."""
    return np.frombuffer(cast(Any, frame.planes[0]), dtype=np.int16, count=frame.samples)


def audio_level(samples: npt.NDArray[np.int16]) -> int:
    """Level in dBov (0 = full scale, -127 = silence) of s16 samples, what aiortc's
    ``compute_audio_level_dbov`` returns, with numpy instead of a Python loop per sample."""
    if not samples.size:
        return -127
    x = samples.astype(np.float32)
    rms = float(np.sqrt(np.dot(x, x) / x.size)) / 32767.0
    if rms <= 0:
        return -127
    return int(min(0, max(-127, round(20 * np.log10(rms)))))
