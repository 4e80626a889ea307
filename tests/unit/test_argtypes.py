"""Command-line numbers are checked when parsed, with a sentence instead of a traceback."""

from __future__ import annotations

import pytest

from app.cli import rendezvous_main


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
