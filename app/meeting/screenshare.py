"""Screen sharing for one Session: the screen goes out on every peer link's third m-line.

aiortc's RTP sender starts reading its track when the connection comes up and keeps awaiting
that track's recv(): swapping tracks later with replaceTrack() does not wake a sender stuck in
the placeholder's recv, and a stopped track ends the sender for good. So each link's screen
sender gets one ScreenTrack as soon as the link starts connecting (before its sender starts),
and that track stays for the whole call: idle until a share starts, then relaying the shared
feed, and idle again afterwards without ever ending.

The screen is encoded once for everyone, like the camera: a share has one SharedEncoder and
every ScreenTrack relays that encoder's packets (its sender is bound to send pre-encoded
packets); a peer that joins mid-share gets a keyframe. Frames are restamped before encoding, so
the RTP clock keeps rising from one share to the next.

If the screen can no longer be captured (the display went away), the share ends by itself:
peers are told it stopped (they are not sent a test pattern or black instead), and listeners
(``subscribe``) get ScreenShareStopped saying what happened and what to do.

Create the ScreenShare right after the Session, before joining, so it sees every link.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from app.media import heap
from app.media.encode_once import SharedEncoder
from app.media.sender_binding import bind_sender
from app.media.video import FrameSource, VideoFeed
from app.meeting import events as ev
from app.meeting.session import Session
from app.net import protocol as p
from app.net.peers import PeerLink

FRAME_STEP = 3000  # 1/30 s at the 90 kHz video clock: the gap when the source changes


class Restamped(MediaStreamTrack):
    """A feed's track with its frames' pts moved on, so they follow ``after`` (a pts)."""

    kind = "video"

    def __init__(self, inner: MediaStreamTrack, after: int) -> None:
        super().__init__()
        self.inner, self.last_pts = inner, after
        self._offset: int | None = None

    async def recv(self) -> Any:
        frame = await self.inner.recv()
        if self._offset is None:
            self._offset = self.last_pts + FRAME_STEP - (frame.pts or 0)
        frame.pts = (frame.pts or 0) + self._offset
        self.last_pts = frame.pts
        return frame

    def stop(self) -> None:
        super().stop()
        self.inner.stop()


class ScreenTrack(MediaStreamTrack):
    """Sits on one screen sender for the whole call; relays the packets of whatever encoded
    track it is given (a packet source for the bound sender, see sender_binding)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._source: Any = None  # an EncodedTrack of the current share
        self._codec: str | None = None
        self._changed = asyncio.Event()

    def set_source(self, track: Any) -> None:
        old, self._source = self._source, track
        if track is not None and self._codec is not None:
            track.use_codec(self._codec)
        self._changed.set()
        if old is not None and old is not track:
            old.stop()

    # the packet-source side, called by the bound sender
    def use_codec(self, codec: str) -> None:
        self._codec = codec
        if self._source is not None:
            self._source.use_codec(codec)

    def request_keyframe(self) -> None:
        if self._source is not None:
            self._source.request_keyframe()

    def set_estimate(self, bitrate: int) -> None:
        if self._source is not None:
            self._source.set_estimate(bitrate)

    async def recv(self) -> Any:
        while self.readyState == "live":
            source = self._source
            self._changed.clear()
            if source is None:
                await self._changed.wait()
                continue
            frame_task = asyncio.ensure_future(source.recv())
            change_task = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait({frame_task, change_task}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (frame_task, change_task):
                    if not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, MediaStreamError):
                            await task
            if frame_task.cancelled() or frame_task.exception() is not None:
                if self._source is source and frame_task.done() and not frame_task.cancelled():
                    self._source = None  # the source ended: idle until the next share
                continue
            return frame_task.result()
        raise MediaStreamError

    def stop(self) -> None:
        self.set_source(None)
        super().stop()
        self._changed.set()


