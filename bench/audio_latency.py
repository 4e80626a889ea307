"""Mouth-to-ear audio latency: a click fed into A's microphone path, found in B's speaker path.

Engine only: A's AudioFeed reads PCM frames with a click every CLICK_EVERY; B's remote audio
track hands decoded frames out; latency = hand-out time − hand-in time, corrected by where the
click sits in each frame. Run clean, with one packet lost, and with 30 ms of network jitter,
for PeerMeet and for stock aiortc (baseline) in the same run.

Through PulseAudio (a private server): a stereo null sink "air"; A's microphone records its
left channel, B's speaker (SpeakerMixer → pacat) plays into its right; the bench plays clicks
into the left channel and records both channels with one clock, so latency = right onset − left
onset, device buffers included. Conversation needs < 150 ms one way (ITU-T G.114).

    .venv/bin/python bench/audio_latency.py --json audio.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from audiolink import AudioLink, Impairment, read_frames

from app.media.mixer import SpeakerMixer
from app.media.pcm import FRAME_SAMPLES, SAMPLE_RATE
from app.net.peers import set_loopback_only

CLICK_EVERY = 0.6  # s: longer than any latency measured, so clicks cannot be mismatched
CLICK_AT = 300  # sample offset of the click in its frame
THRESHOLD = 0.2  # of full scale: an onset
#: the "mouth" has a noise floor, as every real microphone does (about -80 dBFS): exact digital
#: silence is what a muted microphone gives, and PeerMeet pauses sending during it
#: (app.media.encoders, SILENCE_HANGOVER), which is not the path measured here
NOISE_FLOOR = 3 / 32767


def noise_floor(samples: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, NOISE_FLOOR, samples)


def click(samples: int = 240, freq: float = 2000.0, amplitude: float = 0.7) -> np.ndarray:
    t = np.arange(samples) / SAMPLE_RATE
    return amplitude * np.hanning(samples) * np.sin(2 * np.pi * freq * t)


def onset(samples: np.ndarray) -> int | None:
    """Index of the first sample over THRESHOLD (samples in -1..1), or None."""
    hits = np.flatnonzero(np.abs(samples) > THRESHOLD)
    return int(hits[0]) if hits.size else None


class ClickMic:
    """A PcmSource: a quiet noise floor with a click every CLICK_EVERY; notes when each was
    handed in."""

    def __init__(self) -> None:
        self.clicks: list[float] = []  # perf_counter time of each click's onset
        self._frames = 0
        quiet = noise_floor(FRAME_SAMPLES * 50).reshape(50, FRAME_SAMPLES)
        self._quiet: list[bytes] = [(row * 32767).astype("<i2").tobytes() for row in quiet]
        frame = quiet[0].copy()
        burst = click()
        frame[CLICK_AT : CLICK_AT + burst.size] = burst
        self._click_pcm: bytes = (frame * 32767).astype("<i2").tobytes()
        self._offset = onset(frame) or CLICK_AT
        self._every = round(CLICK_EVERY * SAMPLE_RATE / FRAME_SAMPLES)

    def read_frame(self) -> bytes | None:
        self._frames += 1
        if self._frames % self._every:
            return self._quiet[self._frames % len(self._quiet)]
        self.clicks.append(time.perf_counter() + self._offset / SAMPLE_RATE)
        return self._click_pcm

    def close(self) -> None:
        pass


def match(clicks: list[float], heard: list[float], limit: float = 1.0) -> list[tuple[float, float]]:
    """(click time, latency) for the first detection after each click (within ``limit``)."""
    out, j = [], 0
    for i, sent in enumerate(clicks):
        nxt = clicks[i + 1] if i + 1 < len(clicks) else float("inf")
        while j < len(heard) and heard[j] < sent:
            j += 1
        if j < len(heard) and heard[j] < min(nxt, sent + limit):
            out.append((sent, heard[j] - sent))
    return out


def figures(latencies: list[float]) -> dict[str, float | None]:
    ms = sorted(float(x) * 1000 for x in latencies)
    if not ms:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    return {
        "p50": round(statistics.median(ms), 1),
        "p95": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 1),
        "max": round(ms[-1], 1),
        "n": len(ms),
    }


class Speaker:
    """A PcmSink for SpeakerMixer (the app's speaker path): notes when each click is written."""

    def __init__(self, heard: list[float]) -> None:
        self.heard = heard

    def write(self, pcm: bytes) -> None:
        at = onset(np.frombuffer(pcm, "<i2") / 32768)
        if at is not None:
            self.heard.append(time.perf_counter() + at / SAMPLE_RATE)

    def close(self) -> None:
        pass


async def engine_run(
    ours: bool, impairment: Impairment, seconds: float, mixer: bool = False
) -> dict[str, Any]:
    mic = ClickMic()
    link = AudioLink(mic, ours)
    heard: list[float] = []
    gaps: list[float] = []
    ticks: list[str] = []
    speaker: SpeakerMixer | None = None
    try:
        track = await link.connect()
        impairment.install(link.receiver, time.perf_counter())
        playout = link.b.receive.buffers.get("0")
        if ours and playout is not None:  # log what each 20 ms tick played
            tick = playout.buffer.tick

            def logged(now: float) -> tuple[str, bytes | None]:
                kind, payload = tick(now)
                ticks.append(kind)
                return kind, payload

            playout.buffer.tick = logged
        last = [0.0]

        def on_frame(now: float, frame: Any) -> None:
            samples = frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0] / 32768
            if last[0]:
                gaps.append(now - last[0])
            last[0] = now
            at = onset(samples)
            if at is not None:
                heard.append(now + at / SAMPLE_RATE)

        start = time.perf_counter()
        if mixer:  # the app's speaker path: SpeakerMixer's 20 ms clock and jitter cushion
            speaker = SpeakerMixer(Speaker(heard))
            speaker.attach("a", track)
            await asyncio.sleep(seconds)
        else:
            await read_frames(track, on_frame, start + seconds)
    finally:
        if speaker is not None:
            await speaker.aclose()
        await impairment.aclose()
        await link.aclose()
    pairs = [(t, lat) for t, lat in match(mic.clicks, heard) if t > mic.clicks[0] + 0.5]
    result: dict[str, Any] = {"all": figures([lat for _, lat in pairs])}
    if impairment.lost_at is not None:
        lost = impairment.lost_at
        result["first_second_after_loss"] = figures([x for t, x in pairs if lost <= t < lost + 1])
        result["after_1s"] = figures([x for t, x in pairs if t >= lost + 1])
    runs = [len(r) for r in "".join("x" if k != "audio" else " " for k in ticks).split()]
    result["longest_handout_gap_ms"] = round(max(gaps, default=0) * 1000, 1)
    if speaker is not None:
        result["mixer_underruns"] = speaker.underruns
    result["concealed_frames"] = sum(runs)
    result["longest_concealed_run"] = max(runs, default=0)
    return result


