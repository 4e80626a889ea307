"""The one QObject between widgets and the Qt-free engine.

Widgets call the bridge's methods and listen to its signals; they never touch Session, PeerLink
or aiortc. Each call runs on an engine thread of its own (app.meeting.engine): the bridge hands
actions over to it and awaits them from the GUI's loop (qasync), and engine events come back to
the GUI loop before they become signals, so signals are always emitted on the GUI thread. What
widgets read while a call runs (the newest frames, levels, the roster) are plain attribute reads
(app.ui.call_reads).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from app.config import EngineConfig
from app.errors import MediaError, PeerMeetError, RendezvousUnreachable
from app.media import cues, heap
from app.media.screen import ScreenCapture
from app.media.video import FrameSource
from app.meeting import call_ops, reopening
from app.meeting import events as ev
from app.meeting.call_ops import PeerStats
from app.meeting.engine import EngineThread, call_soon_on
from app.meeting.links import Link, parse_link
from app.meeting.media import LocalMedia
from app.meeting.screenshare import ScreenShare
from app.meeting.session import Session
from app.net.peers import set_loopback_only
from app.ui.call_reads import CallReads
from app.ui.desktop_media import CallDevices

log = logging.getLogger(__name__)
T = TypeVar("T")
SHARE_FAILED = "Screen sharing failed. Try again; if it keeps failing, restart PeerMeet."


#: builds a call's media on the GUI thread; its video is delivered on the engine's loop (given)
MediaFactory = Callable[[asyncio.AbstractEventLoop], LocalMedia]
#: releases what the factory opened on the GUI thread, after the engine closed the media
MediaRelease = Callable[[LocalMedia], None]


class _CallEnded(Exception):
    """A leave ended the call while we waited for its engine."""


class Bridge(CallReads, QObject):
    progress = Signal(int, str)  # step 1..5, text
    joined = Signal()  # in the room; peers will follow
    failed = Signal(str, str)  # code, what a person reads (the dialog stays open)
    peerJoined = Signal(str, str)  # peer_id, name
    peerLeft = Signal(str, str, str)  # peer_id, name, reason
    peerConnected = Signal(str, str, str, str, float)  # id, name, path, safety code, connect ms
    peerState = Signal(str, str)  # peer_id, connection state
    peerMedia = Signal(str, bool, bool, bool)  # peer_id, mic, cam, screen
    trackAdded = Signal(str, str)  # peer_id, kind (audio | video | screen)
    firstFrame = Signal(str, str)  # peer_id, kind
    chatReceived = Signal(str, str, str)  # peer_id, name, text
    notice = Signal(str)
    roomInfo = Signal(float, int)  # expires_at (unix), capacity
    reconnecting = Signal(str, bool)  # rendezvous lost: what to say ("" once back), others still in
    ended = Signal(str)  # reason
    screenShared = Signal(bool)  # our screen share started (True) or stopped (False)

    def __init__(
        self,
        config: EngineConfig,
        media_factory: MediaFactory,
        media_release: MediaRelease | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        self._media_factory, self._media_release = media_factory, media_release
        self.session: Session | None = None
        self.link: Link | None = None
        self._engine: EngineThread | None = None  # the current call's, started by join()
        self._mic_on = self._camera_on = True  # what we asked the engine for, read at once
        self._cleanup: asyncio.Task[None] | None = None
        self._leaving: asyncio.Task[None] | None = None  # the leave under way, if any
        #: the current call's notices from its start (a call window opened later shows them)
        self.call_notices: deque[str] = deque(maxlen=20)
        #: the camera choice of the join under way (True otherwise), for the media factory
        self.joining_with_camera = True
        #: asked before the video starts; False keeps it off (the desktop app: no camera found)
        self.camera_ready: Callable[[LocalMedia], bool] = lambda media: True
        #: a meeting's title as its host typed it, by link ("" unknown: the link's room name)
        self.title_of: Callable[[str], str] = lambda link: ""
        #: the owner of a meeting we host on an outside rendezvous (it reopens a lost room)
        self.owner_of: Callable[[Link], reopening.Owner | None] = lambda link: None
        #: switches a call's devices (app.ui.desktop_media.DesktopMedia); None: nothing to pick
        self.devices: CallDevices | None = None
        self.sounds = True  # a sound when someone joins, leaves, knocks or writes (Settings)
        self.notice.connect(self.call_notices.append)
        self._screen: ScreenShare | None = None
        #: what share_screen() captures (tests and other platforms may swap it)
        self.screen_source: Callable[[], FrameSource] = ScreenCapture

    # --- actions -----------------------------------------------------------------------------
    async def join(
        self, link_text: str, name: str | None = None, *, mic: bool = True, camera: bool = True
    ) -> bool:
        """Join by link as ``name`` (default: the config's), with the microphone and camera on
        or off from the start (nothing is sent before). Emits progress, then joined or
        failed(code, text). Never raises."""
        try:  # (a link that cannot work leaves the call we are in alone)
            link = parse_link(link_text)
        except PeerMeetError as exc:  # LinkError; any other is a bug, but still said, not lost
            self.failed.emit(exc.code, str(exc))
            return False
        if self.session is not None:
            await self.leave()
        set_loopback_only(link.is_loopback)
        config = replace(  # keeps every setting (TURN, relay-only ...) and adds this call's
            self.config,
            display_name=(name or self.config.display_name).strip()[:64] or "Guest",
            loopback_only=link.is_loopback,
        )
        self.call_notices.clear()
        self.joining_with_camera = camera  # a media factory may read it: no camera light
        engine = EngineThread()
        engine.start()
        try:
            media = self._media_factory(engine.loop)
        except BaseException:
            engine.close()
            raise
        session = Session(config, media)  # a plain object until it joins (on the engine)
        session.owner = self.owner_of(link)  # (None: a guest)
        self._engine = engine
        # engine events are handled on the GUI loop (dropped once it is closed)
        on_event = partial(call_soon_on, asyncio.get_running_loop(), self._on_event, session)
        session.subscribe(on_event)
        self._screen = ScreenShare(session)  # before joining, so it sees every connection
        self._screen.subscribe(on_event)  # (a share that stopped by itself)
        self.session, self.link = session, link
        for on, switch in ((mic, session.set_mic), (camera, session.set_camera)):
            if not on:  # queued on the engine ahead of the join: no peer has a track yet
                engine.call(switch, False)
        self._mic_on, self._camera_on = media.mic_on and mic, media.camera_on and camera
        try:
            await self._run_on(engine, session.join(link))
        except PeerMeetError as exc:
            if self._engine is not engine:  # left meanwhile: that leave cleans up
                return False
            self.link = None
            await self._wind_up(self._start_leaving(joined=False))
            self.failed.emit(exc.code, str(exc))
            return False
        except _CallEnded:
            return False
        if self.session is not session:
            return False  # left while the last step finished
        self.joined.emit()
        return True

    async def leave(self) -> None:
        """Leave the call and release everything; idempotent. A leave already under way (the
        dialog's, the host's end, a shutdown) is waited for, and it finishes even if this
        caller is cancelled."""
        await self._wind_up(self._start_leaving(joined=True))

    def _start_leaving(self, joined: bool) -> asyncio.Task[None] | None:
        """Take the call from the bridge and start ending it (unless a leave already is): the
        task everyone who leaves waits for."""
        session, engine, screen = self.session, self._engine, self._screen
        if session is not None and engine is not None:
            sharing = self.sharing_screen
            self.session = self._engine = self._screen = None
            self._leaving = asyncio.get_running_loop().create_task(
                self._end(
                    engine, session=session if joined else None, media=session.media, screen=screen
                )
            )
            if sharing:
                self.screenShared.emit(False)
        return self._leaving

    async def _wind_up(self, leaving: asyncio.Task[None] | None) -> None:
        """Wait for ``leaving`` to finish; it goes on if this caller is cancelled."""
        if leaving is not None:
            try:
                await asyncio.shield(leaving)
            finally:
                if leaving.done() and self._leaving is leaving:
                    self._leaving = None

    async def _end(
        self,
        engine: EngineThread,
        *,
        session: Session | None,
        media: LocalMedia,
        screen: ScreenShare | None,
    ) -> None:
        """Stop sharing, leave and close the media on the engine, stop the engine (off the GUI
        thread: it may wait for a task that ignores its cancellation), release the GUI's part."""
        try:
            await engine.run(call_ops.end_call(screen, session, media))
        finally:
            await asyncio.to_thread(engine.close)
            if self._media_release is not None:
                self._media_release(media)
            await asyncio.to_thread(heap.give_back)  # what the call's threads freed

    async def _run_on(self, engine: EngineThread, coro: Coroutine[Any, Any, T]) -> T:
        """``engine.run(coro)``; raises _CallEnded if a leave ended the call meanwhile (the
        engine closed, or cancelled the work), not our own caller giving up."""
        try:
            return await engine.run(coro)
        except (RuntimeError, asyncio.CancelledError):
            task = asyncio.current_task()
            if self._engine is not engine and not (task is not None and task.cancelling()):
                raise _CallEnded from None
            raise

    def send_chat(self, text: str | list[str]) -> None:
        """A message, or one in parts (``text`` a list: shown as one where it arrives)."""
        if self.session is not None and self._engine is not None and text:  # as typed (a part
            self._engine.call(self.session.send_chat, text)  # of a long one begins with spaces)

    def set_mic(self, on: bool) -> None:
        if self.session is not None and self._engine is not None:
            self._mic_on = on
            self._engine.call(self.session.set_mic, on)
            self._announce_screen()

    def set_camera(self, on: bool) -> None:
        if self.session is not None and self._engine is not None:
            if on and not self.camera_ready(self.session.media):
                return  # no camera (said by whoever checked)
            self._camera_on = on
            self._engine.call(self.session.set_camera, on)
            self._announce_screen()

    async def share_screen(self, on: bool) -> bool:
        """Start or stop sending this screen to everyone (and to whoever joins while sharing).

        Emits screenShared(now sharing). If the screen cannot be captured, emits notice(what to
        do) and returns False. Never raises.
        """
        screen, engine = self._screen, self._engine
        if screen is None or engine is None:
            return False
        try:
            await self._run_on(engine, screen.start(self.screen_source) if on else screen.stop())
        except MediaError as exc:
            self.notice.emit(str(exc))
        except _CallEnded:
            return False
        except Exception:
            log.exception("screen sharing failed")
            self.notice.emit(SHARE_FAILED)
        if screen is self._screen:
            self.screenShared.emit(screen.active)
        return screen.active

    def cue(self, kind: str) -> None:
        """Play the ``kind`` sound (app.media.cues) on this call's speaker, if sounds are on."""
        if self.sounds and self.session is not None and self._engine is not None:
            self._engine.call(self.session.media.speaker.play, cues.frames(kind))

    def _announce_screen(self) -> None:
        if self._screen is not None and self._screen.active and self._engine is not None:
            self._engine.call(self._screen.announce)  # the session's own says "screen off"

    async def end_room(self, owner_token: str) -> None:
        """End the room for everyone over this call's connection (a full room lets no other in)."""
        session, engine = self.session, self._engine
        if session is None or engine is None:
            raise RendezvousUnreachable("The call has already ended.")
        try:
            await self._run_on(engine, session.end_room(owner_token))
        except _CallEnded:
            return  # (it ended meanwhile)

    async def peer_stats(self, peer_id: str) -> PeerStats | None:
        """Connection figures for one peer, or None if we have no connection to it."""
        session, engine = self.session, self._engine
        if session is None or engine is None:
            return None
        try:
            return await self._run_on(engine, call_ops.peer_stats(session, peer_id))
        except _CallEnded:
            return None

    # --- engine events -> signals --------------------------------------------------------------
    def _on_event(self, session: Session, e: ev.Event) -> None:
        if self.session is not None and session is not self.session:
            return  # late news from a call that another one has replaced
        if isinstance(e, ev.Progress):
            self.progress.emit(e.step, e.text)
        elif isinstance(e, ev.PeerJoined):
            self.peerJoined.emit(e.peer_id, e.name)
        elif isinstance(e, ev.PeerLeft):
            self.peerLeft.emit(e.peer_id, e.name, e.reason)
        elif isinstance(e, ev.PeerConnected):
            self.peerConnected.emit(e.peer_id, e.name, e.path, e.safety_code, e.connect_ms)
        elif isinstance(e, ev.ConnectionChanged):
            self.peerState.emit(e.peer_id, e.state)
        elif isinstance(e, ev.PeerMediaChanged):
            self.peerMedia.emit(e.peer_id, e.mic, e.cam, e.screen)
        elif isinstance(e, ev.TrackAdded):
            self.trackAdded.emit(e.peer_id, e.kind)
        elif isinstance(e, ev.FirstFrame):
            self.firstFrame.emit(e.peer_id, e.kind)
        elif isinstance(e, ev.ChatReceived):
            self.chatReceived.emit(e.peer_id, e.name, e.text)
        elif isinstance(e, ev.RoomInfo):
            self.roomInfo.emit(e.expires_at, e.capacity)
        elif isinstance(e, ev.RendezvousLost):
            self.reconnecting.emit(e.detail, e.with_others)
        elif isinstance(e, ev.Rejoined):
            self.reconnecting.emit("", False)
        elif isinstance(e, ev.Notice):
            self.notice.emit(e.text)
        elif isinstance(e, ev.ScreenShareStopped) and session is self.session:
            self.notice.emit(e.reason)
            self.screenShared.emit(self.sharing_screen)
        elif isinstance(e, ev.SessionEnded):
            if e.reason != "left" and session is self.session:  # by the host or expiry
                # release the media too (a call left meanwhile, or replaced, is not touched)
                self._cleanup = asyncio.get_running_loop().create_task(self.leave())
            self.ended.emit(e.reason)
