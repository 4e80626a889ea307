"""What a screen reader hears while joining, and of other people's connection trouble in a call
(screen_reader_news_child.py, listening on a real AT-SPI bus as test_screen_reader.py does)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.test_screen_reader import LAUNCHER, run_child

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
    heard = run_child(CHILD, tmp_path)
    said = [text for text, _ in heard]
    polite = 1
    # the join: said as it starts, then while it is still under way, then why it failed
    (start,) = [i for i, text in enumerate(said) if text.startswith("Joining “screen-reader”")]
    still = [i for i, text in enumerate(said) if text.startswith("Still joining")]
    (failed,) = [i for i, text in enumerate(said) if "reach the meeting host" in text]
    assert still and start < still[0] < failed and len(still) == 1, said  # (3 s: once, at 2)
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
