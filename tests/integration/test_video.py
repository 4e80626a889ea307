"""VideoFeed and the stamp against real aiortc: encoders, a loopback call, threads and failures."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import aioice.ice
import av
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.codecs import depayload, get_decoder, get_encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from app.errors import MediaError
from app.media.camera import CameraCapture, list_cameras
from app.media.synthetic import SyntheticCamera, plane_view, read_stamp
from app.media.video import TIME_BASE, Blank, VideoFeed

# -- the stamp through real encoders ---------------------------------------------------------


@pytest.mark.parametrize("mime", ["video/VP8", "video/H264"])
@pytest.mark.parametrize("size", [(640, 480), (320, 240)])
def test_stamp_survives_encoding_at_300_kbps(mime: str, size: tuple[int, int]) -> None:
    codec = RTCRtpCodecParameters(mimeType=mime, clockRate=90_000, payloadType=96)
    encoder, decoder = get_encoder(codec), get_decoder(codec)
    encoder.target_bitrate = 300_000  # type: ignore[attr-defined]  # Vp8/H264Encoder have it
    cam = SyntheticCamera(*size, label="Encoded")
    sent, good, wrong = 60, 0, []
    for i in range(sent):
        frame = cam.render(i, 1_700_000 + 33 * i)
        frame.pts, frame.time_base = i * 3000, TIME_BASE
        payloads, timestamp = encoder.encode(frame, force_keyframe=i == 0)
        data = b"".join(depayload(codec, p) for p in payloads)
        for out in decoder.decode(JitterFrame(data, timestamp)):
            assert isinstance(out, av.VideoFrame) and out.pts is not None
            n = round(out.pts / 3000)
            got = read_stamp(out)
            if got == (n, 1_700_000 + 33 * n):
                good += 1
            elif got is not None:
                wrong.append((n, got))
    assert wrong == []  # a damaged stamp reads as None, never as a wrong number
    assert good >= sent * 0.95


# -- a real call over loopback -------------------------------------------------------------


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """aioice skips 127.0.0.1 host candidates; without a network we need exactly that one."""
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda *a, **k: ["127.0.0.1"])


async def _connect(a: RTCPeerConnection, b: RTCPeerConnection) -> None:
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)


async def _frames_for(track: Any, seconds: float) -> list[tuple[float, av.VideoFrame]]:
    """(wall-clock arrival time, frame) for every frame received within ``seconds``."""
    end, got = time.time() + seconds, []
    while (left := end - time.time()) > 0:
        try:
            frame = await asyncio.wait_for(track.recv(), left)
        except TimeoutError:
            break
        got.append((time.time(), frame))
    return got


async def _recv(track: MediaStreamTrack, seconds: float = 2) -> av.VideoFrame:
    frame = await asyncio.wait_for(track.recv(), seconds)
    assert isinstance(frame, av.VideoFrame)
    return frame


def _feed_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "peermeet-video-feed"]


async def test_loopback_call_stamps_camera_off_and_clean_close(loopback_ice: None) -> None:
    feed = VideoFeed(SyntheticCamera(320, 240, 15, label="Alice"), fps=15)
    config = RTCConfiguration(iceServers=[])  # else aiortc asks Google's STUN server
    a, b = RTCPeerConnection(config), RTCPeerConnection(config)
    remote: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    b.on("track", lambda track: None if remote.done() else remote.set_result(track))
    try:
        a.addTrack(feed.new_track())
        await _connect(a, b)
        track = await asyncio.wait_for(remote, 5)

        live = await _frames_for(track, 1.5)
        stamps = [(t, s) for t, f in live if (s := read_stamp(f)) is not None]
        assert len(stamps) >= 12, f"only {len(stamps)} stamped frames in 1.5 s at 15 fps"
        counters = [c for _, (c, _) in stamps]
        assert counters == sorted(set(counters))  # increasing, no duplicates
        latency = sorted((int(t * 1000) - ms) % 2**32 for t, (_, ms) in stamps)
        print(f"loopback: {len(stamps)} frames, capture->decoded latency ms {latency}")

        switched_off = time.time()
        feed.set_enabled(False)
        off = await _frames_for(track, 2.4)
        black = [t for t, f in off if plane_view(f, 0).mean() < 40 and read_stamp(f) is None]
        assert black and black[0] - switched_off < 0.5, "the peer should see black promptly"
        settled = [t for t, _ in off if t - switched_off > 0.5]
        assert 1 <= len(settled) <= 3, f"{len(settled)} frames in ~2 s with the camera off"
        assert set(settled) <= set(black)

        feed.set_enabled(True)
        back = await _frames_for(track, 0.8)
        assert any(read_stamp(f) is not None for _, f in back)

        feed.close()
        feed.close()  # idempotent
        assert _feed_threads() == []
    finally:
        feed.close()
        await a.close()
        await b.close()
    await asyncio.sleep(0)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftovers == []


# -- the feed's own contract ---------------------------------------------------------------


async def test_tracks_send_only_newer_frames_and_end_on_close() -> None:
    feed = VideoFeed(SyntheticCamera(160, 120, 30), fps=30)
    fast, slow = feed.new_track(), feed.new_track()
    try:
        first = read_stamp(await _recv(fast))
        await asyncio.sleep(0.25)  # slow consumer: frames pile up at the source, not in the track
        skipped = read_stamp(await _recv(slow))
        nxt = read_stamp(await _recv(slow))
        assert first and skipped and nxt
        assert skipped[0] >= first[0] + 4  # it got the newest frame, not the backlog
        assert nxt[0] == skipped[0] + 1  # and then waited for a new one instead of resending
        frame = await _recv(fast)
        assert frame.time_base == TIME_BASE and frame.pts is not None and frame.pts > 0
        assert feed.latest is not None and feed.frames_captured >= nxt[0]
    finally:
        feed.close()
    assert fast.readyState == "ended" and slow.readyState == "ended"
    with pytest.raises(MediaStreamError):
        await fast.recv()
    with pytest.raises(MediaError):
        feed.new_track()
    assert _feed_threads() == []


async def test_stopped_track_waiting_in_recv_is_released() -> None:
    feed = VideoFeed(SyntheticCamera(160, 120, 5), fps=5)
    track = feed.new_track()
    try:
        await track.recv()
        waiting = asyncio.ensure_future(track.recv())
        await asyncio.sleep(0)
        track.stop()
        with pytest.raises(MediaStreamError):
            await asyncio.wait_for(waiting, 1)
    finally:
        feed.close()


# -- cameras and failures ------------------------------------------------------------------


def test_missing_camera_raises_helpful_media_error() -> None:
    cam = CameraCapture("/dev/video-peermeet-missing", 320, 240, 15)
    with pytest.raises(MediaError, match="No camera found at /dev/video-peermeet-missing"):
        cam.open()
    with pytest.raises(MediaError, match="Plug in a camera"):
        cam.next_frame()
    cam.close()
    cam.close()


def test_non_camera_device_is_explained() -> None:
    with pytest.raises(MediaError, match="/dev/null is not a video camera"):
        CameraCapture("/dev/null").open()


def test_list_cameras_returns_existing_video_nodes(tmp_path: Path) -> None:
    assert all(c.startswith("/dev/video") for c in list_cameras())
    for name in ["video10", "video2", "video0", "videodev", "vbi0"]:
        (tmp_path / name).touch()  # not V4L2 nodes: the query fails, so they are kept
    assert list_cameras(str(tmp_path)) == [str(tmp_path / f"video{n}") for n in (0, 2, 10)]


class _FlakyCamera:
    """A paced source that delivers a few frames, then fails like an unplugged camera."""

    paced = True

    def __init__(self, frames: int) -> None:
        self.width, self.height, self.fps = 320, 240, 30.0
        self.left, self.closed = frames, 0
        self._pattern = SyntheticCamera(320, 240)

    def next_frame(self) -> av.VideoFrame:
        time.sleep(1 / self.fps)
        if self.left <= 0:
            raise MediaError("The camera at /dev/video7 stopped working (No such device).")
        self.left -= 1
        return self._pattern.next_frame()

    def close(self) -> None:
        self.closed += 1


async def _stamped(track: Any, count: int) -> list[tuple[int, int]]:
    got: list[tuple[int, int]] = []
    while len(got) < count:
        stamp = read_stamp(await _recv(track))
        assert stamp is not None
        got.append(stamp)
    return got


async def test_camera_failing_mid_call_falls_back_to_test_pattern() -> None:
    flaky = _FlakyCamera(frames=3)
    feed = VideoFeed(flaky, fps=30, label="Bob")
    track = feed.new_track()
    try:
        await _stamped(track, 8)  # 3 from the camera, then the pattern carries on
        assert feed.last_error is not None
        assert "stopped working" in feed.last_error and "test pattern" in feed.last_error
        assert flaky.closed >= 1
    finally:
        feed.close()


async def test_missing_camera_feed_sends_test_pattern() -> None:
    feed = VideoFeed(CameraCapture("/dev/video-peermeet-missing", 320, 240, 15), fps=15)
    try:
        await _stamped(feed.new_track(), 2)
        assert feed.last_error is not None and "No camera found" in feed.last_error
    finally:
        feed.close()


async def test_camera_off_releases_source_and_switching_closes_the_old_one() -> None:
    first, second = _FlakyCamera(frames=1000), _FlakyCamera(frames=1000)
    feed = VideoFeed(first, fps=30)
    track = feed.new_track()
    try:
        await _stamped(track, 2)
        feed.set_enabled(False)
        for _ in range(3):  # a frame captured just before may still be on its way
            black = await _recv(track, 1)
            if read_stamp(black) is None:
                break
        assert plane_view(black, 0).max() < 40
        assert first.closed >= 1  # camera light off
        feed.set_enabled(True)
        feed.set_source(second)
        await _stamped(track, 2)
        assert second.left < 1000  # frames now come from the new camera
    finally:
        feed.close()
    assert second.closed >= 1


class HangingCamera:
    """A camera whose read hangs (it froze, or is being pulled out), then fails."""

    paced, width, height, fps = True, 320, 240, 15.0

    def __init__(self) -> None:
        self.inside, self.release = threading.Event(), threading.Event()

    def next_frame(self) -> av.VideoFrame:
        self.inside.set()
        self.release.wait(5)
        raise MediaError("The camera at /dev/video7 stopped working (No such device).")

    def close(self) -> None:
        pass


async def test_a_camera_picked_while_the_old_one_hangs_is_not_blamed_for_its_failure() -> None:
    """The old camera's read fails after another was picked: that failure is not said (it
    would turn the new camera's video off)."""
    old = HangingCamera()
    feed = VideoFeed(old, 15, blank_on_failure=True)
    try:
        assert await asyncio.to_thread(old.inside.wait, 5)
        feed.set_source(SyntheticCamera(320, 240, 15))
        old.release.set()
        await asyncio.sleep(0.5)
        assert isinstance(feed.source, SyntheticCamera)
        assert feed.last_error is None, feed.last_error
    finally:
        feed.close()


