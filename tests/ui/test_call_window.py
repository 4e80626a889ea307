"""The call window in a real call: a headless host in another process, this window, and a second
in-process participant ("the other side"), all over loopback. Runs under Xvfb. The helpers here
(a headless host, bridges, tiles by name) are shared by the other call window tests.

Set PEERMEET_SCREENSHOTS=DIR to also save the window as DIR/call.png once all three are in.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from app.config import EngineConfig
from app.meeting import regain, rejoin, roster
from app.meeting.headless import MediaOptions, build_media
from app.meeting.media import LocalMedia
from app.meeting.recovery import Recovery
from app.ui.bridge import Bridge
from app.ui.call_notes import MUTED_HINT
from app.ui.call_window import CallWindow
from app.ui.video_tile import VideoTile
from tests.ui.conftest import run, until

MEDIA = ["--synthetic", "--res", "320x240", "--fps", "15"]


def make_bridge(name: str) -> Bridge:
    def media(loop: asyncio.AbstractEventLoop) -> LocalMedia:
        return build_media(MediaOptions(True, 320, 240, 15, label=name), loop=loop)

    return Bridge(EngineConfig(display_name=name), media)


def start_host(stats: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    host = subprocess.Popen(
        [sys.executable, "-m", "app", "host", "--headless", "--name", "ui-test",
         "--bind", "127.0.0.1", *MEDIA, "--display-name", "Hana", "--chat", "hello from host",
         "--stats-json", str(stats), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert host.stdout is not None
    link = host.stdout.readline().strip()
    assert link.startswith("peermeet://"), host.stderr.read() if host.stderr else ""
    return host, link


def in_call_with_host(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    scenario: Callable[[Bridge, str], Coroutine[Any, Any, None]],
    *host_args: str,
) -> None:
    """Run ``scenario(bridge, link)`` against a headless host; leave and stop the host after."""
    me = make_bridge("Me")
    _hosted(qloop, tmp_path, [me], lambda link: scenario(me, link), host_args, 30)


def two_with_host(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    scenario: Callable[[Bridge, Bridge, str], Coroutine[Any, Any, None]],
    timeout: float = 40,
) -> None:
    """Run ``scenario(me, olga, link)`` with two bridges against a headless host; both leave
    and the host stops after."""
    me, other = make_bridge("Me"), make_bridge("Olga")
    _hosted(qloop, tmp_path, [me, other], lambda link: scenario(me, other, link), (), timeout)


def _hosted(
    qloop: qasync.QEventLoop,
    tmp_path: Path,
    bridges: list[Bridge],
    body: Callable[[str], Coroutine[Any, Any, None]],
    host_args: tuple[str, ...],
    timeout: float,
) -> None:
    host, link = start_host(tmp_path / "host.json", *host_args)
    try:
        run(qloop, body(link), timeout)
    finally:
        for bridge in bridges:
            run(qloop, bridge.leave(), 10)
        host.terminate()
        host.communicate(timeout=15)


def host_saw(tmp_path: Path, name: str) -> dict[str, Any]:
    """What the headless host's statistics say of the peer called ``name``."""
    rows = json.loads((tmp_path / "host.json").read_text())["peers"].values()
    (row,) = [row for row in rows if row["name"] == name]
    return dict(row)


def tile_named(window: CallWindow, name: str, kind: str = "video") -> VideoTile | None:
    for (_, k), tile in window.grid.tiles.items():
        if tile.name == name and k == kind:
            return tile
    return None


def engine_threads() -> int:
    return sum(t.name == "peermeet-engine" for t in threading.enumerate())


def snapshot(tile: VideoTile) -> QImage:
    return tile.grab().toImage()


