"""Headless participants for tests, benchmarks and bots: synthetic media, progress on stderr,
statistics as JSON. Used by ``peermeet host/join --headless`` and ``peermeet demo``."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from app.config import EngineConfig
from app.errors import MediaError, PeerMeetError
from app.jsonfile import write_json
from app.media import encoders
from app.media.audio import NullSink, ToneSource
from app.media.audio_tracks import AudioFeed
from app.media.camera import CameraCapture, list_cameras
from app.media.metrics import CallMetrics
from app.media.mixer import SpeakerMixer
from app.media.pcm import PcmSink
from app.media.synthetic import SyntheticCamera
from app.media.video import VideoFeed
from app.meeting import away_words
from app.meeting import events as ev
from app.meeting.media import LocalMedia
from app.meeting.session import Session
from app.net import codec_prefs, receive


@dataclass
class MediaOptions:
    synthetic: bool = True
    width: int = 640
    height: int = 480
    fps: int = 30
    label: str = ""
    tone_hz: float = 440.0
    baseline: bool = False  # stock aiortc: one encoder per peer (benchmarks)
    pin_quality: bool = False  # keep the capture size and rate (benchmarks)
    noisy_pattern: bool = False  # encode the test pattern like a camera, denoiser on (benchmarks)
    muted: bool = False  # start with the microphone muted (a listener)


def build_media(
    opts: MediaOptions,
    report: TextIO | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    speaker: PcmSink | None = None,
) -> LocalMedia:
    """Synthetic tone + test pattern, or the first camera when asked for devices.

    Video is delivered on ``loop`` (default: the running one); what the others say goes to
    ``speaker`` (default: nowhere)."""
    source: Any = None
    if not opts.synthetic and list_cameras():
        try:
            source = CameraCapture(list_cameras()[0], opts.width, opts.height, opts.fps)
        except MediaError as exc:
            if report:
                print(f"camera: {exc}", file=report)
    if source is None:
        source = SyntheticCamera(
            opts.width, opts.height, opts.fps, label=opts.label, noisy=opts.noisy_pattern
        )
    video = VideoFeed(source, opts.fps, loop=loop)
    audio = AudioFeed(ToneSource(freq=opts.tone_hz))
    audio.set_muted(opts.muted)
    return LocalMedia(
        audio,
        video,
        SpeakerMixer(speaker or NullSink()),
        encode_once=not opts.baseline,
        pin_quality=opts.pin_quality,
    )


def engine_mode(baseline: bool, codec: str | None = None, dtx: bool = True) -> None:
    """Process-wide switches for benchmarks: stock aiortc receive buffers, the video codec,
    whether audio pauses during digital silence."""
    receive.set_stock(baseline)
    codec_prefs.prefer_video_codec(codec)
    encoders.DTX = dtx


def measure(media: LocalMedia, reporter: Reporter) -> CallMetrics:
    """Per-stream latency, frame times, bytes and loop lag into the stats JSON."""
    metrics = CallMetrics(rx_bytes=receive.received_bytes)
    media.tap = metrics.tap
    reporter.metrics = metrics
    return metrics


async def close_media(media: LocalMedia) -> None:
    await media.close()
    await media.speaker.aclose()
    await media.audio.aclose()
    media.video.close()


@dataclass
class Reporter:
    """Prints session events for a person (stderr) and collects what the JSON stats need."""

    session: Session
    out: TextIO = sys.stderr
    chat_on_connect: list[str] = field(default_factory=list)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    chats: list[dict[str, str]] = field(default_factory=list)
    metrics: CallMetrics | None = None
    in_room: bool = False  # past "room joined": before that, a failure is the whole story
    #: how it went, for the stats: "left", "ended", "expired", "disconnected" (SessionEnded's
    #: reason), or "failed" with "error" and "exit_status" (refused, unreachable, …)
    outcome: dict[str, Any] = field(default_factory=lambda: {"outcome": "left"})
    #: the rendezvous' address, and whether we host the meeting: named when it is lost
    rendezvous: str = ""
    hosting: bool = False
    clock: Callable[[], float] = time.monotonic
    lost_at: float | None = None  # out of touch with the rendezvous since (``clock``)

    def __post_init__(self) -> None:
        self.session.subscribe(self.on_event)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.Progress):
            self.in_room = self.in_room or event.step >= 2
            self.say(f"[{event.step}/5] {event.text}")
        elif isinstance(event, ev.PeerConnected):
            self.seen.setdefault(event.peer_id, {}).update(
                name=event.name,
                connect_ms=round(event.connect_ms, 1),
                path=event.path,
                safety_code=event.safety_code,
            )
            for text in self.chat_on_connect:
                self.session.send_chat(text, to=event.peer_id)
        elif isinstance(event, ev.FirstFrame):
            self.seen.setdefault(event.peer_id, {})[f"first_{event.kind}_ms"] = round(
                event.after_ms, 1
            )
        elif isinstance(event, ev.PeerMediaChanged):
            self.seen.setdefault(event.peer_id, {}).update(mic=event.mic, cam=event.cam)
        elif isinstance(event, ev.ConnectionChanged) and event.state == "reconnecting":
            info = self.session.peers.get(event.peer_id)
            self.say(f"reconnecting to {(info.name if info else '') or event.peer_id} …")
        elif isinstance(event, ev.PeerLeft):
            why = "" if event.reason == "left" else f" ({event.reason})"
            self.say(f"{event.name} left{why}")
        elif isinstance(event, ev.ChatReceived):
            self.chats.append({"from": event.peer_id, "name": event.name, "text": event.text})
            self.say(f"chat from {event.name}: {event.text}")
        elif isinstance(event, ev.RendezvousLost):
            self._lost(event)
        elif isinstance(event, ev.Rejoined):
            away = self.clock() - self.lost_at if self.lost_at is not None else 0.0
            self.lost_at = None
            self.say("note: " + away_words.back(self.rendezvous, away))
        elif isinstance(event, ev.Notice):
            self.say(f"note: {event.text}")
        elif isinstance(event, ev.SessionEnded) and self.outcome["outcome"] != "failed":
            self.outcome = {"outcome": event.reason}
        if isinstance(event, ev.SessionEnded) and self.in_room:  # (a refusal is said apart)
            words = ev.ENDED_TEXT.get(event.reason)
            self.say(f"call ended ({event.reason})" + (f": {words}" if words else ""))

    def _lost(self, event: ev.RendezvousLost) -> None:
        """Said when the rendezvous goes, and again if the last peer goes while it is away."""
        media = self.session.media
        if self.lost_at is None:
            self.lost_at = self.clock()
            for peer_id in self.session.peers:  # to show later that media outlived signaling
                row = self.seen.setdefault(peer_id, {})
                row["video_frames_at_rendezvous_lost"] = media.video_frames(peer_id)
            peers = self.session.peers.values()
            connected = sum(info.state == "connected" for info in peers) if event.with_others else 0
            self.say("note: " + away_words.lost(self.rendezvous, connected, hosting=self.hosting))
        elif not event.with_others:
            self.say("note: " + away_words.alone(self.rendezvous))

    def stats(self) -> dict[str, Any]:
        media = self.session.media
        peers = {}
        for peer_id in set(self.seen) | set(self.session.peers):
            row = dict(self.seen.get(peer_id, {}))
            info = self.session.peers.get(peer_id)
            row.setdefault("name", info.name if info else peer_id)
            row.setdefault("path", info.path if info else "")
            row.setdefault("connect_ms", None)
            row["video_frames"] = media.video_frames(peer_id)
            row["audio_frames"] = media.audio_frames(peer_id)
            peers[peer_id] = row
        out: dict[str, Any] = {"my_id": self.session.my_id, **self.outcome, "peers": peers}
        out["chat_received"] = self.chats
        if self.metrics is not None:
            out["metrics"] = self.metrics.stats()
        return out

    def failed(self, exc: PeerMeetError | KeyboardInterrupt) -> None:
        """The call did not happen (or broke off): the stats say why (see ``outcome_of``)."""
        self.outcome = outcome_of(exc)

    def write_stats(self, path: str) -> None:
        """OSError if it cannot be written (owner-only: it names the peers and addresses)."""
        write_json(Path(path), self.stats())


def outcome_of(exc: PeerMeetError | KeyboardInterrupt) -> dict[str, Any]:
    """How a call that did not happen went, for the stats: "failed" with the error and the exit
    status it gives, or "stopped" (Ctrl+C or SIGTERM before the call started)."""
    if isinstance(exc, KeyboardInterrupt):
        return {"outcome": "stopped"}
    return {"outcome": "failed", "error": str(exc), "exit_status": exc.exit_status}


def engine_config(
    display_name: str, loopback: bool, base: EngineConfig | None = None
) -> EngineConfig:
    base = base or EngineConfig()
    return EngineConfig(
        display_name=display_name,
        ice_servers=base.ice_servers,
        loopback_only=loopback,
        connect_timeout_s=base.connect_timeout_s,
    )
