"""tools/screenshots.py (``make screenshots``) still runs against the current app: every window
renders and nothing fails on the way (it drives the real MainWindow, dialogs and Bridge)."""

from __future__ import annotations

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
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "screenshots.py"), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    for name in SHOTS:
        image = QImage(str(tmp_path / f"{name}.png"))
        assert not image.isNull() and image.width() > 300, name