def test_call_window_in_a_real_call(qloop: qasync.QEventLoop, tmp_path: Path) -> None:
    host, link = start_host(tmp_path / "host.json")
    me, other = make_bridge("Me"), make_bridge("Olga")
    window: CallWindow | None = None
    shots = (
        Path(os.environ["PEERMEET_SCREENSHOTS"]) if "PEERMEET_SCREENSHOTS" in os.environ else None
    )
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)

    async def scenario() -> None:
        nonlocal window
        before = asyncio.all_tasks()
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.resize(1280, 760)
        window.show()

        # the host's video shows up and keeps changing
        await until(lambda: tile_named(window, "Hana") is not None, what="host tile")
        hana = tile_named(window, "Hana")
        assert hana is not None
        await until(lambda: hana.frames_shown > 3 and hana.state == "", what="host video")
        await until(window.peer_views.waiting.isHidden, what="no 'waiting for others' card")
        first = snapshot(hana)
        await asyncio.sleep(0.4)
        assert snapshot(hana) != first, "the host's video did not move"

        # chat both ways; Enter sends
        await until(lambda: ("Hana", "hello from host", False) in window.chat.messages)
        window.chat.entry.setPlainText("hi from the window")
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        assert ("Me", "hi from the window", True) in window.chat.messages
        assert window.chat.entry.text() == ""

        # a third person; mute shows on each other's side
        assert await other.join(link, "Olga")
        await until(lambda: (t := tile_named(window, "Olga")) is not None and t.frames_shown > 0)
        olga = tile_named(window, "Olga")
        assert olga is not None and olga.mic_on
        assert me.session is not None and other.session is not None
        my_id, olga_id = me.session.my_id, other.session.my_id
        # each call runs on an engine thread of its own; the GUI loop carries none of it
        assert engine_threads() == 2
        assert not {t for t in asyncio.all_tasks() - before if not t.done()} - {
            asyncio.current_task()
        }
        seen: list[tuple[str, bool]] = []
        other.peerMedia.connect(lambda pid, mic, cam, screen: seen.append((pid, mic)))
        QTest.mouseClick(window.toolbar.mic_button, Qt.MouseButton.LeftButton)
        assert window.toolbar.mic_button.text() == "Unmute"
        await until(lambda: (my_id, False) in seen, what="mute reaches Olga")
        # our synthetic microphone keeps "talking", but so do Hana and Olga on our speaker: what
        # the microphone hears may be them (echo), so no you-are-muted reminder
        await asyncio.sleep(2.0)
        assert not (window.banner.isVisible() and window.banner.text.text() == MUTED_HINT)
        other.set_mic(False)
        await until(lambda: not olga.mic_on, what="Olga's mute badge")
        (card,) = [c for c in window.people.cards.values() if c.name.full == "Olga"]
        assert card.media.text() == "Muted"  # the People panel says it too

        # the people panel: safety code (equal on both ends), path, address on request
        QTest.mouseClick(window.toolbar.people_button, Qt.MouseButton.LeftButton)
        card = window.people.cards[olga_id]
        code = other.peers()[my_id].safety_code
        assert re.fullmatch(r"\d{4} \d{4}", code)
        await until(lambda: card.code.text() == code, what="safety code")
        assert card.values["Path"].text().startswith("Local network")
        assert not card.values["Address"].isVisible()
        window.people.addresses.setChecked(True)
        await until(lambda: card.values["Address"].text().startswith("127.0.0.1:"), what="address")

        if shots is not None:
            await asyncio.sleep(1.0)
            assert window.grab().save(str(shots / "call-people.png"))
            QTest.mouseClick(window.toolbar.chat_button, Qt.MouseButton.LeftButton)
            await asyncio.sleep(1.0)
            assert window.grab().save(str(shots / "call.png"))

        # near the room's end, a warning (once), and again after an extension comes near it
        assert me.session is not None
        ends = me.session.expires_at
        me.session.expires_at = time.time() + 200
        window._tick_clock()
        assert "ends in 3 minutes" in window.banner.text.text() and window.banner.isVisible()
        window.banner.hide()
        window._tick_clock()
        assert not window.banner.isVisible()  # said once
        me.session.expires_at = time.time() + 50
        window._tick_clock()
        assert "ends in 1 minute." in window.banner.text.text()
        me.session.expires_at = ends

        # the host goes away: its tile goes, and a banner says we try to get back in
        host.terminate()
        await until(lambda: tile_named(window, "Hana") is None, what="host tile removed")
        await until(
            lambda: window.banner.isVisible() and "getting back in" in window.banner.text.text(),
            what="notice banner",
        )

        # Leave closes the window and leaves nothing running
        # the last other person leaves: a message now reaches nobody, and the chat says so
        await other.leave()
        await until(lambda: not me.peers(), what="alone")
        window.chat.entry.setPlainText("anyone?")
        QTest.keyClick(window.chat.entry, Qt.Key.Key_Return)
        assert "no one got this message" in window.chat.view.toPlainText()

        QTest.mouseClick(window.toolbar.leave_button, Qt.MouseButton.LeftButton)
        await until(lambda: not window.isVisible() and not me.in_call, what="window closed")
        await asyncio.sleep(0.2)
        leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
        leftover.discard(asyncio.current_task())
        assert not leftover, leftover
        assert engine_threads() == 0

    try:
        run(qloop, scenario(), 45)
    finally:
        run(qloop, me.leave(), 10)
        run(qloop, other.leave(), 10)
        host.terminate()
        host.communicate(timeout=15)
    assert window is not None and window._leaving is not None and window._leaving.done()
    chats = json.loads((tmp_path / "host.json").read_text())["chat_received"]
    assert {"name": "Me", "text": "hi from the window"}.items() <= chats[0].items()


