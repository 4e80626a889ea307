"""Windows on a narrow screen or in a narrow window (a small laptop, a tablet), at the normal
and the largest text size: nothing cut off at the right, nothing off the screen."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QBoxLayout,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.ui import style, theme
from app.ui.geometry import FRAME_PX, ColumnScroll
from app.ui.main_window import MainWindow
from app.ui.settings_dialog import SettingsDialog
from tests.ui.conftest import run
from tests.ui.test_visual_states import _bridge

ROOT = Path(__file__).parents[2]


def on_screen(width: int, height: int, code: str, *args: str) -> Any:
    """Run ``code`` (Python) with ``args`` in a process of its own, on an X screen of its own
    that is ``width`` x ``height``; what its last line says, read as JSON."""
    if shutil.which("Xvfb") is None:
        pytest.skip("needs Xvfb")
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            display = ":" + pipe.readline().strip()
        env = os.environ | {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        done = subprocess.run(
            [sys.executable, "-c", code, *args], env=env, cwd=ROOT,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        xvfb.kill()
        xvfb.wait()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def cut_off(window: MainWindow) -> list[str]:
    """What of My meetings' rows lies beyond the right edge of their list (no scroll bar
    across reaches it)."""
    viewport = window.meetings.findChild(ColumnScroll).viewport()
    cut = []
    for row in window.meetings.rows.values():
        for name in ("countdown", "end", "extend", "copy", "enter"):
            widget = getattr(row, name)
            right = widget.mapTo(viewport, widget.rect().topRight()).x()
            if widget.isVisible() and right >= viewport.width():
                cut.append(f"{row.record.title}: {name} ends at {right} of {viewport.width()}")
    return cut


def test_my_meetings_rows_are_whole_in_a_narrow_window(
    qloop: qasync.QEventLoop, qtbot: QtBot, qapp: QApplication, host: HostService, tmp_path: Path
) -> None:
    """800 px across (a small screen: fit_screen lets the window be that narrow), My meetings'
    rows were cut off at the right, Enter and the countdown out of sight. Now the two cards go
    one above the other when they do not fit side by side, and every row is whole; side by
    side again in a wider window, they stay whole as the text grows to its largest."""
    for title in ("Design review", "Team sync"):
        run(qloop, host.start(title, "mid", 3600), 10)
    window = MainWindow(host, _bridge("Ada"), SettingsStore(tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.setMinimumSize(QSize(780, 560))  # (as fit_screen does on a screen that small)
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    font = qapp.font()
    across = QBoxLayout.Direction.LeftToRight
    try:
        qtbot.wait(50)  # (laid out)
        assert window.cards.box.direction() == across and not cut_off(window)
        window.resize(800, 700)
        qtbot.waitUntil(lambda: window.cards.box.direction() != across)
        qtbot.wait(50)  # (laid out)
        assert not cut_off(window), cut_off(window)
        window.resize(1366, 700)
        qtbot.waitUntil(lambda: window.cards.box.direction() == across)
        theme.set_text_size(qapp, 150)
        qtbot.wait(100)
        assert not cut_off(window), cut_off(window)
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


def test_settings_is_whole_on_a_narrow_screen_at_the_largest_text(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    """At the largest text size on a screen 800 px across, Settings' body was wider than the
    dialog: its right side cut off (the speaker's Test, Remove, the check boxes' words), with
    no scroll bar across to reach it. The check boxes' words wrap now, and it all shows."""
    font = qapp.font()
    theme.set_text_size(qapp, 150)
    try:
        dialog = SettingsDialog(SettingsStore(tmp_path / "settings.json"), live_meter=False)
        qtbot.addWidget(dialog)
        dialog.setMinimumWidth(780)  # (as fit_screen does on a screen that small)
        dialog.resize(800, 900)
        dialog.show()
        qtbot.waitExposed(dialog)
        qtbot.wait(50)  # (laid out)
        kinds = (QLabel, QAbstractButton, QComboBox, QLineEdit)
        shown = [w for w in dialog._body.body.findChildren(QWidget) if w.isVisible()]
        cut = [
            f"{w.__class__.__name__} {w.accessibleName() or getattr(w, 'text', str)()!r}"
            for w in shown
            if isinstance(w, kinds) and w.mapTo(dialog, w.rect().topRight()).x() >= dialog.width()
        ]
        assert not cut, cut
        wrapped = [w for w in shown if isinstance(w, QLabel) and w.wordWrap()]
        short = [w.text() for w in wrapped if w.height() < w.heightForWidth(w.width())]
        assert not short, short  # (every line of their words shows)
        words = dialog.sounds.parentWidget().findChild(QLabel)
        ticked = dialog.sounds.isChecked()
        qtbot.mouseClick(words, Qt.MouseButton.LeftButton)  # (as on a check box's own words)
        assert dialog.sounds.isChecked() != ticked
        assert dialog.sounds.accessibleName() == words.text()  # (what a screen reader says)
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


