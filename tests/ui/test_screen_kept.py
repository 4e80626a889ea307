"""The application's screen outlives the windows that asked which screen they are on.

PySide makes the QScreen that ``QWidget.screen()`` returns a child of the asking widget's
wrapper (moved to whichever asked last). Two such windows collected in one pass of the cycle
collector then had the screen's wrapper delete the C++ QScreen: the next window hidden or
destroyed crashed in QXcbWindow::hide on a null screen (seen as a segfault in MainThreadGc
while the form-label test's Start and Join dialogs were collected). A child process here, so
the crash is a failure, not the end of the run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

STRESS = r"""
import gc, sys, tempfile
from pathlib import Path
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QVBoxLayout, QHBoxLayout, QLabel
app = QApplication([])
from app.meeting.settings import SettingsStore
from app.ui import geometry
from app.ui.join_dialog import JoinDialog
from app.ui.qt_loop import qt_loop
from tests.ui.test_visual_states import _bridge

def settle():
    for _ in range(5):
        app.processEvents()

def plain():
    # a window sized by geometry's helpers (as Settings, Start and Join are), in a cycle
    dialog = QDialog()
    dialog.me = dialog
    body = QVBoxLayout()
    body.addWidget(QLabel("body"))
    scrolling = geometry.ScrollingBody(dialog, body, QHBoxLayout())
    scrolling.fit()
    dialog.show()
    return dialog

tmp = Path(tempfile.mkdtemp())
with qt_loop(app):  # (the collector then runs on the Qt thread, from MainThreadGc's timer)
    for round in range(5):
        windows = [plain(), plain()]
        windows += [JoinDialog(_bridge("Ada"), SettingsStore(tmp / "s.json"), lambda: None, "",
                               preview=False) for _ in range(2)]
        for window in windows[2:]:
            window.show()
        settle()
        del windows, window  # left shown, in reference cycles: only the collector frees them
        gc.collect()
        settle()
        assert QGuiApplication.primaryScreen() is not None, "the screen was deleted"
        probe = QDialog()  # hiding a window looks at its screen (crashed on a deleted one)
        probe.show()
        settle()
        probe.hide()
        probe.deleteLater()
        settle()
print("rounds", round + 1, "screens", len(QGuiApplication.screens()))
"""


def test_windows_collected_together_leave_the_screen_alone() -> None:
    child = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", STRESS], capture_output=True, text=True,
        timeout=120, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout.split()[-3:] == ["5", "screens", "1"], child.stdout[-500:]
