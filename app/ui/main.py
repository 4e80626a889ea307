"""The desktop app's entry point: ``run_app(args)`` builds everything and owns the event loop.

One PeerMeet per user: a second start (``peermeet LINK`` or a clicked peermeet:// link) hands its
link to the running app over a local socket and exits, so the hosted rooms' ports, the meetings
file and the camera have a single owner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import signal
import sys
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from app.errors import MediaError
from app.media.audio import NullSink, PcmRing
from app.media.audio_tracks import AudioFeed
from app.media.mixer import SpeakerMixer
from app.media.video import VideoFeed
from app.meeting.hosting import HostService
from app.meeting.lan_hosting import LanHosting
from app.meeting.media import LocalMedia
from app.meeting.settings import SettingsStore
from app.meeting.store import MeetingStore
from app.net.pins import PinStore
from app.ui.audio_io import QtAudioIO
from app.ui.audio_thread import AudioThread
from app.ui.bridge import Bridge
from app.ui.knock_dialogs import ask_host
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from app.ui.preview import VIDEO, NoCamera, camera_source
from app.ui.qt_loop import run_in_qt_loop
from app.ui.theme import apply_theme

log = logging.getLogger(__name__)
NO_CAMERA = "No camera found: the others see your initials. Connect one, then press Start video."


def instance_name() -> str:
    return f"peermeet-{getpass.getuser()}"


class DesktopMedia:
    """Camera, microphone and speaker for each call, chosen in Settings when the call starts."""

    def __init__(
        self, settings: SettingsStore, notice: Callable[[str], None] | None = None
    ) -> None:
        self._settings = settings
        self._notice = notice  # what a person should know about the devices (a banner)
        self._audio: dict[int, tuple[AudioThread, QtAudioIO]] = {}

    def build(self, loop: asyncio.AbstractEventLoop, camera: bool = True) -> LocalMedia:
        """On the GUI thread; the video is delivered on ``loop``, and the microphone and
        speaker run on an audio thread of their own (app.ui.audio_thread). ``camera=False``:
        the camera is not opened until the person starts their video."""
        settings = self._settings.load()
        source = camera_source(settings, *VIDEO)
        missing = isinstance(source, NoCamera)  # no camera: video off, not a test pattern
        if missing and camera and self._notice is not None:
            self._notice(NO_CAMERA)
        video = VideoFeed(
            source, VIDEO[2], label=settings.display_name, loop=loop, enabled=camera and not missing
        )
        audio = AudioThread(self._notice)  # device news: no microphone, unplugged, switched
        try:
            audio_io: QtAudioIO | None = audio.open(
                settings.microphone or None, settings.speaker or None
            )
        except MediaError as exc:
            log.warning("no sound in this call: %s", exc)
            audio.close()
            audio_io = None
            if self._notice is not None:
                self._notice(f"No sound in this call: {exc}")
        mic = audio_io.mic if audio_io is not None else PcmRing()
        speaker = audio_io if audio_io is not None else NullSink()
        feed = AudioFeed(mic)
        feed.present = partial(audio_io.has_device, "in") if audio_io else lambda: False
        media = LocalMedia(feed, video, SpeakerMixer(speaker))
        if audio_io is not None:
            self._audio[id(media)] = (audio, audio_io)
        return media

    def camera_ready(self, media: LocalMedia) -> bool:
        """Before the video starts: a call that has no camera looks again (one may have been
        plugged in since) and switches to it; False, and said, if there is still none."""
        if not isinstance(media.video.source, NoCamera):
            return True
        source = camera_source(self._settings.load(), *VIDEO)
        if isinstance(source, NoCamera):
            if self._notice is not None:
                self._notice(NO_CAMERA)
            return False
        media.video.set_source(source)
        return True

    def release(self, media: LocalMedia) -> None:
        """After the engine closed ``media``: close its microphone and speaker, and their
        thread."""
        audio = self._audio.pop(id(media), None)
        if audio is not None:
            thread, audio_io = audio
            thread.release(audio_io)
            thread.close()


def hand_over(link: str | None, name: str | None = None, muted: bool = False) -> bool:
    """Pass ``link`` to a PeerMeet already running for this user; False if there is none.
    One line: the link, then a tab and "muted" to join with the microphone off."""
    sock = QLocalSocket()
    sock.connectToServer(name or instance_name())
    if not sock.waitForConnected(500):
        return False
    line = (link or "") + ("\tmuted" if link and muted else "")
    sock.write(QByteArray(line.encode() + b"\n"))
    sock.waitForBytesWritten(1000)
    sock.disconnectFromServer()
    return True


def listen_for_links(window: MainWindow, name: str | None = None) -> QLocalServer:
    """Links from later starts open the join dialog here (an empty line just shows the window)."""
    server = QLocalServer(window)
    server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
    QLocalServer.removeServer(name or instance_name())  # a stale socket from a crash
    if not server.listen(name or instance_name()):
        log.warning("cannot accept links from other starts: %s", server.errorString())

    def accept() -> None:
        while (conn := server.nextPendingConnection()) is not None:
            conn.readyRead.connect(lambda c=conn: received(c))
            conn.disconnected.connect(conn.deleteLater)

    def received(conn: QLocalSocket) -> None:
        if not conn.canReadLine():
            return
        line = bytes(conn.readLine().data()).decode(errors="replace").strip()
        link, _, flag = line.partition("\t")
        link = link.strip()
        window.showNormal()
        window.raise_()
        window.activateWindow()
        if link:
            window.open_join(link, muted=flag.strip() == "muted")

    server.newConnection.connect(accept)
    return server


async def _main(app: QApplication, args: argparse.Namespace) -> int:
    settings = SettingsStore()
    media = DesktopMedia(settings, notice=lambda text: bridge.notice.emit(text))
    host = HostService(MeetingStore())
    bridge = Bridge(
        settings.load().engine_config(),
        lambda loop: media.build(loop, camera=bridge.joining_with_camera),
        media.release,
    )
    bridge.camera_ready = media.camera_ready
    lan = LanHosting(
        host,
        lambda request: ask_host(window.knock_parent(), request),
        lambda: settings.load().display_name,
        on_error=lambda text: window.meetings.show_error(text),
    )  # pin store and host key in the user data dir (app.net.pins, app.net.knock)
    card = LanCard(PinStore(), lambda: settings.load().display_name, hide=lan.is_own)
    window = MainWindow(host, bridge, settings, lan=card)
    links = listen_for_links(window)
    closed = asyncio.Event()
    # asked from Qt's own loop (a window may close inside a task: no nested dialog loop there)
    app.lastWindowClosed.connect(
        lambda: QTimer.singleShot(0, lambda: closed.set() if window.may_quit() else None)
    )
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, closed.set)
    window.show()
    try:
        lan.start()  # announces what resume() reopens, and every meeting started from now on
        card.start()
        await host.resume()
        if getattr(args, "link", None):
            # pre-filled: the person sees where they go, then joins (muted if asked: --muted)
            window.open_join(args.link, muted=getattr(args, "muted", False))
        elif getattr(args, "command", None) == "host":
            window.open_start().name.setText(args.name)
        await closed.wait()
    finally:
        links.close()
        await card.shutdown()
        await bridge.leave()
        await lan.close()  # withdraws the rooms from the LAN before their servers stop
        await host.close()
    return 0


def run_app(args: argparse.Namespace) -> int:
    """The desktop app. Returns the process exit status."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "peermeet"])
    assert isinstance(app, QApplication)
    app.setApplicationName("PeerMeet")
    app.setDesktopFileName("peermeet")
    if hand_over(getattr(args, "link", None), muted=getattr(args, "muted", False)):
        print("PeerMeet is already open: the link was passed to it.", file=sys.stderr)
        return 0
    app.setQuitOnLastWindowClosed(False)  # _main decides when to stop, after cleaning up
    apply_theme(app)
    return int(run_in_qt_loop(app, _main(app, args)))
