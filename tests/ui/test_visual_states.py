"""Screens and states seldom seen, as a person looks at them: what a row, a dialog or a panel
says in them, and that it is all in view (nothing cut, nothing over something else)."""

from __future__ import annotations

import time
from pathlib import Path

import qasync
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.settings import SettingsStore
from app.net.seal import RoomKeys
from app.net.signaling import SignalingClient
from app.ui import style, theme
from app.ui.bridge import Bridge
from app.ui.call_window import SIDE_NARROW, SIDE_WIDTH
from app.ui.chat_entry import MAX_LINES
from app.ui.chat_memory import divider
from app.ui.chat_panel import ChatPanel
from app.ui.join_dialog import STEPS, JoinDialog
from app.ui.meetings_view import MeetingsView
from app.ui.preview import MIC_HINT
from app.ui.settings_dialog import SettingsDialog
from app.ui.start_dialog import StartDialog
from app.ui.theme import TEXT_SIZES
from tests.ui.conftest import run, until


def test_a_full_meeting_says_so_in_my_meetings(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService
) -> None:
    """A small meeting with its 4 seats taken read "4 people in it now", as one with room
    left: the host could not tell that nobody else can join."""
    record = run(qloop, host.start("Standup", "small", 3600), 10)
    link = parse_link(record.link)
    guests: list[SignalingClient] = []
    view = MeetingsView(host)
    qtbot.addWidget(view)
    try:
        for n in range(1, 5):
            guest = run(qloop, SignalingClient.connect(link.rendezvous_url, 3.0), 5)
            guests.append(guest)
            run(qloop, guest.join(RoomKeys.from_secret(link.secret).room_id, link.room), 5)
            view.refresh()
            text = view.rows[record.link].status.text()
            if n < 4:
                assert "full" not in text and f"{n} " in text, text
        assert "full: 4 people in it now" in text, text
    finally:
        view.close_view()
        for guest in guests:
            run(qloop, guest.close(), 5)


def test_the_chat_box_shows_six_lines_whole_before_it_scrolls(
    qtbot: QtBot, qapp: QApplication
) -> None:
    """Grown to its six lines, the box scrolled them by a few pixels, with a scroll bar: the
    first line cut at the top (the app's font lays a line out higher than its line spacing).
    At every text size it fits them now, and scrolls from the seventh on."""
    font = qapp.font()
    try:
        for percent in TEXT_SIZES:
            theme.set_text_size(qapp, percent)
            panel = ChatPanel()
            qtbot.addWidget(panel)
            panel.resize(340, 900)
            panel.show()
            qtbot.waitExposed(panel)
            entry, heights = panel.entry, []
            for n in range(1, MAX_LINES + 3):
                entry.setPlainText("\n".join(f"line {i}" for i in range(1, n + 1)))
                qtbot.wait(10)
                heights.append(entry.height())
                most = entry.verticalScrollBar().maximum()
                assert (most > 0) == (n > MAX_LINES), (percent, n, most)
            assert heights == sorted(heights) and len(set(heights)) == MAX_LINES, heights
            panel.close()
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)


def test_the_join_again_divider_breaks_between_its_parts(qtbot: QtBot) -> None:
    """In the chat's width the divider broke inside its second part, leaving "11:26 ──" alone
    on a line; now a line ends after a "·" and each part reads whole."""
    now = time.time()
    text = divider("disconnected", now - 600, now)
    for width in (SIDE_WIDTH, SIDE_NARROW[1]):
        panel = ChatPanel()
        qtbot.addWidget(panel)
        panel.setFixedWidth(width)
        panel.resize(width, 600)
        panel.show()
        qtbot.waitExposed(panel)
        panel.add_message("Olga", "hello")
        panel.add_notice(text, "divider")
        qtbot.wait(10)
        doc = panel.view.document()
        block = doc.findBlock(0)
        while block.isValid() and "again" not in block.text():
            block = block.next()
        layout = block.layout()
        shown = [
            block.text()[line.textStart() : line.textStart() + line.textLength()]
            for line in (layout.lineAt(i) for i in range(layout.lineCount()))
        ]
        words = [" ".join(line.replace("\xa0", " ").split()) for line in shown]
        assert len(words) <= 2, words
        for part in text.split(" · "):
            assert any(part in line for line in words), (part, words)
        panel.close()


