"""The call window at the largest text size (Settings' 150 %): the toolbar and the side panels
show every word whole, at the window's least width and at its usual one; a text size changed
during the call is followed at once (least size, name plates, toolbar), and the size the window
grew to for it is given back when the text gets smaller."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import qasync
from PySide6.QtCore import QSize, QSizeF
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.config import EngineConfig
from app.meeting.call_ops import PeerStats
from app.ui import style, theme
from app.ui.bridge import Bridge
from app.ui.call_size import LEAST, side_width
from app.ui.call_window import CallWindow
from app.ui.geometry import FRAME_PX
from app.ui.video_tile import VideoTile
from tests.ui.conftest import run
from tests.ui.test_narrow_screens import on_screen


@pytest.fixture
def large_text(qapp: QApplication) -> Iterator[None]:
    theme.set_text_size(qapp, 150)
    try:
        yield
    finally:
        theme.set_text_size(qapp, 100)


def _cut(widget: QWidget, within: QWidget) -> bool:
    """``widget`` (a label or button) shown narrower than its words, or past ``within``'s
    right edge."""
    right = widget.mapTo(within, widget.rect().topRight()).x()
    if isinstance(widget, QLabel) and widget.wordWrap():  # (its lines all shown)
        return widget.heightForWidth(widget.width()) > widget.height() or right > within.width()
    return widget.width() < widget.sizeHint().width() or right > within.width()


def _window() -> tuple[CallWindow, Bridge]:
    bridge = Bridge(EngineConfig("Me"), lambda loop: None)  # (a call window before joining)
    window = CallWindow(bridge)
    return window, bridge


@pytest.mark.parametrize("wide", [False, True])
def test_the_call_window_is_whole_at_the_largest_text(
    qloop: qasync.QEventLoop, large_text: None, wide: bool
) -> None:
    """At 150 % the toolbar's buttons were cut at the window's least width ("Stop can",
    "Shar", "Peopl") and the people panel, as wide as at 100 %, cut "Copy invite link",
    "Connected" and the connection's path at its right edge."""
    window, bridge = _window()

    async def scenario() -> None:
        window.show()
        window.resize(1280 if wide else window.minimumWidth(), 760)
        await asyncio.sleep(0.2)
        bar = window.toolbar
        bar.show_media(mic=False, cam=False)
        bar.show_sharing(True)
        bar.show_unread(12)
        await asyncio.sleep(0.1)
        shown = [bar.info, *bar._tools(), bar.leave_button]
        cut = [w.text() for w in shown if w.isVisible() and _cut(w, window)]
        assert not cut, (window.width(), cut)

        people = window.people
        people.add_peer("p1", "Olga")
        people.set_state("p1", "connected")
        people.set_connected("p1", "srflx", "1234 5678")  # "Internet (direct, through NAT)"
        card = people.cards["p1"]
        now = time.monotonic()
        for at, bytes_ in ((now - 1.5, 0), (now, 300_000)):
            card.update_stats(PeerStats("srflx", "", 123.0, 7, bytes_, bytes_, 29.5, 99, at))
        window.toolbar.people_button.click()
        await asyncio.sleep(0.3)
        assert people.isVisible()
        labels = [people.invite, card.state, *card.values.values(), card.code]
        cut = [w.text() for w in labels if w.isVisible() and _cut(w, people)]
        assert not cut, (people.width(), cut)
        window.close()
        await asyncio.sleep(0.3)

    try:
        run(qloop, scenario(), 20)
    finally:
        run(qloop, bridge.leave(), 10)


def _plate(tile: VideoTile) -> QSizeF:
    tile.grab()  # (painted now: its plate drawn for the text size now)
    return tile._plate.deviceIndependentSize()