NARROW_START = """
import json, sys, tempfile, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.meeting.hosting import HostService
from app.meeting.links import new_secret
from app.meeting.store import MeetingRecord, MeetingStore
from app.ui.geometry import screen_of
from app.ui.start_dialog import StartDialog
from app.ui.theme import apply_theme
apply_theme(app, int(sys.argv[1]))
host = HostService(MeetingStore(Path(tempfile.mkdtemp()) / "meetings.json"))
dialog = StartDialog(host)
dialog.show()
for _ in range(20):
    app.processEvents()
form = dialog.width()
link = f"peermeet://192.168.100.200:48765/team-sync#k={new_secret()}"
now = time.time()
dialog.show_record(MeetingRecord(link, "Team sync", "team-sync", "small", now, now + 3600))
for _ in range(20):
    app.processEvents()
shown = lambda w: [*w.mapTo(dialog, w.rect().topLeft()).toTuple(), w.width(), w.height()]
free = screen_of(dialog).availableGeometry().width()
print(json.dumps({"free": free, "form": form, "dialog": dialog.width(), "link": shown(dialog.link),
                  "qr": shown(dialog.qr), "enter": shown(dialog.enter)}))
"""


def test_the_start_dialogs_link_and_qr_code_fit_a_narrow_screen() -> None:
    """On a screen 800 px across the meeting's link and its QR code side by side made the
    dialog 928 px wide, its right side off the screen (the QR code, Enter meeting), and at the
    largest text the form was 926 px wide. On such a screen the QR code goes under the link
    and the form fits; on a wide one the QR code stays beside the link."""
    for width, percent, beside in ((800, 100, False), (800, 150, False), (1280, 100, True)):
        got = on_screen(width, 900, NARROW_START, str(percent))
        assert got["form"] <= got["free"] and got["dialog"] <= got["free"], got
        for part in ("link", "qr", "enter"):
            x, _, w, _ = got[part]
            assert x + w <= got["dialog"], (part, got)
        link_bottom, qr_top = got["link"][1] + got["link"][3], got["qr"][1]
        assert (qr_top < link_bottom) == beside, got


SETTINGS = """
import json, sys, tempfile
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.meeting.settings import SettingsStore
from app.ui.geometry import screen_of
from app.ui.settings_dialog import SettingsDialog
from app.ui.theme import apply_theme
apply_theme(app, int(sys.argv[1]))
dialog = SettingsDialog(SettingsStore(Path(tempfile.mkdtemp()) / "s.json"), live_meter=False)
dialog.show()
for _ in range(20):
    app.processEvents()
free = screen_of(dialog).availableGeometry()
print(json.dumps({"free": [free.width(), free.height()], "dialog": dialog.size().toTuple(),
                  "scrolls": dialog._body.scroll.verticalScrollBar().maximum()}))
"""


def test_settings_on_a_narrow_screen_is_as_tall_as_its_wrapped_words_need() -> None:
    """At the largest text on a screen 800 px across, Settings was sized for its words on one
    line each (its width before the screen's): wrapped, they did not fit, and its body
    scrolled, with a tenth of the screen's height unused below it."""
    got = on_screen(800, 1000, SETTINGS, "150")
    width, height = got["dialog"]
    assert width <= got["free"][0] and height < got["free"][1] - FRAME_PX, got
    assert got["scrolls"] == 0, got


def narrow_home(qtbot: QtBot, host: HostService, tmp_path: Path) -> MainWindow:
    """The home window 800 px across (a small screen), without LAN discovery."""
    window = MainWindow(host, _bridge("Ada"), SettingsStore(tmp_path / "settings.json"))
    qtbot.addWidget(window)
    window.setMinimumSize(QSize(780, 560))  # (as fit_screen does on a screen that small)
    window.resize(800, 700)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)  # (laid out)
    return window


def test_a_meeting_started_in_a_narrow_window_is_whole_in_my_meetings(
    qloop: qasync.QEventLoop, qtbot: QtBot, qapp: QApplication, host: HostService, tmp_path: Path
) -> None:
    """Meetings started with the window 800 px across had their rows cut off at the right
    (Enter, the countdown), the cards side by side: the width the list needs once its new rows
    were styled never reached the window's layout. Now they go one above the other."""
    font = qapp.font()
    theme.set_text_size(qapp, 100)  # (the app's look: a row is wider once styled)
    try:
        window = narrow_home(qtbot, host, tmp_path)
        for title in ("Design review", "Team sync"):
            run(qloop, host.start(title, "mid", 3600), 10)
        window.meetings.rebuild()  # (as on any change: its rows made afresh)
        qtbot.waitUntil(lambda: len(window.meetings.rows) == 2)
        qtbot.wait(200)  # (shown, styled and laid out)
        assert not cut_off(window), cut_off(window)
        assert window.cards.box.direction() == QBoxLayout.Direction.TopToBottom
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


