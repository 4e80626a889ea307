"""tools/screenshots.py (``make screenshots``) still runs against the current app: every window
renders and nothing fails on the way (it drives the real MainWindow, dialogs and Bridge)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
SHOTS = [
    "main_window",
    "start_form",
    "start_dialog",
    "my_meetings",
    "join_dialog_error",
    "settings",
]


def test_the_screenshot_tool_renders_every_window(tmp_path: Path) -> None:
    tool = [sys.executable, "-X", "faulthandler", str(ROOT / "tools" / "screenshots.py")]
    proc = subprocess.Popen(
        [*tool, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _, stderr = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:  # hung: every thread's stack says where
        proc.send_signal(signal.SIGABRT)
        _, stderr = proc.communicate()
        raise AssertionError(f"the tool hung:\n{stderr[-6000:]}") from None
    assert proc.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert "Cannot enter into task" not in stderr, stderr[-2000:]  # (re-entrant event loop)
    for name in SHOTS:
        image = QImage(str(tmp_path / f"{name}.png"))
        assert not image.isNull() and image.width() > 300, name
