"""How long the call's notices stay, and what a notice does to one not read yet (a real Banner
in a real window; the time it reads by is the test's own clock)."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.meeting.rejoin import TAKEN_TEXT
from app.ui.banner import LEAST_S, MOST_S, Banner

SHORT = "Ada joined."
NO_MIC = "No microphone found: the others hear silence."


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def banner_in_window(qtbot: QtBot, clock: Clock) -> tuple[QWidget, Banner]:
    """A window with a banner (the window kept by the test: its banner dies with it)."""
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(700, 400)
    window.show()
    return window, Banner(window, clock=clock)


def shown_for(banner: Banner, text: str) -> float:
    """Seconds ``text``, shown alone as a notice of the engine's (no time given), stays."""
    banner.hide()
    banner.show_message(text)
    assert banner.isVisible() and banner._timer.isActive()
    return banner._timer.interval() / 1000


def test_a_notice_stays_as_long_as_it_takes_to_read(qtbot: QtBot) -> None:
    """Every notice stayed 10 s: "someone else opened the meeting again…" (35 words) was gone
    before it could be read. Now ~3 words a second and a few seconds more, within bounds."""
    _window, banner = banner_in_window(qtbot, Clock())
    words = len(TAKEN_TEXT.split())
    assert words >= 30
    long = shown_for(banner, TAKEN_TEXT)
    assert long >= words / 3 + 2, long  # (read at 3 words a second, once noticed)
    short = shown_for(banner, SHORT)
    assert LEAST_S <= short < long and short < 10, short  # (a glance is enough)
    assert shown_for(banner, " ".join(["word"] * 400)) == MOST_S  # (not for ever)
    banner.show_message(SHORT, seconds=0)
    assert not banner._timer.isActive()  # (kept until dismissed, as asked)
    banner.hide()
    banner.show_message(TAKEN_TEXT, "warning", 20)  # (a time given is kept)
    assert banner._timer.interval() == 20_000


def test_a_notice_does_not_take_the_place_of_one_not_read_yet(qtbot: QtBot) -> None:
    """News as important took the place of what was shown at once: a second notice hid the
    35-word one under way. It goes under it now, and takes its place once that had its time."""
    clock = Clock()
    _window, banner = banner_in_window(qtbot, clock)
    banner.show_message(TAKEN_TEXT)
    long = banner._timer.interval()
    clock.now += 2
    banner.show_message(NO_MIC)
    assert banner.text.text().split("\n") == [TAKEN_TEXT, NO_MIC]
    assert banner._timer.interval() >= long - 2000 - 50  # (the longer still has its time)
    assert banner.property("level") == "notice"
    clock.now += 60  # (both read)
    banner.show_message(SHORT)
    assert banner.text.text() == SHORT
    assert banner._timer.interval() < long


def test_when_the_banner_goes_by_itself_can_be_asked(qtbot: QtBot) -> None:
    """hides_at: the time (by the banner's clock) its timer takes it away; None while what it
    shows stays until dismissed, or when it is hidden (a test asks instead of waiting it out)."""
    clock = Clock()
    _window, banner = banner_in_window(qtbot, clock)
    assert banner.hides_at() is None  # (nothing shown)
    banner.show_message(SHORT, seconds=7)
    at = banner.hides_at()
    # (a coarse QTimer, Qt's default, may fire up to 5 % late, and says so in remainingTime)
    assert at is not None and clock.now + 6.5 < at <= clock.now + 7 * 1.05 + 0.01, at
    banner.show_message(NO_MIC, "warning", seconds=0)  # (above it, kept until dismissed)
    assert banner.isVisible() and banner.hides_at() is None
    banner.hide()
    assert banner.hides_at() is None
