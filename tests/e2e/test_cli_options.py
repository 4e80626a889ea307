"""The command line as a bot author meets it: --help, options refused at the start, messages."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import finish, peermeet

LINK = "peermeet://127.0.0.1:9/x#k=AAECAwQFBgcICQoLDA0ODw"


def test_a_stats_file_that_cannot_be_written_is_refused_before_the_call() -> None:
    # /proc takes no new files, even for root: found only after the call, the call's
    # statistics were lost and the exit status was still 0
    code, err = finish(peermeet("join", LINK, "--headless", "--stats-json", "/proc/stats.json"))
    assert code == 2 and "--stats-json" in err and "cannot write in the folder /proc" in err, err
    assert "Traceback" not in err and "reaching the rendezvous" not in err, err


def test_a_writable_stats_folder_is_left_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    code, err = finish(peermeet("join", "not-a-link", "--headless", "--stats-json", str(out)))
    assert code == 2, err
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"], err  # (no probe left behind)
