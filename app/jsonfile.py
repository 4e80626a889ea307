"""JSON data files: read (a damaged one is set aside, never fatal) and written atomically.

Every file PeerMeet keeps (My meetings, settings, host-key pins, the rendezvous' room state)
goes through here. Writes are owner-only (0600: some hold share links, secrets or owner tokens)
and atomic (a temp file renamed over the old one), so a crash never leaves half a file. A file
that cannot be read or parsed is kept as ``<name>.bad`` (``.bad2``… if that exists) with a
warning in the log, and the caller starts without it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Unread:
    """A data file that could not be used: why, in a person's words, and what became of it."""

    why: str  # "not valid JSON", "a folder, not a file", "Permission denied"
    kept: Path | None  # where the file is now (``<name>.bad``…); None: left where it was


def read_json(path: Path) -> Any:
    """The parsed file, or None if it is missing or damaged (then it is set aside)."""
    return read_json_said(path)[0]


def read_json_said(path: Path, max_bytes: int | None = None) -> tuple[Any, Unread | None]:
    """The parsed file (None if missing or damaged), and for a damaged one what became of it:
    the callers say it to the person (a file named as kept that was not is lost twice).
    ``max_bytes``: a larger file is damaged too (read at each use, it would stall each one)."""
    try:
        size = path.stat().st_size if max_bytes is not None else 0
        if max_bytes is not None and size > max_bytes and path.is_file():
            kept = set_aside(path, f"too large ({size} bytes)")
            return None, Unread(f"too large: {size / 1e6:.1f} MB", kept)
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # (no file yet: nothing to set aside)
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        if path.is_file():  # (a folder or a device named by mistake is left as it is)
            why = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else _said(exc)
            return None, Unread(why, set_aside(path, f"unreadable ({exc})"))
        log.warning("%s is not a file (%s): it is left as it is", path, exc)
        return None, Unread("a folder, not a file" if path.is_dir() else "not a file", None)
    try:
        data = json.loads(text)
    except ValueError as exc:
        data, why, said = None, f"not valid JSON ({exc})", "not valid JSON"
    except RecursionError:
        data, why, said = None, "not valid JSON (nested too deeply)", "not valid JSON"
    else:
        why = said = "empty (null)"
    if data is None:
        return None, Unread(said, set_aside(path, why))
    return data, None


def _said(exc: OSError) -> str:
    return exc.strerror or str(exc)


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def set_aside(path: Path, why: str, *, copy: bool = False) -> Path | None:
    """Keep a damaged file as ``<name>.bad`` for the curious, and say so in the log; where it
    is kept now, or None if it could not be (then it is left as it was)."""
    bad = path.with_name(path.name + ".bad")
    n = 1
    while bad.exists():  # keep the earlier ones: each may hold what the next one lost
        n += 1
        bad = path.with_name(f"{path.name}.bad{n}")
    try:
        if copy:  # readable by this user only, as the file was (it may hold links, tokens)
            with path.open("rb") as src, os.fdopen(os.open(bad, _NEW, 0o600), "wb") as dst:
                try:
                    shutil.copyfileobj(src, dst)
                    dst.flush()
                except OSError:  # (a full disk: half a copy is no copy, and is not said one)
                    bad.unlink(missing_ok=True)
                    raise
        else:
            os.replace(path, bad)
    except OSError as exc:
        log.warning("%s is %s and could not be moved aside: %s", path, why, exc)
        return None
    then = "kept what could be read" if copy else "started afresh"
    log.warning("%s is %s; saved it as %s and %s", path, why, bad, then)
    return bad


def what_to_check(path: Path) -> str:
    """What to do when writing ``path`` failed, in a person's words (one sentence)."""
    if path.is_dir():  # (os.replace onto a folder: "Is a directory", however free the disk)
        return f"the {path.name} there is a folder, not a file; move it away"
    return "check that this folder is yours and not full"


def write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    """Write atomically, readable by this user only; OSError if that failed (the old file is
    then untouched, and no temp file is left). ``compact``: no indentation (large files nobody
    reads by hand). The temp file is this writer's own: two processes saving the same file
    (the app and the CLI share the pins) never write into one temp file."""
    try:  # (json.dumps: json.dump to a file takes the pure-Python encoder, 7x slower)
        if compact:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        else:
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        raw = text.encode()
    except (ValueError, TypeError) as exc:  # (UnicodeEncodeError: a lone surrogate)
        raise OSError(f"cannot write {path.name}: {exc}") from None
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # (this user's data only)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:  # (mkstemp makes it 0600: this user only)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
