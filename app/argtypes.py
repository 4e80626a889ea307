"""argparse pieces shared by the command lines: what a number must be, said in words, and the
examples and exit statuses at the end of ``--help``."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from app.errors import LinkError
from app.meeting.links import parse_rendezvous, slugify
from app.net.rooms import MAX_LIFETIME_S, MIN_LIFETIME_S

#: keeps the line breaks of an epilog (the examples, one a line)
RawHelp = argparse.RawDescriptionHelpFormatter


def epilog(examples: Sequence[str], exits: str) -> str:
    """The end of a ``--help``: the examples, one a line (a line in brackets says something
    about the one above), then what the exit statuses mean."""
    commands = [line for line in examples if not line.startswith("(")]
    heading = "example:" if len(commands) == 1 else "examples:"
    return "\n".join((heading, *(f"  {line}" for line in examples), "", exits))


def positive(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is too small: give at least 1")
    return value


def rendezvous_address(text: str) -> str:
    """argparse type: an outside rendezvous (https://meet.example, peermeet://host:port), kept
    as typed (a wrong one was said after start, as a "bad link" the user never gave)."""
    try:
        parse_rendezvous(text)
    except LinkError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def meeting_name(text: str) -> str:
    """argparse type: a meeting name that makes a room name (kept as typed: it is the title)."""
    try:
        slugify(text)
    except LinkError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def port(text: str) -> int:
    """argparse type: a TCP port, 0 for any free one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port: give 1..65535 (0: any free one)")
    return value


def seconds(text: str) -> float:
    """argparse type: a time in seconds, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a time: give more than 0 seconds")
    return value


def out_file(text: str) -> str:
    """argparse type: a file to write: not empty, not a folder, in a folder that exists (said at
    the start, not after a call or at the first save)."""
    path = Path(text).expanduser()
    if not text.strip():
        raise argparse.ArgumentTypeError("give a file name")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file in it")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {path.parent} does not exist")
    return str(path)


def writable_file(text: str) -> str:
    """argparse type: an :func:`out_file` this user may create or replace, tried at the start
    (a folder it may not write in, /proc or a read-only disk would be found only after the call)."""
    name = out_file(text)
    try:
        handle, probe = tempfile.mkstemp(prefix=".peermeet-probe-", dir=Path(name).parent)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise argparse.ArgumentTypeError(
            f"cannot write in the folder {Path(name).parent} ({why}): give a file in a folder "
            "you may write to"
        ) from None
    os.close(handle)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return name


def ip_address(text: str) -> str:
    """argparse type: an IP address, as the server sees a client's (::1, not 0:0:0:0:0:0:0:1)."""
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address: give the address connections come from, "
            "like 127.0.0.1 or 10.0.0.5 (not a host name)"
        ) from None


_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def host_name(text: str) -> str:
    """argparse type: a host name (meet.example.org) or an IP address, to put in a link."""
    name = text.strip().strip("[]")
    with contextlib.suppress(ValueError):
        return str(ipaddress.ip_address(name))
    labels = name.rstrip(".").split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a host name or an IP address: give one like meet.example.org "
            "or 192.168.1.20"
        )
    return name


MAX_SIDE = 4096  # px: the largest picture side we capture or send


def video_size(text: str) -> tuple[int, int]:
    """argparse type: WIDTHxHEIGHT, even, from 160x120 to 4096x4096."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must look like 640x480, not {text!r}") from None
    if not (160 <= width <= MAX_SIDE and 120 <= height <= MAX_SIDE) or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(
            f"{width}x{height} is not a size we send: give even sides from 160x120 to "
            f"{MAX_SIDE}x{MAX_SIDE}"
        )
    return width, height


def parse_duration(text: str) -> int:
    """``"3h"``, ``"90m"``, ``"1h30m"``, ``"45s"`` or plain seconds -> seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    total, number = 0, ""
    for ch in text.strip().lower():
        if ch.isascii() and ch.isdigit():
            number += ch
        elif ch in units and number:
            total, number = total + int(number) * units[ch], ""
        else:
            raise ValueError(f"“{text}” is not a duration like 3h, 90m or 1h30m")
    total += int(number) if number else 0
    if total <= 0:
        raise ValueError(f"“{text}” is not a positive duration")
    return total


def duration(text: str) -> int:
    """argparse type: a room's lifetime (3h, 90m, 1h30m, 45s or seconds) in seconds."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not MIN_LIFETIME_S <= value <= MAX_LIFETIME_S:
        raise argparse.ArgumentTypeError(f"“{text}”: a room lives from 1 minute to 24 hours")
    return value