@pytest.mark.parametrize("width", [0, 1100])  # the least width; wider than the least at 150 %
def test_a_text_size_chosen_during_the_call_is_followed_at_once(
    qloop: qasync.QEventLoop, qapp: QApplication, width: int
) -> None:
    """Settings' text size, changed during the call (as the main window applies it: theme.
    set_text_size), left the call window's least size and the tiles' name plates at the size
    the window opened with until it was opened again; the toolbar, full at 1100 px at 100 %,
    kept labels that no longer fit."""
    free = QGuiApplication.primaryScreen().availableGeometry().size() - QSize(0, FRAME_PX)
    if free.width() < 1100 or free.height() < 720:
        pytest.skip("the screen is too small for the least size at 150 %")
    window, bridge = _window()

    async def scenario() -> None:
        window.show()
        window.resize(width or window.minimumWidth(), 600)
        olga = window.grid.add(("p1", "video"), "Olga Petrovna", lambda: None)
        olga.set_media(False, False)
        window.toolbar.people_button.click()
        await asyncio.sleep(0.3)
        me = window.grid.me
        assert me is not None
        least = style.by_text_size(*LEAST)  # (the design's size, unless the system's is more)
        assert window.minimumSize() == least
        assert window.toolbar.compact == (not width)  # (the full labels at 1100 px)
        small = {tile: _plate(tile) for tile in (olga, me)}

        theme.set_text_size(qapp, 150)
        await asyncio.sleep(0.3)
        grown = style.by_text_size(*LEAST)  # (1080 x 720 over a system font of the design's)
        assert grown.width() > least.width() and grown.height() > least.height()
        assert window.minimumSize() == grown
        assert window.width() >= grown.width() and window.height() >= grown.height()
        for tile, before in small.items():
            after = _plate(tile)
            assert after.height() >= before.height() * 1.25, (tile.name, before, after)
            assert after.width() >= before.width() * 1.25, (tile.name, before, after)
        assert window.people.width() == side_width(window.width())
        bar = window.toolbar
        shown = [bar.info, *bar._tools(), bar.leave_button]
        cut = [w.text() for w in shown if w.isVisible() and _cut(w, window)]
        assert not cut, (window.width(), cut)

        theme.set_text_size(qapp, 100)
        await asyncio.sleep(0.3)
        assert window.minimumSize() == least
        assert window.size() == QSize(width or least.width(), 600)  # (grown for the text only)
        assert {tile: _plate(tile) for tile in small} == small
        assert window.people.width() == side_width(window.width())
        window.close()
        await asyncio.sleep(0.3)

    try:
        run(qloop, scenario(), 20)
    finally:
        theme.set_text_size(qapp, 100)
        run(qloop, bridge.leave(), 10)


def test_a_window_grown_for_larger_text_shrinks_back_but_keeps_a_size_the_person_chose(
    qloop: qasync.QEventLoop, qapp: QApplication
) -> None:
    """Grown to its least size for a larger text size, the call window kept that size when
    the text got smaller again (1080 x 720 for a window of 800 x 560). It gives back what it
    grew for the text (over steps: 130 %, then 150 %), never less than the size the person
    gave it themselves, before or since."""
    free = QGuiApplication.primaryScreen().availableGeometry().size() - QSize(0, FRAME_PX)
    if free.width() < 1200 or free.height() < 760:
        pytest.skip("the screen is too small for the least size at 150 %")
    window, bridge = _window()

    async def scenario() -> None:
        window.show()
        chosen = QSize(800, 560)
        window.resize(chosen)
        await asyncio.sleep(0.2)
        assert window.size() == chosen
        for percent in (130, 150):
            theme.set_text_size(qapp, percent)
            await asyncio.sleep(0.2)
            assert window.size() == style.by_text_size(*LEAST).expandedTo(chosen), percent
        theme.set_text_size(qapp, 100)
        await asyncio.sleep(0.2)
        assert window.size() == chosen  # (it kept 1080 x 720)

        theme.set_text_size(qapp, 150)
        await asyncio.sleep(0.2)
        assert window.size() == style.by_text_size(*LEAST)
        window.resize(1200, 760)  # the person's own size, at 150 %
        await asyncio.sleep(0.2)
        theme.set_text_size(qapp, 130)
        await asyncio.sleep(0.2)
        theme.set_text_size(qapp, 100)
        await asyncio.sleep(0.2)
        assert window.size() == QSize(1200, 760)
        window.close()
        await asyncio.sleep(0.3)

    try:
        run(qloop, scenario(), 20)
    finally:
        theme.set_text_size(qapp, 100)
        run(qloop, bridge.leave(), 10)


SMALL_SCREEN = """
import asyncio, json
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from app.config import EngineConfig
from app.ui import theme
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.qt_loop import run_in_qt_loop

app = QApplication([])
theme.apply_theme(app, 100)

async def main():
    bridge = Bridge(EngineConfig("Me"), lambda loop: None)
    window = CallWindow(bridge)
    window.show()
    window.resize(800, 560)
    sizes = []
    for percent in (100, 150, 100):
        theme.set_text_size(app, percent)
        await asyncio.sleep(0.3)
        sizes.append(window.size().toTuple())
    await bridge.leave()
    free = QGuiApplication.primaryScreen().availableGeometry().size()
    return {"sizes": sizes, "free": free.toTuple()}

print(json.dumps(run_in_qt_loop(app, main())))
"""


def test_on_a_small_screen_the_window_grows_no_larger_than_the_screen_and_back() -> None:
    """A screen 1024 x 700 has no room for the least size at 150 % (1080 x 720): the window
    grows to what the screen has free, no more, and gives it back at 100 %."""
    got = on_screen(1024, 700, SMALL_SCREEN)
    width, height = got["free"]
    assert got["sizes"] == [[800, 560], [width, height - FRAME_PX], [800, 560]], got
