"""Child process of test_display_gone.py: PeerMeet as ``python -m app run`` starts it, its X
server (the process id in argv[1]) told to stop the moment its home window has shown: while
what starts with the window is still starting (LAN discovery, the rooms it announces).

    python display_gone_child.py <X server pid>
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for app.*

from PySide6.QtCore import QTimer

from app.cli import main
from app.ui.main_window import MainWindow

X_SERVER = int(sys.argv[1])
show = MainWindow.show


def show_then_end_the_display(window: MainWindow) -> None:
    show(window)
    QTimer.singleShot(0, lambda: os.kill(X_SERVER, signal.SIGTERM))  # (as soon as Qt runs)


MainWindow.show = show_then_end_the_display  # type: ignore[method-assign]
sys.exit(main(["run"]))