SCENARIOS: dict[str, tuple[Callable[[], Impairment], bool]] = {  # (impairment, via the mixer)
    "clean": (lambda: Impairment(), False),
    "one_lost_packet": (lambda: Impairment(lose_at=2.0), False),
    "jitter_30ms": (lambda: Impairment(jitter=0.030), False),
    "clean_to_speaker_mixer": (lambda: Impairment(), True),
}


async def engine(seconds: float) -> dict[str, Any]:
    set_loopback_only(True)
    out: dict[str, Any] = {}
    for name, (make, mixer) in SCENARIOS.items():
        out[name] = {}
        for mode in ("ours", "baseline"):
            print(f"... engine: {name}, {mode}", file=sys.stderr, flush=True)
            out[name][mode] = await engine_run(mode == "ours", make(), seconds, mixer)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="per engine scenario")
    parser.add_argument("--no-pulse", action="store_true", help="skip the PulseAudio part")
    parser.add_argument("--pulse-seconds", type=float, default=8.0, help="per PulseAudio mode")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    result: dict[str, Any] = {"engine": asyncio.run(engine(args.seconds))}
    print("\nengine only (PCM in → decoded frame out), click latency ms:")
    print(f"{'scenario':18} {'mode':9} {'p50':>6} {'p95':>6} {'max':>6}  notes")
    for name, modes in result["engine"].items():
        for mode, r in modes.items():
            a = r["all"]
            note = f"concealed {r['concealed_frames']} (longest run {r['longest_concealed_run']})"
            note += f", longest hand-out gap {r['longest_handout_gap_ms']} ms"
            if "mixer_underruns" in r:
                note += f", mixer underruns {r['mixer_underruns']}"
            if "after_1s" in r:
                s1, s2 = r["first_second_after_loss"], r["after_1s"]
                note += f"; after the loss: first second p50 {s1['p50']}, then p50 {s2['p50']}"
            print(f"{name:18} {mode:9} {a['p50']!s:>6} {a['p95']!s:>6} {a['max']!s:>6}  {note}")
    if not args.no_pulse:
        from pulse_call import pulse_latency

        result["pulse"] = pulse_latency(args.pulse_seconds)
        print("\nthrough PulseAudio devices (mouth → ear), ms:")
        for mode, r in result["pulse"].items():
            print(f"  {mode:9} {r}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
