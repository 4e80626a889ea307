"""What a screen reader on Linux hears: the call window and a dialog in a child process
(screen_reader_child.py) with its own D-Bus session and AT-SPI accessibility bus, listened to
there as Orca listens. Skipped where AT-SPI is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("screen_reader_child.py")
LAUNCHER = next(
    (p for p in ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher")
     if Path(p).exists()),
    None,
)  # fmt: skip


def run_child(child: Path, tmp_path: Path) -> list[tuple[str, int]]:
    """Run ``child`` with a D-Bus session of its own; what its screen reader heard, in order
    ((text, politeness) from its last "HEARD <json>" line)."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ, "XDG_RUNTIME_DIR": str(runtime), "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
        "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    done = subprocess.run(
        ["dbus-run-session", "--", sys.executable, str(child)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("HEARD ")]
    assert lines, done.stderr[-3000:]
    heard = [(text, politeness) for text, politeness in json.loads(lines[-1][6:])]
    assert done.returncode == 0, f"{done.stderr[-3000:]}\nheard: {heard}"
    return heard


@pytest.mark.skipif(
    shutil.which("dbus-run-session") is None or LAUNCHER is None, reason="needs D-Bus and AT-SPI"
)
def test_a_screen_reader_hears_notices_errors_chat_and_the_call_keys(tmp_path: Path) -> None:
    """Notices, form errors, people coming and chat messages were sent to screen readers as
    Alert events, which Linux's AT-SPI bridge drops: Orca said none of them. Ctrl+D and Ctrl+E
    said nothing either, nor did a knock (the host's prompt opens without the keyboard), nor a
    meeting started (the keyboard went to Enter meeting, and that was all that was said), nor a
    knock's code on the guest's side, nor why it failed (the keyboard is on Cancel)."""
    heard = {text: politeness for text, politeness in run_child(CHILD, tmp_path)}
    polite, assertive = 1, 2
    assert heard["Microphone off"] == polite
    assert heard["Olga joined"] == polite
    assert heard["Olga: hello from Olga"] == polite
    assert heard["Your speaker was unplugged."] == polite
    (ready,) = [text for text in heard if "“Planning” is ready" in text]  # (Start dialog)
    assert "Copy link" in ready and heard[ready] == polite
    # the host's "… wants to join" prompt does not take the keyboard: it was not said at all
    (knock,) = [text for text in heard if "Grace wants to join" in text]
    assert "“Screen reader”" in knock and "code 4 8 2 1" in knock and heard[knock] == polite
    assert "Ctrl+Shift+K takes you there" in knock  # (it opens without the keyboard)
    # ours: the keyboard on Cancel, neither our code nor why it failed was said
    (code,) = [text for text in heard if text.startswith("Your code: 1 5 9 3.")]
    assert "must be the same" in code and heard[code] == polite
    assert heard["The host did not let you in."] == assertive
    (error,) = [text for text in heard if "rendezvous server's address" in text]
    assert heard[error] == assertive
