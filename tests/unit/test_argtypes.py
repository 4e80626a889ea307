"""Command-line numbers are checked when parsed, with a sentence instead of a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import main, rendezvous_main
from app.jsonfile import read_json


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--port", "99999"], "99999 is not a port: give 1..65535"),
        (["--port", "http"], "'http' is not a port number"),
        (["--max-conns-per-ip", "0"], "0 is too small: give at least 1"),
        (["--max-rooms", "-5"], "-5 is too small"),
    ],
)
def test_rendezvous_options_out_of_range_are_refused_in_words(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        rendezvous_main(argv)
    assert exited.value.code == 2
    assert said in capsys.readouterr().err


def test_rendezvous_help_gives_every_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        rendezvous_main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("default 0.0.0.0", "default 8765", "default 1000", "default 64", "default 20"):
        assert default in text


def test_durations_in_words() -> None:
    from app.argtypes import parse_duration

    assert [parse_duration(t) for t in ("3h", "90m", "1h30m", "45s", "600", " 1D ")] == [
        10800,
        5400,
        5400,
        45,
        600,
        86400,
    ]
    for bad in ("", "bogus", "0", "3x", "h3", "1h-5m", "३h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_files_and_times_are_checked_before_anything_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder given as --state was renamed to .bad and replaced by a file; an unwritable
    --stats-json failed only after the call, with a traceback; --seconds -5 left at once."""
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "x").write_text("kept")
    cases = [
        (rendezvous_main, ["--state", str(folder)], "is a folder"),
        (rendezvous_main, ["--state", ""], "give a file name"),
        (
            main,
            ["join", "peermeet://h:1/r#k=x", "--stats-json", "/nonexistent/s.json"],
            "does not exist",
        ),
        (main, ["join", "peermeet://h:1/r#k=x", "--seconds", "-5"], "give more than 0 seconds"),
        (main, ["join", "peermeet://h:1/r#k=x", "--seconds", "nan"], "is not a time"),
        (main, ["demo", "--seconds", "-1"], "give more than 0 seconds"),
        (main, ["lan", "list", "--pins", str(folder)], "is a folder"),
        (main, ["host", "--name", "", "--headless"], "--name: A meeting name needs at least"),
        (main, ["host", "--name", "!?", "--headless"], "--name: A meeting name needs at least"),
    ]
    for entry, argv, said in cases:
        with pytest.raises(SystemExit) as exited:
            entry(argv)
        assert exited.value.code == 2 and said in capsys.readouterr().err, argv
    assert (folder / "x").read_text() == "kept" and not (tmp_path / "d.bad").exists()


def test_a_folder_where_a_data_file_should_be_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "settings.json").mkdir()
    assert read_json(tmp_path / "settings.json") is None
    assert (tmp_path / "settings.json").is_dir() and not (tmp_path / "settings.json.bad").exists()