def test_one_above_the_other_the_card_with_nothing_to_list_stays_compact(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """One above the other, My meetings and Rooms on this network shared the height equally:
    My meetings' rows were cut short over a card mostly empty. A card with nothing to list is
    as tall as its words now, the other gets the rest; both listing something, they share."""
    for title in ("Design review", "Team sync"):
        run(qloop, host.start(title, "mid", 3600), 10)
    window = narrow_home(qtbot, host, tmp_path)
    mine, nearby = window.cards.cards
    assert window.cards.box.direction() == QBoxLayout.Direction.TopToBottom
    assert window.lan_empty.isVisible()  # (nothing on this network)
    assert nearby.height() <= nearby.sizeHint().height(), (nearby.height(), nearby.sizeHint())
    assert mine.height() > nearby.height() + 100, (mine.height(), nearby.height())
    window.show_lan_rooms([("Weekly planning", "peermeet://192.168.1.20:8765/weekly#k=x")])
    qtbot.waitUntil(lambda: nearby.height() == nearby.sizeHint().height())  # (see below)
    window.show_lan_rooms([])
    qtbot.waitUntil(lambda: mine.height() > nearby.height() + 100)


def test_one_above_the_other_the_card_with_fewer_rows_takes_what_it_needs(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Both listing something, one above the other, the cards shared the height equally: one
    meeting had half the height while ten rooms scrolled, or the other way round. The card
    with fewer rows takes what it needs now, the other the rest, and scrolls."""
    run(qloop, host.start("Design review", "mid", 3600), 10)
    window = narrow_home(qtbot, host, tmp_path)
    mine, nearby = window.cards.cards
    rooms = [(f"Room {n}", f"peermeet://192.168.1.{n}:8765/r#k=x") for n in range(40)]
    window.show_lan_rooms(rooms)
    qtbot.wait(100)  # (laid out)
    assert window.cards.box.direction() == QBoxLayout.Direction.TopToBottom
    assert mine.height() >= mine.sizeHint().height(), (mine.height(), mine.sizeHint())
    assert nearby.height() >= mine.height() - 20 and nearby.height() < nearby.sizeHint().height()
    assert window.lan_list.verticalScrollBar().maximum() > 0  # (the rest scrolls)
    rows = window.meetings.rows
    row = next(iter(rows.values()))
    viewport = window.meetings.findChild(ColumnScroll).viewport()
    assert row.mapTo(viewport, row.rect().bottomLeft()).y() < viewport.height()  # (whole)
    for title in ("Team sync", "Retro", "Planning", "1:1"):  # ten rooms over one: now the
        run(qloop, host.start(title, "mid", 3600), 10)  # other way round, five meetings
    window.show_lan_rooms(rooms[:1])
    qtbot.waitUntil(lambda: len(window.meetings.rows) == 5)
    qtbot.waitUntil(lambda: nearby.height() == nearby.sizeHint().height())
    assert mine.height() > nearby.height() + 100, (mine.height(), nearby.height())


HOME_EMPTY = """
import json, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
from app.config import EngineConfig
from app.meeting.hosting import HostService
from app.meeting.settings import SettingsStore
from app.meeting.store import MeetingStore
from app.net.pins import PinStore
from app.ui.bridge import Bridge
from app.ui.lan_card import LanCard
from app.ui.main_window import MainWindow
from app.ui.theme import apply_theme
apply_theme(app, int(sys.argv[1]))
tmp = Path(tempfile.mkdtemp())
host = HostService(MeetingStore(tmp / "m.json"))
card = LanCard(PinStore(tmp / "p.json"), lambda: "Ada")  # (not started: nothing found)
window = MainWindow(host, Bridge(EngineConfig("Ada"), lambda loop: None),
                    SettingsStore(tmp / "s.json"), lan=card)
window.show()
for _ in range(30):
    app.processEvents()
said = []
for label in window.findChildren(QLabel, "EmptyState"):
    if not label.isVisible():
        continue
    box = label.contentsRect()
    flags = int(Qt.TextFlag.TextWordWrap | label.alignment())
    needs = label.fontMetrics().boundingRect(QRect(0, 0, box.width(), 1 << 20), flags,
                                             label.text()).height()
    card = label.parentWidget()
    while card.objectName() != "Card":
        card = card.parentWidget()
    top = label.mapTo(card, box.topLeft()).y() + (box.height() - needs) // 2
    said.append({"text": label.text(), "needs": needs, "has": box.height(), "top": top,
                 "bottom": top + needs, "card": card.height(), "tip": label.toolTip()})
print(json.dumps({"window": window.size().toTuple(), "labels": said}))
"""


def test_an_empty_cards_words_are_whole_at_the_largest_text_on_a_small_screen() -> None:
    """At the largest text on a screen 800 x 700, the two cards one above the other, each too
    short for what it says when empty: those words were cut at the top and the bottom. Now
    all of them show where there is room, else their first line, whole (all in the tooltip)."""
    for percent in (150, 100):
        got = on_screen(800, 700, HOME_EMPTY, str(percent))
        assert len(got["labels"]) == 2, got
        for label in got["labels"]:
            assert label["needs"] <= label["has"], (percent, label)
            assert label["top"] >= 0 and label["bottom"] <= label["card"], (percent, label)
            assert label["text"].startswith("No "), label
            if "\n" not in label["text"]:  # (its headline: the rest in its tooltip)
                assert label["tip"].startswith(label["text"] + "\n\n"), label
            if percent == 100:  # (room for all)
                assert "\n\n" in label["text"], label
