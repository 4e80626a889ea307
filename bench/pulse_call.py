"""Mouth-to-ear through real PulseAudio devices, for bench/audio_latency.py.

A private PulseAudio server (tests/pulse.py) with one stereo null sink, "air":
  - A's microphone "mouth" records air's LEFT channel (module-remap-source);
  - B's speaker "ear" plays into air's RIGHT channel (module-remap-sink);
  - the bench plays clicks into the left channel and records air.monitor (both channels, one
    clock): latency = onset on the right − onset on the left.
A: ParecSource("mouth") → its PcmRing (as QtAudioIO.mic) → AudioFeed → call → B: SpeakerMixer
→ PacatSink("ear"), all 10 ms device latency, as the app's own audio path would be configured.
Modes: "ours" (PeerMeet's defaults: adaptive mixer cushion from 1 frame), "baseline" (stock
aiortc receiving) and "ours_fixed_cushion_2" (the mixer's former fixed 2-frame cushion).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import numpy as np
from audio_latency import CLICK_EVERY, click, figures, noise_floor
from audiolink import AudioLink
from pulse_io import PacatSink, ParecSource, Recorder

from app.media.mixer import SpeakerMixer
from app.net.peers import set_loopback_only
from tests.pulse import PulseServer, pulse_missing

RATE = 48_000
BYTES_PER_MS = RATE * 2 // 1000  # mono s16


def _setup(pulse: PulseServer) -> None:
    pulse.pactl(
        "load-module", "module-null-sink", "sink_name=air", "format=s16le", f"rate={RATE}",
        "channels=2", "channel_map=front-left,front-right",
    )  # fmt: skip
    pulse.pactl(
        "load-module", "module-remap-source", "source_name=mouth", "master=air.monitor",
        "channels=1", "channel_map=mono", "master_channel_map=front-left", "remix=no",
    )  # fmt: skip
    pulse.pactl(
        "load-module", "module-remap-sink", "sink_name=ear", "master=air",
        "channels=1", "channel_map=mono", "master_channel_map=front-right", "remix=no",
    )  # fmt: skip


def _clicks(seconds: float) -> bytes:
    """Stereo s16: a click on the left every CLICK_EVERY over a microphone's noise floor,
    silence on the right."""
    left = noise_floor(int(RATE * seconds))
    burst = click()
    for start in np.arange(0.5, seconds - 0.5, CLICK_EVERY):
        i = int(start * RATE)
        left[i : i + burst.size] = burst
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    return (stereo * 32767).astype("<i2").tobytes()


def _onsets(channel: np.ndarray) -> list[float]:
    """Seconds into the recording of every click onset (at least 0.3 s apart)."""
    out: list[float] = []
    hits = np.flatnonzero(np.abs(channel) > 0.2)
    for i in hits:
        t = i / RATE
        if not out or t - out[-1] > 0.3:
            out.append(t)
    return out


def _play(pulse: PulseServer, seconds: float) -> subprocess.Popen[bytes]:
    """Start playing the clicks into "air" (from a file: a pipe would block the event loop)."""
    clicks = pulse.root / "clicks.raw"
    clicks.write_bytes(_clicks(seconds))
    with open(clicks, "rb") as data:
        return subprocess.Popen(
            ["pacat", "--playback", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=2", "--latency-msec=10", "--device=air"],
            env=pulse.client_env, stdin=data, stderr=subprocess.DEVNULL,
        )  # fmt: skip


async def _one(
    pulse: PulseServer, ours: bool, seconds: float, fixed_cushion: int | None = None
) -> dict[str, Any]:
    env = pulse.client_env
    recorder = Recorder("air.monitor", env, channels=2)
    await asyncio.sleep(0.3)
    pulse.pactl("suspend-sink", "air", "1")  # restart the null sink's clock at short blocks
    pulse.pactl("suspend-sink", "air", "0")
    mic, ear = ParecSource("mouth", env), PacatSink("ear", env)
    link = AudioLink(mic.ring, ours)  # the ring itself, as the app's QtAudioIO.mic
    fixed = {} if fixed_cushion is None else {"jitter_frames": fixed_cushion}
    speaker = SpeakerMixer(ear, max_jitter_frames=fixed_cushion or 3, **fixed)
    player = None
    stats: dict[str, Any] = {}
    try:
        speaker.attach("a", await link.connect())
        await asyncio.sleep(1.0)
        player = _play(pulse, seconds)
        await asyncio.sleep(seconds + 0.5)
        stats = {
            "mixer_underruns": speaker.underruns,
            "mixer_cushion": speaker.cushion("a"),
            "mixer_drained_ms": speaker.drained // BYTES_PER_MS,
            "mic_dropped_ms": link.feed.backlog_dropped // BYTES_PER_MS,
        }
    finally:
        if player is not None:
            player.wait(timeout=10)
        await speaker.aclose()
        await link.aclose()
        mic.close()
        ear.close()
        recorded = recorder.close()
    pcm = np.frombuffer(recorded[: len(recorded) // 4 * 4], "<i2").reshape(-1, 2) / 32768
    left, right = _onsets(pcm[:, 0]), _onsets(pcm[:, 1])
    latencies = []
    for t in left:
        later = [r - t for r in right if 0 < r - t < CLICK_EVERY]
        if later:
            latencies.append(later[0])
    return figures(latencies[1:]) | stats  # the first click may meet a stream still settling


def pulse_latency(seconds: float = 8.0) -> dict[str, Any]:
    reason = pulse_missing()
    if reason:
        return {"skipped": reason}
    set_loopback_only(True)
    pulse = PulseServer()
    try:
        _setup(pulse)
        out = {}
        for mode, ours, cushion in (
            ("ours", True, None),
            ("baseline", False, None),
            ("ours_fixed_cushion_2", True, 2),
        ):
            started = time.monotonic()
            out[mode] = asyncio.run(_one(pulse, ours, seconds, cushion))
            out[mode]["run_s"] = round(time.monotonic() - started, 1)
        return out
    finally:
        pulse.close()
