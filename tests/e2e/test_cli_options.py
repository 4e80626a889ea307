"""The command line as a bot author meets it: --help, options refused at the start, messages."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from tests.e2e.helpers import MEDIA, PY, finish, first_line, peermeet, stats

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


def _help(*command: str) -> str:
    proc = peermeet(*command, "--help")
    assert proc.stdout is not None
    out = proc.stdout.read()
    assert finish(proc)[0] == 0
    return " ".join(out.split())  # (argparse wraps lines where it likes)


def test_help_says_every_default_and_the_exit_statuses() -> None:
    host = _help("host")
    for said in (
        "(default small)",
        "(default 3h)",
        "(default 0.0.0.0: every IPv4 interface; :: every IPv4 and IPv6 one)",
        "(default 60)",
        "(default 640x480)",
        "(default 30)",
        "stdout's first line is the share link",
    ):
        assert said in host, said
    join = _help("join")
    assert "--name DISPLAY_NAME" in join and "DISPLAY_NAME_ALIAS" not in join, join
    assert "peermeet join - --headless" in join, join
    for text in (host, join, _help("lan", "knock")):
        assert "exit status: 0 once in the call" in text and "3 host unreachable" in text, text
    assert "(default 3)" in _help("lan", "list") and "(default 10)" in _help("demo")


def test_help_sets_apart_what_only_a_headless_call_uses() -> None:
    # (given without --headless, those are refused: the help says which they are)
    join = _help("join").partition("options:")[2]  # (not the usage line)
    options, _, headless = join.partition("with --headless (the desktop app asks for these")
    assert "--headless" in options and "--relay-only" in headless and "--stun URL" in headless
    assert "--turn-pass PASSWORD TURN password (or set PEERMEET_TURN_PASS" in headless, join
    host = _help("host").partition("options:")[2]
    options, _, headless = host.partition("with --headless (")
    assert "--name NAME" in options and "--size" not in options and "--size" in headless


def test_a_host_that_cannot_listen_says_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, err = finish(
            peermeet("host", "--headless", "--name", "x", "--bind", "127.0.0.1", "--port", port)
        )
    assert code == 1 and "Traceback" not in err, err
    assert "Address already in use. Another program" in err and "another --port" in err, err
    # (a documentation address: no computer has it, and nothing is sent)
    code, err = finish(peermeet("host", "--headless", "--name", "x", "--bind", "192.0.2.7"))
    assert code == 1 and "cannot listen on 192.0.2.7 (any port)" in err, err
    assert "give one of its own with --bind" in err and "--host" not in err, err


def test_join_dash_with_nothing_piped_in_says_so_in_the_stats_file_too(tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    done = subprocess.run(
        [PY, "-m", "app", "join", "-", "--headless", "--stats-json", str(out)],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "no link came on standard input" in done.stderr, done.stderr
    # (a bad link given on the command line was written there; one that never came was not)
    said = stats(out)
    assert said["outcome"] == "failed" and said["exit_status"] == 2, said
    assert "standard input" in said["error"], said


def test_a_wrong_stun_or_turn_option_exits_2_before_anything_starts(tmp_path: Path) -> None:
    out = tmp_path / "stats.json"
    code, err = finish(
        peermeet("join", LINK, "--headless", "--stun", "garbage", "--stats-json", str(out))
    )
    # (README: 2 for a bad option; it was 1, with no statistics, after the host's room opened)
    assert code == 2 and "is not a STUN/TURN address" in err and "Traceback" not in err, err
    assert "reaching the rendezvous" not in err, err
    said = stats(out)
    assert said["outcome"] == "failed" and said["exit_status"] == 2, said
    code, err = finish(peermeet("host", "--headless", "--name", "x", "--turn", "turn:t:3478"))
    assert code == 2 and "needs a user name and a password" in err, err
    assert "reaching the rendezvous" not in err, err


def test_an_advertised_name_that_no_link_can_hold_is_refused() -> None:
    # it went into the share link as it was ("peermeet://bad host!:P/…"), which no one can join
    code, err = finish(peermeet("host", "--headless", "--name", "x", "--advertise", "bad host!"))
    assert code == 2 and "--advertise" in err and "not a host name or an IP address" in err, err
    assert "reaching the rendezvous" not in err, err


def test_a_host_enters_its_own_room_whatever_address_it_advertises() -> None:
    # --advertise names the address others use (a NAT's, a public name), which this computer
    # may not reach itself (here 127.0.0.2, where nothing listens): the host failed to start
    # with "Cannot reach the meeting host at 127.0.0.2:…"
    host = peermeet(
        "host", "--headless", "--name", "adv", "--bind", "127.0.0.1", "--advertise", "127.0.0.2",
        *MEDIA, "--seconds", "2",
    )  # fmt: skip
    link = first_line(host)
    code, err = finish(host)
    assert link.startswith("peermeet://127.0.0.2:") and "/adv#k=" in link, (link, err)
    assert code == 0 and "room “adv” joined" in err and "Cannot reach" not in err, err


def test_options_only_a_headless_call_uses_are_refused_without_headless() -> None:
    # the window took the link and nothing else: --relay-only opened it without hiding the
    # address, --turn and --seconds were dropped without a word (here: no display, where it
    # said only "no desktop window can open here", exit 1)
    windowless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    joining = ("join", LINK, "--relay-only", "--turn", "turn:t.example:3478", "--muted")
    code, err = finish(peermeet(*joining, env=windowless))
    assert code == 2 and "--turn and --relay-only work only with --headless" in err, err
    assert "--muted" not in err, err  # (the Join dialog takes that one)
    code, err = finish(peermeet("host", "--name", "x", "--seconds", "5", env=windowless))
    assert (
        code == 2 and "--seconds works only with --headless (a call without a window): add" in err
    ), err
    code, err = finish(peermeet("join", LINK, "--muted", env=windowless))
    assert code == 1 and "no desktop window can open here" in err, err  # (nothing extra)


def test_a_wrong_rendezvous_address_is_refused_as_an_option() -> None:
    # it was said after start as "bad link: …", of a link the host never gave
    code, err = finish(peermeet("host", "--headless", "--name", "x", "--rendezvous", "ftp://x"))
    assert code == 2 and "argument --rendezvous: A rendezvous address starts with" in err, err
    assert "bad link" not in err, err


def test_a_host_bound_to_colon_colon_takes_ipv4_too() -> None:
    # one "::" socket is IPv6 only: the host's own app, following its IPv4 link, was refused
    # ("nothing is answering at 192.168.…", exit 3), and so was every IPv4 guest
    host = peermeet(
        "host", "--headless", "--name", "both", "--bind", "::", "--no-announce", *MEDIA,
        "--seconds", "2",
    )  # fmt: skip
    link = first_line(host)
    code, err = finish(host)
    assert code == 0 and "room “both” joined" in err, (link, err)


def test_an_outside_rendezvous_that_cannot_be_reached_is_said_as_the_hosts_option() -> None:
    # it said the guest's words, "Cannot find the meeting's server garbage.invalid:443 …
    # Check the link", of a link the host never gave
    code, err = finish(
        peermeet("host", "--headless", "--name", "x", "--rendezvous", "garbage.invalid")
    )
    assert code == 3 and "Traceback" not in err, err
    said = err.strip().splitlines()[-1]
    # a name not found (RFC 6761: .invalid never resolves, nothing leaves the machine): it
    # said "… and that the server runs", of a server the name did not even lead to
    assert said.startswith(
        "peermeet: Cannot find the rendezvous server garbage.invalid:443 (host name not found)."
    ), said
    assert "Check the spelling of --rendezvous garbage.invalid," in said, said
    assert "DNS" in said and "server runs" not in said and "link" not in said, said
    # (nothing listens on port 9 here: refused at once)
    code, err = finish(
        peermeet("host", "--headless", "--name", "x", "--rendezvous", "peermeet://127.0.0.1:9")
    )
    said = err.strip().splitlines()[-1]
    assert code == 3 and "Cannot reach the rendezvous server at 127.0.0.1:9 (" in said, said
    assert "Check --rendezvous peermeet://127.0.0.1:9, and that the server runs" in said, said
    assert "PeerMeet is still" not in said and "spelling" not in said, said