def test_a_busy_gui_thread_does_not_hold_up_the_call(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """The call runs on its own thread: while the GUI thread is busy (a heavy layout, a dialog
    opening), video and audio keep arriving and being played out."""

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        await until(lambda: bool(me.peers()), what="host in the roster")
        (host_id,) = me.peers()
        media = me.session.media if me.session else None
        assert media is not None
        await until(lambda: media.video_frames(host_id) > 5 and media.audio_frames(host_id) > 10)
        video, audio = media.video_frames(host_id), media.audio_frames(host_id)
        busy_until = time.monotonic() + 0.6
        while time.monotonic() < busy_until:  # Python work on the GUI thread, holding the GIL
            sum(range(1000))
        assert media.video_frames(host_id) - video >= 4, "video stopped while the GUI was busy"
        assert media.audio_frames(host_id) - audio >= 12, "audio stopped while the GUI was busy"

    in_call_with_host(qloop, tmp_path, scenario)


def test_losing_the_meeting_says_so_in_the_call_window(
    qloop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's computer is gone: first "lost touch… you still see and hear" (a notice that
    goes: the call goes on), then, once nobody is connected, the alone text (it stays)."""
    # a stall is seen after 1.5 s (default 3), a silent link dropped after 2 s (default 10)
    monkeypatch.setattr(roster, "Recovery", functools.partial(Recovery, stall_s=1.5))
    monkeypatch.setattr(regain, "LOST_S", 2.0)
    host, link = start_host(tmp_path / "host.json")
    me = make_bridge("Me")

    async def scenario() -> None:
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        await until(lambda: (t := tile_named(window, "Hana")) is not None and t.frames_shown > 0)
        host.kill()
        banner = window.banner
        await until(lambda: banner.text.text() == rejoin.LOST_WITH_OTHERS, 10, "lost, others")
        assert banner.isVisible() and banner._timer.isActive()  # it goes after a while
        await until(lambda: banner.text.text() == rejoin.LOST_ALONE, 15, "lost, alone")
        assert banner.isVisible() and not banner._timer.isActive()  # it stays
        await window.leave()

    try:
        run(qloop, scenario(), 40)
    finally:
        run(qloop, me.leave(), 10)
        host.kill()
        host.communicate(timeout=15)
