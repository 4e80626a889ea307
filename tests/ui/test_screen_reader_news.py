"""What a screen reader hears while joining, and of other people's connection trouble in a call
(screen_reader_news_child.py, listening on a real AT-SPI bus as test_screen_reader.py does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.test_screen_reader import LAUNCHER

CHILD = Path(__file__).with_name("screen_reader_news_child.py")


@pytest.mark.skipif(
    shutil.which("dbus-run-session") is None or LAUNCHER is None, reason="needs D-Bus and AT-SPI"
)
def test_a_screen_reader_hears_a_join_under_way_and_others_connection_trouble(
    tmp_path: Path,
) -> None:
    """Nothing was said between pressing Join and the call window or an error: up to ten
    silent seconds when the host could not be reached. Nor was anything said of someone's
    "Reconnecting…" or "connection failed" (only shown, on their tile and in People)."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ, "XDG_RUNTIME_DIR": str(runtime), "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(CHILD)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEARD ")]
    assert lines, done.stderr[-3000:]
    heard: list[tuple[str, int]] = [tuple(x) for x in json.loads(lines[-1][6:])]
    assert done.returncode == 0, f"{done.stderr[-3000:]}\nheard: {heard}"
    said = [text for text, _ in heard]
    polite = 1
    # the join: said as it starts, then while it is still under way, then why it failed
    (start,) = [i for i, text in enumerate(said) if text.startswith("Joining “screen-reader”")]
    still = [i for i, text in enumerate(said) if text.startswith("Still joining")]
    (failed,) = [i for i, text in enumerate(said) if "reach the meeting host" in text]
    assert still and start < still[0] < failed and len(still) == 1, said  # (6 s: once, at 4)
    assert "reaching the meeting point" in said[still[0]] and heard[still[0]][1] == polite
    # Olga's connection: the trouble once (a blip is not said), the recovery, the failure
    assert [t for t in said if "Lost the connection" in t] == [
        "Lost the connection to Olga: reconnecting …"
    ], said
    assert said.count("Olga: connected again.") == 1, said
    assert said.count("The connection to Olga failed.") == 1, said
    # a long message: its start, not minutes of it (everything said after it waited)
    (long,) = [text for text in said if text.startswith("Olga: minutes of it")]
    assert len(long) < 400 and long.endswith("(long message: the rest is in the chat)"), long
