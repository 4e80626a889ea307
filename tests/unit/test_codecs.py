"""The encoders behind encode-once and the libopus decoder behind the audio playout."""

from __future__ import annotations

import av
import numpy as np
import pytest

from app.media.audio import ToneSource, tone_power
from app.media.audio_tracks import make_frame
from app.media.encoders import (
    H264_PRESET,
    KEEPALIVE_FRAMES,
    SILENCE_HANGOVER,
    AudioEncoder,
    VideoEncoder,
    audio_level,
)
from app.media.synthetic import SyntheticCamera
from app.media.video import TIME_BASE
from app.net.opus import OpusDecoder, has_fec


def _frames(n: int, size: tuple[int, int] = (320, 240)) -> list[av.VideoFrame]:
    cam, out = SyntheticCamera(*size), []
    for i in range(n):
        frame = cam.render(i, 1000 + i)
        frame.pts, frame.time_base = i * 3000, TIME_BASE
        out.append(frame)
    return out


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_one_keyframe_unless_asked_and_packets_carry_the_capture_time(codec: str) -> None:
    encoder = VideoEncoder(codec, 400_000)
    keys, pts = [], []
    for i, frame in enumerate(_frames(40)):
        for packet in encoder.encode(frame, keyframe=i == 25):
            keys.append(i) if packet.is_keyframe else None
            pts.append(packet.pts)
    assert keys == [0, 25]
    assert pts == [i * 3000 for i in range(40)]  # zero latency: a packet per frame, at once


@pytest.mark.parametrize("codec", ["vp8", "h264"])
def test_a_new_bitrate_reopens_the_encoder_once(codec: str) -> None:
    encoder = VideoEncoder(codec, 400_000)
    keys = []
    for i, frame in enumerate(_frames(30)):
        if i == 10:
            encoder.bitrate = 333_333  # x264 rounds what it is given: must not reopen each frame
        keys += [i for p in encoder.encode(frame, keyframe=False) if p.is_keyframe]
    assert keys == [0, 10]


def test_denoiser_follows_the_source_and_switching_it_reopens_once() -> None:
    """A camera picture is denoised; clean content (screen, test pattern) is not: the encoder
    reopens (one keyframe) when the source changes from one kind to the other."""
    encoder = VideoEncoder("vp8", 400_000)
    keys, options = [], []
    for i, frame in enumerate(_frames(20)):
        if i == 10:
            encoder.denoise = False
        keys += [i for p in encoder.encode(frame, keyframe=False) if p.is_keyframe]
        options.append(encoder.options["noise-sensitivity"])
    assert keys == [0, 10]
    assert options == ["4"] * 10 + ["0"] * 10


def test_sources_say_whether_their_picture_is_noisy() -> None:
    from app.media.camera import CameraCapture
    from app.media.screen import ScreenCapture

    assert CameraCapture.noisy and not ScreenCapture.noisy
    assert not SyntheticCamera(320, 240).noisy and SyntheticCamera(320, 240, noisy=True).noisy


def test_h264_uses_a_real_time_preset() -> None:
    assert H264_PRESET in ("ultrafast", "superfast", "veryfast")
    encoder = VideoEncoder("h264", 500_000)
    encoder.encode(_frames(1)[0], keyframe=True)
    assert encoder.options["preset"] == H264_PRESET
    assert encoder.options["tune"] == "zerolatency"


def _opus_packets(count: int, freq: float = 440.0) -> list[bytes]:
    encoder, tone = AudioEncoder(), ToneSource(freq)
    packets = []
    for i in range(count):
        pcm = tone.read_frame()
        assert pcm is not None
        packets += [bytes(p) for p, _ in encoder.encode(make_frame(pcm, i * 960))]
    return packets