async def test_with_blank_on_failure_a_camera_that_cannot_open_gives_black_and_why() -> None:
    feed = VideoFeed(
        CameraCapture("/dev/video-peermeet-missing", 320, 240, 15), 15, blank_on_failure=True
    )
    try:
        for _ in range(100):
            if feed.last_error:
                break
            await asyncio.sleep(0.05)
        assert feed.last_error and "No camera found" in feed.last_error
        assert "test pattern" not in feed.last_error  # (nothing is sent in its place)
        assert isinstance(feed.source, Blank)
    finally:
        feed.close()


async def test_camera_back_on_keeps_no_black_picture_for_the_self_view() -> None:
    """While the camera is off the feed's newest frame is black (sent to the peers); turned
    back on, that black is not what the self-view shows until the camera's first picture.
    (A real camera takes a moment to open: my own tile was black for that long.)"""
    feed = VideoFeed(SyntheticCamera(160, 120, 15), fps=15, enabled=False)
    track = feed.new_track()
    try:
        off = await _recv(track, 2)
        assert read_stamp(off) is None and feed.latest is not None  # black
        feed.set_enabled(True)
        assert feed.latest is None, "the black picture is still the newest one"
        await _stamped(track, 1)
        assert feed.latest is not None and read_stamp(feed.latest) is not None
    finally:
        feed.close()
