"""Which video codec to offer first (process-wide, like set_loopback_only): VP8 by default;
benchmarks can ask for H.264. Peers answer with the offerer's first common codec."""

from __future__ import annotations

from typing import Any

from aiortc import RTCRtpSender

_video: str | None = None


def prefer_video_codec(name: str | None) -> None:
    """ "vp8", "h264", or None for aiortc's order (VP8 first)."""
    global _video
    _video = name.lower() if name else None


def apply(transceiver: Any) -> None:
    """Put the preferred codec (and RTX) first on a video transceiver; others are left alone."""
    if _video is None or transceiver.kind != "video":
        return
    codecs = RTCRtpSender.getCapabilities("video").codecs
    chosen = [c for c in codecs if c.mimeType.lower() == f"video/{_video}"]
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx"]
    if chosen:
        transceiver.setCodecPreferences(chosen + rtx)