def test_opus_round_trip_with_fec_and_concealment() -> None:
    packets = _opus_packets(50)
    assert len(packets) >= 49
    assert sum(has_fec(p) for p in packets[5:]) >= 20  # in-band FEC is on
    decoder = OpusDecoder()
    try:
        for packet in packets[:20]:
            pcm = decoder.decode(packet)
        assert len(pcm) == 960 * 2 and tone_power(pcm, 440.0) > 0.02
        rebuilt = decoder.recover(packets[21])  # packet 20 "lost": rebuilt from 21's FEC
        assert len(rebuilt) == 960 * 2 and tone_power(rebuilt, 440.0) > 0.01
        assert tone_power(decoder.decode(packets[21]), 440.0) > 0.02
        concealed = decoder.conceal()  # PLC: a plausible continuation, not silence
        assert len(concealed) == 960 * 2 and tone_power(concealed, 440.0) > 0.005
    finally:
        decoder.close()
        decoder.close()  # idempotent


def test_audio_level_matches_aiortc_on_mono() -> None:
    from aiortc.rtp import compute_audio_level_dbov

    for amplitude in (0.0, 0.01, 0.3, 1.0):
        pcm = (np.sin(np.arange(960) / 5) * amplitude * 32767).astype("<i2").tobytes()
        samples = np.frombuffer(pcm, "<i2")
        assert abs(audio_level(samples) - compute_audio_level_dbov(make_frame(pcm, 0, False))) <= 1


def test_audio_encoder_sends_mono_whatever_it_is_given() -> None:
    """Stereo frames (the feed's) and mono frames give the same mono stream and level; an odd
    format goes through the resampler; the decoder plays the tone back at the same level."""
    pcm = (np.sin(2 * np.pi * 440 * np.arange(960 * 30) / 48_000) * 0.3 * 32767).astype("<i2")
    outs = []
    for stereo in (True, False):
        encoder = AudioEncoder()
        packets = []
        for i in range(30):
            frame = make_frame(pcm[i * 960 : (i + 1) * 960].tobytes(), i * 960, stereo=stereo)
            packets += encoder.encode(frame)
        outs.append(packets)
    assert len(outs[0]) == len(outs[1]) == 30
    assert [lvl for _, lvl in outs[0]] == [lvl for _, lvl in outs[1]]
    assert all(bytes(p)[0] & 0x04 == 0 for p, _ in outs[0])  # TOC stereo flag clear: mono
    decoder = OpusDecoder()
    try:
        for packet, _ in outs[0]:
            out = decoder.decode(bytes(packet))
        assert 0.02 < tone_power(out, 440.0) < 0.2  # a 0.3 sine gives ~0.09
    finally:
        decoder.close()
    odd = av.AudioFrame.from_ndarray(np.zeros((1, 441), np.int16), format="s16", layout="mono")
    odd.sample_rate, odd.pts = 44_100, 0
    assert AudioEncoder().encode(odd) == []  # buffered by the resampler, no crash


def test_digital_silence_pauses_sending_but_keeps_the_clock() -> None:
    """A muted microphone (exact zeros): SILENCE_HANGOVER frames are sent, then one frame in
    KEEPALIVE_FRAMES; the timestamps keep pace, so the first packet after the pause carries its
    frame's time. Quiet sound (not exact zeros) is always sent; dtx=False sends everything."""
    tone = ToneSource(440.0)
    quiet = np.full(960, 1, "<i2").tobytes()  # one step above silence: still sound
    script = ["tone"] * 5 + ["zero"] * 100 + ["tone"] * 5 + ["quiet"] * 40
    for dtx in (True, False):
        encoder = AudioEncoder(dtx=dtx)
        sent = []  # frame index of each packet, from its pts
        for i, kind in enumerate(script):
            pcm = tone.read_frame() if kind == "tone" else quiet if kind == "quiet" else bytes(1920)
            assert pcm is not None
            sent += [int(p.pts) // 960 for p, _ in encoder.encode(make_frame(pcm, i * 960))]
        if not dtx:
            assert sent == list(range(len(script))) and encoder.paused == 0
            continue
        zeros = range(5, 105)
        sent_zeros = [i for i in sent if i in zeros]
        hang = SILENCE_HANGOVER
        keepalives = list(range(5 + hang + KEEPALIVE_FRAMES - 1, 105, KEEPALIVE_FRAMES))
        assert sent_zeros == list(range(5, 5 + hang)) + keepalives
        assert encoder.paused == 100 - len(sent_zeros)
        assert [i for i in sent if i not in zeros] == [*range(5), *range(105, 150)]
        assert sorted(set(sent)) == sent  # in order, each frame at most once