def test_what_the_speaker_test_finds_is_said_under_the_speaker(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """With no sound device, Test by the speaker said why in the microphone's note, above the
    speaker row and in place of what that note said."""
    dialog = SettingsDialog(SettingsStore(tmp_path / "settings.json"), live_meter=False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.speaker_note.isHidden()
    dialog.test_speaker.setEnabled(True)  # (off with no speaker listed: as if one were)
    dialog.test_speaker.click()  # no sound device is open here
    assert dialog.meter.note.full == MIC_HINT  # (the microphone's note is its own)
    note = dialog.speaker_note
    assert note.isVisible() and "No sound device" in note.full
    row = dialog.test_speaker.mapTo(dialog, dialog.test_speaker.rect().bottomLeft()).y()
    top = note.mapTo(dialog, note.rect().topLeft()).y()
    below = dialog.sounds.mapTo(dialog, dialog.sounds.rect().topLeft()).y()
    assert row < top and top + note.height() <= below, (row, top, note.height(), below)
    assert note.heightForWidth(note.width()) <= note.height()  # (all of it shows)


def _bridge(name: str) -> Bridge:
    return Bridge(
        EngineConfig(name, connect_timeout_s=5.0),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop),
    )


def test_the_join_steps_say_what_they_did_in_the_words_they_were_named(
    qloop: qasync.QEventLoop, qtbot: QtBot, host: HostService, loopback: None, tmp_path: Path
) -> None:
    """Under "Reach the meeting point" a step read "Rendezvous reached (…)", under "Find the
    others" "Peer found (…)": words the dialog never used, for the same thing."""
    record = run(qloop, host.start("Steps", "small", 3600), 10)
    olga, me = _bridge("Olga"), _bridge("Ada")
    dialog = JoinDialog(
        me, SettingsStore(tmp_path / "s.json"), lambda: None, record.link, preview=False
    )
    qtbot.addWidget(dialog)
    shown: dict[int, str] = {}

    def progress(step: int, _text: str) -> None:
        if dialog.joining:  # (once joined, the dialog is done: later steps are the call's)
            shown[step] = dialog.texts[step - 1].text()

    me.progress.connect(progress)
    try:
        assert run(qloop, olga.join(record.link, "Olga"), 15)
        dialog.show()
        dialog.start_join()
        run(qloop, until(lambda: not dialog.joining, 15, "joined"), 20)
        assert dialog.failure is None and {1, 2, 3} <= set(shown), shown
        assert shown[1].startswith("Meeting point reached (127.0.0.1:"), shown
        assert shown[3].startswith("Found the others ("), shown
        for step, text in shown.items():
            assert "rendezvous" not in text.lower() and "peer" not in text.lower(), text
            assert text[:1].isupper() and text != STEPS[step - 1], text
    finally:
        run(qloop, me.leave(), 10)
        run(qloop, olga.leave(), 10)


def test_a_failed_join_shows_its_error_without_a_scroll_bar(
    qloop: qasync.QEventLoop,
    qtbot: QtBot,
    qapp: QApplication,
    host: HostService,
    loopback: None,
    tmp_path: Path,
) -> None:
    """After "Meeting point reached (127.0.0.1:…)" and a refusal, the body needed more height
    than the dialog grew to: the steps' panel, fixed at its size hint, counted each long step
    as wrapped on three lines. A scroll bar came, and the fields moved left of the buttons."""
    record = run(qloop, host.start("Wrong key", "small", 3600), 10)
    me = _bridge("Ada")
    wrong = record.link.rsplit("=", 1)[0] + "=" + "A" * 22
    dialog = JoinDialog(me, SettingsStore(tmp_path / "s.json"), lambda: None, wrong, preview=False)
    qtbot.addWidget(dialog)
    font = qapp.font()
    theme.set_text_size(qapp, 100)  # (the app's font: the test's default one wraps otherwise)
    try:
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.start_join()
        run(qloop, until(lambda: not dialog.joining, 15, "refused"), 20)
        assert dialog.failure is not None and dialog.failure[0] == "wrong_secret"
        qtbot.wait(100)
        assert dialog.texts[0].text().startswith("Meeting point reached (")
        assert dialog.error.isVisible()
        scroll = dialog._body.scroll
        assert scroll.verticalScrollBar().maximum() == 0, scroll.widget().minimumSizeHint()
        link_right = dialog.link.mapTo(dialog, dialog.link.rect().topRight()).x()
        join_right = dialog.join_button.mapTo(dialog, dialog.join_button.rect().topRight()).x()
        assert link_right == join_right  # (a scroll bar took its width from the fields)
    finally:
        style.set_text_scale(1.0)
        qapp.setStyleSheet("")
        qapp.setFont(font)
        run(qloop, me.leave(), 10)


def level(label_text: str, dialog: QWidget, first: QWidget, top: QWidget | None = None) -> int:
    """How far the words of the form label ``label_text`` sit below the middle of ``first``
    (the first line of its field, or as tall as it at the top of ``top``), in pixels."""
    label = next(w for w in dialog.findChildren(QLabel) if w.text() == label_text)
    words = label.mapTo(dialog, label.rect().center()).y()
    line = (top or first).mapTo(dialog, QPoint(0, 0)).y() + first.height() // 2
    return words - line


def test_a_form_label_sits_level_with_the_first_line_of_a_taller_field(
    qtbot: QtBot, host: HostService, tmp_path: Path
) -> None:
    """Beside a field taller than one line (the meeting name with its link form under it,
    the meeting point's two choices, the join's preview), the label's words sat below that
    field's first line (10 px for the meeting name, in the app's look): Qt grew the label to
    7/4 of its height, and its words were centred in that."""
    start = StartDialog(host)
    join = JoinDialog(_bridge("Ada"), SettingsStore(tmp_path / "s.json"), lambda: None, "")
    for dialog in (start, join):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
    assert abs(level("Meeting name", start, start.name)) <= 1
    assert abs(level("Meeting point", start, start.here)) <= 1
    assert abs(level("Size", start, start.size_box)) <= 1  # (one line: as it was)
    assert abs(level("Camera and mic", join, join.name, top=join.preview)) <= 1
    assert abs(level("Your name", join, join.name)) <= 1
