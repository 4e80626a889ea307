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

from PySide6.QtCore import QByteArray, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication

from app.meeting.hosting import HostService
from app.meeting.lan_hosting import LanHosting
from app.meeting.settings import SettingsStore
from app.meeting.store import MeetingStore
from app.net.pins import PinStore
from app.ui.bridge import Bridge
from app.ui.desk_sound import DeskSound
from app.ui.desktop_media import DesktopMedia
from app.ui.knock_dialogs import ask_host
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from app.ui.missed_knocks import knock_missed
from app.ui.qt_loop import LoopStopped, run_in_qt_loop
from app.ui.theme import apply_theme

log = logging.getLogger(__name__)


def instance_name() -> str:
    return f"peermeet-{getpass.getuser()}"


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


async def _main(app: QApplication, args: argparse.Namespace, settings: SettingsStore) -> int:
    media = DesktopMedia(settings, notice=lambda text: bridge.notice.emit(text))
    host = HostService(MeetingStore())
    bridge = Bridge(
        settings.load().engine_config(),
        lambda loop: media.build(loop, camera=bridge.joining_with_camera),
        media.release,
    )
    bridge.camera_ready = media.camera_ready
    bridge.sounds = settings.load().sounds
    bridge.devices = media
    desk = DeskSound(bridge, lambda: settings.load().speaker)  # (a knock while in no call)
    lan = LanHosting(
        host,
        lambda request: ask_host(window.knock_parent(), request, desk.play),
        lambda: settings.load().display_name,
        on_error=lambda text: window.meetings.show_error(text),
        on_missed=lambda request: knock_missed(window.meetings.missed, window.call_window, request),
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
    window.say_settings_problem()
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
        desk.close()
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
    settings = SettingsStore()  # (its one store: what it found wrong is said once, in _main)
    apply_theme(app, settings.load().text_size)
    try:
        return int(run_in_qt_loop(app, _main(app, args, settings)))
    except LoopStopped:  # (Qt has already said why, e.g. "The X11 connection broke")
        print("peermeet: the window system went away, so PeerMeet stopped.", file=sys.stderr)
        return 1
