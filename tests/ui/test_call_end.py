"""The end of a call as a guest sees it: the meeting's time running out, the host ending it for
everyone while others are in it. Real meetings and calls over loopback, under Xvfb."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.store import MeetingStore
from app.ui.banner import Banner
from app.ui.bridge import Bridge
from app.ui.call_notes import CAMERA_OFF, MUTED_HINT
from app.ui.call_window import CallWindow
from app.ui.host_controls import ending
from tests.ui.conftest import run, until
from tests.ui.test_call_window import MEDIA, in_call_with_host, make_bridge, tile_named


@pytest.fixture
def hosting(tmp_path: Path, qloop: qasync.QEventLoop, qapp: QApplication) -> Iterator[HostService]:
    host = HostService(
        MeetingStore(tmp_path / "meetings.json"),
        bind="127.0.0.1",
        advertise="127.0.0.1",
        preferred_port=0,
    )
    yield host
    qloop.run_until_complete(host.close())


def test_after_the_host_ends_the_meeting_nobody_is_left_on_the_guests_screen(
    qloop: qasync.QEventLoop, hosting: HostService
) -> None:
    """The people panel and the head count are emptied with the grid: the session closes its
    links without a 'left' for each, so someone whose goodbye did not come first (here a frozen
    third person) stayed listed as Connected, and the bar said '3 people' under 'The host ended
    the meeting'. The bar says the call ended, and how long it lasted."""
    ada, olga = make_bridge("Ada"), make_bridge("Olga")
    third: subprocess.Popen[str] | None = None

    async def scenario() -> None:
        nonlocal third
        record = await hosting.start("Team sync", lifetime_s=3600)
        assert await ada.join(record.link, "Ada")
        hosts = CallWindow(ada, end_meeting=ending(hosting, ada))
        assert await olga.join(record.link, "Olga")
        window = CallWindow(olga)
        window.show()
        third = subprocess.Popen(  # noqa: ASYNC220 - starting it does not block
            [sys.executable, "-m", "app", "join", record.link, "--headless", *MEDIA,
             "--display-name", "Chidi"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        await until(lambda: (t := tile_named(window, "Chidi")) is not None and t.frames_shown, 20)
        await until(lambda: (t := tile_named(window, "Ada")) is not None and t.frames_shown, 10)
        assert window.people.title.text() == "People (3)"
        assert "3 people" in window.toolbar.info.text()
        os.kill(third.pid, signal.SIGSTOP)  # Chidi can say goodbye to nobody now
        hosts.end_for_everyone()
        await until(lambda: window._over, 10, "the end reached the guest")
        assert window.people.cards == {} and window.people.title.text() == "People (1)"
        assert not window.grid.tiles
        info = window.toolbar.info.text()
        assert "call ended" in info and "people" not in info, info
        await asyncio.sleep(1.1)
        window.peer_views.left("x", "Late", "ended")  # news after the end: the time stays
        assert window.toolbar.info.text() == info
        await window.leave()
        await hosting.close()  # (here: its timers wake only while the loop runs)

    try:
        run(qloop, scenario(), 60)
    finally:
        run(qloop, olga.leave(), 10)
        run(qloop, ada.leave(), 10)
        if third is not None:
            os.kill(third.pid, signal.SIGCONT)
            third.terminate()
            third.communicate(timeout=15)


def test_a_guest_whose_app_alone_saw_the_meeting_end_is_said_to_have_left(
    qloop: qasync.QEventLoop, hosting: HostService
) -> None:
    """Olga's app ends her call "expired" while the meeting goes on (it missed an extension
    while out of touch): Gus's window said nothing, as if she were still there until she was
    not. Now "Olga left (expired)"; and when the host then ends the meeting for everyone, the
    window says that once, not "Ada left (ended)" as well."""
    ada, olga, gus = make_bridge("Ada"), make_bridge("Olga"), make_bridge("Gus")

    async def scenario() -> None:
        record = await hosting.start("Team sync", lifetime_s=3600)
        for bridge, name in ((ada, "Ada"), (olga, "Olga"), (gus, "Gus")):
            assert await bridge.join(record.link, name)
        window = CallWindow(gus)
        window.peer_views.ending_wait_ms = 300
        window.show()
        for name in ("Olga", "Ada"):  # (connected: a goodbye can reach Gus)
            await until(lambda n=name: (t := tile_named(window, n)) and t.frames_shown, 20, name)
        said = window.chat.lines
        session, engine = olga.session, olga._engine
        assert session is not None and engine is not None
        await engine.run(session.leave("expired"))
        await until(lambda: tile_named(window, "Olga") is None, 10, "Olga gone")
        await until(lambda: "Olga left (expired)" in [line.text for line in said], 5, str(said))
        await hosting.end(record.link)
        await until(lambda: window._over, 10, "the end reached Gus")
        await asyncio.sleep(0.6)  # (longer than a leave "ended" waits to be said)
        lines = [line.text for line in said]
        assert lines.count("Olga left (expired)") == 1, lines
        assert not [text for text in lines if text.startswith("Ada left")], lines
        assert window.banner.text.text().startswith("The host ended the meeting")
        await window.leave()
        await hosting.close()

    try:
        run(qloop, scenario(), 60)
    finally:
        for bridge in (gus, olga, ada):
            run(qloop, bridge.leave(), 10)


def test_the_meetings_end_coming_and_a_notice_are_both_shown(
    qloop: qasync.QEventLoop, tmp_path: Path
) -> None:
    """Joining a meeting with a minute left, without a microphone: 'No microphone found' and
    'This meeting ends in 1 minute' are both on the banner (the warning took the notice's
    place at once; a notice later took the warning's, and the end came unannounced)."""
    no_mic = "No microphone found: the others hear silence."
    no_speaker = "No speaker found: you will not hear the others."

    async def scenario(me: Bridge, link: str) -> None:
        assert await me.join(link, "Me")
        me.notice.emit(no_mic)  # (the app's media says it while the call starts)
        window = CallWindow(me)
        window.show()
        try:
            banner = window.banner
            assert banner.isVisible()
            lines = banner.text.text().split("\n")
            assert lines[0].startswith("This meeting ends in 1 minute.") and lines[1:] == [no_mic]
            me.notice.emit(no_speaker)  # (news while the warning shows: added under it)
            me.notice.emit(no_speaker)  # (said twice: shown once)
            lines = banner.text.text().split("\n")
            assert lines[0].startswith("This meeting ends in 1 minute.")
            assert lines[1:] == [no_mic, no_speaker]
            assert banner._timer.isActive()  # (it still goes after a while)
            banner.hide()
            me.notice.emit(no_mic)  # once it is gone, a notice is shown on its own
            assert banner.text.text() == no_mic
        finally:
            await window.leave()

    in_call_with_host(qloop, tmp_path, scenario, "--lifetime", "1m")


def test_a_notice_the_keyboard_is_on_stays_until_the_focus_moves(qtbot: QtBot) -> None:
    """A keyboard user who tabbed to a notice's ✕ (to read it, or to dismiss it) does not have
    it vanish under them when its time is up."""
    window = QWidget()
    qtbot.addWidget(window)
    elsewhere = QLineEdit(window)
    QVBoxLayout(window).addWidget(elsewhere)
    window.resize(600, 300)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    banner = Banner(window)
    banner.show_message("No microphone found: the others hear silence.", seconds=0.2)
    close = banner.findChild(QPushButton)
    close.setFocus()
    qtbot.waitUntil(close.hasFocus, timeout=2000)
    qtbot.wait(600)
    assert banner.isVisible()  # its time is up, but the keyboard is on it
    elsewhere.setFocus()
    qtbot.waitUntil(banner.isHidden, timeout=3000)


def test_news_never_takes_the_place_of_more_important_news(qtbot: QtBot) -> None:
    """Less important news goes under what is shown, more important above it, as important
    takes its place, an ending takes the place of all; ``over`` drops what the news ends."""
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(700, 400)
    window.show()
    banner = Banner(window)
    lost, taken = "Lost touch; getting back in…", "Someone else opened the meeting again."
    banner.show_message(lost, seconds=0)
    banner.show_message(taken, seconds=10)  # (as important: in its place)
    banner.show_message("Back in touch.", "status", 6, over=[lost])
    assert banner.text.text().split("\n") == [taken, "Back in touch."]
    assert banner.property("level") == "notice" and banner._timer.remainingTime() > 9000
    banner.show_message("Ends in 1 minute.", "warning", 20)
    assert banner.text.text().split("\n") == ["Ends in 1 minute.", taken, "Back in touch."]
    assert banner.property("level") == "warning"
    banner.show_message("The host ended the meeting.", "ended", 0)
    assert banner.text.text() == "The host ended the meeting."
    banner.hide()
    banner.show_message(lost, seconds=0)
    banner.show_message("Back in touch.", "status", 6, over=[lost])  # (what it ends goes)
    assert banner.text.text() == "Back in touch." and banner.property("level") == "status"


def test_news_that_is_over_goes_and_the_rest_stays(qtbot: QtBot) -> None:
    """Starting the video again hid the whole banner when it said "Your video is off" (and
    unmuting, when it said "You are muted"), a warning shown with it too; now only its line
    goes."""
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(700, 400)
    window.show()
    banner = Banner(window)
    camera = f"The camera was unplugged. {CAMERA_OFF}"
    banner.show_message(camera, seconds=0)
    banner.show_message("Ends in 1 minute.", "warning", 20)
    banner.drop(MUTED_HINT)  # (not said: nothing changes)
    assert banner.text.text().split("\n") == ["Ends in 1 minute.", camera]
    banner.drop(CAMERA_OFF)
    assert banner.isVisible() and banner.text.text() == "Ends in 1 minute."
    banner.drop("Ends in 1 minute.")
    assert banner.isHidden()