class ScreenShare:
    """Owns the shared feed and one ScreenTrack per peer link. ``stop()`` is idempotent."""

    def __init__(self, session: Session, fps: float = 10) -> None:
        self.session = session
        self.fps = fps
        self._feed: VideoFeed | None = None
        self._encoder: SharedEncoder | None = None
        self._last_pts = 0  # where the previous share's frames ended
        self._tracks: dict[str, tuple[PeerLink, ScreenTrack]] = {}
        self._busy = asyncio.Lock()
        self._listeners: list[Callable[[ev.Event], None]] = []
        self._ending: set[asyncio.Task[None]] = set()  # shares ending because capture failed
        session.subscribe(self._on_event)

    def subscribe(self, listener: Callable[[ev.Event], None]) -> None:
        """``listener(ScreenShareStopped)`` when a share ends by itself (on the loop)."""
        self._listeners.append(listener)

    @property
    def active(self) -> bool:
        return self._feed is not None

    async def start(self, make_source: Callable[[], FrameSource]) -> None:
        """Share ``make_source()`` with everyone. Raises MediaError if it cannot be opened."""
        async with self._busy:
            if self._feed is not None:
                return
            source = make_source()
            opener = getattr(source, "open", None)
            try:
                if opener is not None:
                    await asyncio.to_thread(opener)
            except BaseException:
                source.close()
                raise
            feed = self._feed = VideoFeed(
                source, self.fps, on_failure=lambda message: self._capture_failed(feed, message)
            )
            frames = Restamped(feed.new_track(), self._last_pts)
            self._encoder = SharedEncoder(frames, noisy=lambda: False)
            for peer_id, link in links_of(self.session).items():
                self._attach(peer_id, link).set_source(self._encoder.new_track())
            self.announce()

    @property
    def latest(self) -> Any:
        """The newest shared frame (for our own preview; read, don't write), or None."""
        feed = self._feed
        return feed.latest if feed is not None else None

    @property
    def encoder(self) -> SharedEncoder | None:
        """The current share's encoder (one for every peer); None when not sharing."""
        return self._encoder

    async def stop(self) -> None:
        async with self._busy:
            await self._stop_sharing()

    def _capture_failed(self, feed: VideoFeed, message: str) -> None:
        task = asyncio.get_running_loop().create_task(self._end_failed(feed, message))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def _end_failed(self, feed: VideoFeed, message: str) -> None:
        """The screen of ``feed`` could no longer be captured: end that share, say why."""
        async with self._busy:
            if feed is not self._feed:
                return  # (that share was already stopped)
            await self._stop_sharing()
        for listener in list(self._listeners):
            listener(ev.ScreenShareStopped(message))

    async def _stop_sharing(self) -> None:
        feed, self._feed = self._feed, None
        encoder, self._encoder = self._encoder, None
        if feed is not None:
            for _, track in self._tracks.values():
                track.set_source(None)  # stops its encoded track; the sender stays alive
            if encoder is not None:
                source = encoder.source
                await encoder.aclose()  # ends its task and the restamped feed track
                if isinstance(source, Restamped):
                    self._last_pts = source.last_pts
            await asyncio.to_thread(feed.close)  # joins the capture threads
            await asyncio.to_thread(heap.give_back)  # (its frame buffers: tens of MB)
            self.announce()

    def announce(self, only: PeerLink | None = None) -> None:
        """Tell peers our mic/camera/screen state (the session's own message says screen off)."""
        media = self.session.media
        state = p.MediaState(mic=media.heard, cam=media.camera_on, screen=self.active)
        for link in [only] if only else links_of(self.session).values():
            link.send(state)

    def _attach(self, peer_id: str, link: PeerLink) -> ScreenTrack:
        known = self._tracks.get(peer_id)
        if known is not None and known[0] is link:
            return known[1]
        if known is not None:  # the peer reconnected: its old connection is gone
            known[1].stop()
        track = ScreenTrack()
        bind_sender(link.screen.sender)  # it sends our pre-encoded packets
        link.screen.sender.replaceTrack(track)  # before the sender starts: see the module doc
        self._tracks[peer_id] = (link, track)
        return track

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.ConnectionChanged):
            link = links_of(self.session).get(event.peer_id)
            if link is None:
                return
            known = self._tracks.get(event.peer_id)
            if known is None or known[0] is not link:  # a new or replaced connection
                track = self._attach(event.peer_id, link)
                if self._encoder is not None:
                    track.set_source(self._encoder.new_track())
                    self.announce(link)
        elif isinstance(event, ev.PeerLeft):
            gone = self._tracks.pop(event.peer_id, None)
            if gone is not None:
                gone[1].stop()


def links_of(session: Session) -> dict[str, PeerLink]:
    """The session's peer links (read only). Reaches into Session until it offers this itself."""
    return session._links
