"""Re-NACK over a real aiortc call on 127.0.0.1: one video packet and its first retransmission
are dropped on arrival at B (in app.net.rtpin, the path our receivers' packets take). Asking
again repairs the frame; without it B skips to a keyframe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiortc import MediaStreamTrack

from app.media.audio import ToneSource
from app.media.audio_tracks import AudioFeed
from app.media.outgoing import Outgoing
from app.media.synthetic import SyntheticCamera
from app.media.video import VideoFeed
from app.net import renack, rtpin
from app.net.peers import IdleVideoTrack, PeerLink

pytestmark = pytest.mark.usefixtures("loopback")


class IdleAudioTrack(IdleVideoTrack):
    kind = "audio"


class Dropper:
    """On B's video receiver: once armed, drops the next media packet and the first
    retransmission of it; records the NACKs and PLIs B sends."""

    def __init__(self, receiver: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed, self.target = False, None
        self.rtx_dropped = self.rtx_passed = 0
        self.nacks: list[list[int]] = []
        self.plis = 0
        self._receiver = receiver
        handle, nack, pli = rtpin.handle, receiver._send_rtcp_nack, receiver._send_rtcp_pli

        def handle_rtp(receiver: Any, packet: Any, arrival_time_ms: int, run: Any) -> None:
            if receiver is self._receiver and self._drop(packet):
                return
            handle(receiver, packet, arrival_time_ms, run)

        async def send_nack(media_ssrc: int, lost: list[int]) -> None:
            self.nacks.append(list(lost))
            await nack(media_ssrc, lost)

        async def send_pli(media_ssrc: int) -> None:
            self.plis += self.target is not None
            await pli(media_ssrc)

        # our receivers take packets through app.net.rtpin (see app.net.fastpath)
        monkeypatch.setattr(rtpin, "handle", handle_rtp)
        receiver._send_rtcp_nack = send_nack
        receiver._send_rtcp_pli = send_pli

    def _drop(self, packet: Any) -> bool:
        if packet.ssrc in self._receiver._RTCRtpReceiver__rtx_ssrc:  # RTX: payload starts OSN
            if self.target is None or int.from_bytes(packet.payload[:2], "big") != self.target:
                return False
            if self.rtx_dropped == 0:
                self.rtx_dropped += 1
                return True
            self.rtx_passed += 1
            return False
        if self.armed and self.target is None:
            self.target = packet.sequence_number
            return True
        return False

    def asks(self) -> int:
        return sum(self.target in lost for lost in self.nacks)


async def until(check: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def drain(track: MediaStreamTrack, frames: list[Any]) -> None:
    while True:
        frames.append(await track.recv())


@pytest.mark.parametrize(
    ("enabled", "encoded"),
    [(True, False), (False, False), (True, True)],
    ids=["renack", "no-renack", "renack-encode-once"],
)
async def test_a_lost_retransmission_is_asked_for_again(
    enabled: bool, encoded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With encode-once (``encoded``), A's sender is a DirectSender: the retransmissions come
    from the history it keeps for aiortc."""
    if not enabled:
        monkeypatch.setattr(renack, "MAX_ASKS", 0)
    feed = VideoFeed(SyntheticCamera(320, 240, 15, label="A"), fps=15)
    audio = AudioFeed(ToneSource())
    out = Outgoing(audio, feed)
    video = out.new_tracks()[1] if encoded else feed.new_track()
    tracks: dict[str, MediaStreamTrack] = {}

    def link(peer: str, offerer: bool, video: Any) -> PeerLink:
        return PeerLink(
            peer,
            offerer=offerer,
            ice_servers=(),
            audio=IdleAudioTrack(),
            video=video,
            on_state=lambda *a: None,
            on_track=lambda _, kind, track: tracks.setdefault(kind, track),
            on_data=lambda *a: None,
        )

    a, b = link("b", True, video), link("a", False, IdleVideoTrack())
    dropper = Dropper(b.pc.getTransceivers()[1].receiver, monkeypatch)
    buffer = b.receive.buffers["1"]
    frames: list[Any] = []
    reader: asyncio.Future[None] | None = None
    try:
        await a.accept_answer(await b.accept_offer(await a.make_offer()))
        await until(lambda: "video" in tracks)
        reader = asyncio.ensure_future(drain(tracks["video"], frames))
        await until(lambda: len(frames) >= 10)  # past the first keyframe
        if encoded:  # A's sender takes the packets pushed to it, no task per frame
            assert video._direct is not None  # type: ignore[attr-defined]
        skipped, repaired = buffer.frames_skipped, buffer.repaired
        dropper.armed = True
        await until(lambda: dropper.target is not None and dropper.rtx_dropped == 1)
        shown = len(frames)
        await asyncio.sleep(1.0)  # ample for repair (~ms) or the skip (repair wait: 120 ms)
        assert len(frames) > shown + 5, "video must keep flowing either way"
        if enabled:
            assert dropper.asks() >= 2 and dropper.rtx_passed >= 1
            assert buffer.repaired == repaired + 1, "the second retransmission repairs the frame"
            assert buffer.frames_skipped == skipped and dropper.plis == 0
        else:
            assert dropper.asks() == 1 and dropper.rtx_passed == 0  # aiortc asks only once
            assert buffer.repaired == repaired
            assert buffer.frames_skipped > skipped and dropper.plis >= 1
        print(f"re-NACK {enabled}: asks {dropper.asks()}, rtx passed {dropper.rtx_passed}, "
              f"skipped {buffer.frames_skipped - skipped}, PLIs {dropper.plis}")  # fmt: skip
    finally:
        if reader is not None:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await a.close()
        await b.close()
        await out.aclose()
        await audio.aclose()
        feed.close()
        feed.close()
