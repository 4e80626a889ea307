"""PeerMeet's JSON files: atomic owner-only writes that leave nothing behind when they fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.jsonfile import set_aside, write_json
from app.net import roomstate
from app.net.rooms import Rooms


def test_a_write_is_owner_only_and_a_failed_one_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    write_json(path, {"a": "é"})
    assert json.loads(path.read_text("utf-8")) == {"a": "é"}
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(OSError, match="cannot write"):
        write_json(path, {"a": "\ud800"})  # a lone surrogate cannot be UTF-8
    assert json.loads(path.read_text("utf-8")) == {"a": "é"}
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]  # no temp file left


def test_a_room_state_with_a_lone_surrogate_is_set_aside(tmp_path: Path) -> None:
    """An older server kept such a hint (escaped, as json.dump does): it is damage, and the
    server starts without it rather than failing at its first save."""
    path = tmp_path / "rooms.json"
    path.write_text(
        '{"version": 1, "rooms": [["r1", "team\\ud800", 8, 1e12, "tok"]], "tombstones": []}'
    )
    rooms = Rooms()
    assert roomstate.load(rooms, path) == 0 and len(rooms) == 0
    assert (tmp_path / "rooms.json.bad").exists()
    roomstate.save(rooms, path)  # and saving works


def test_a_damaged_file_kept_aside_stays_owner_only(tmp_path: Path) -> None:
    """Meetings hold links with their secrets and owner tokens: a copy of a damaged one must
    not become readable by others (shutil.copyfile used the umask: 0644)."""
    data = tmp_path / "user" / "data"
    path = data / "meetings.json"
    write_json(path, {"meetings": ["peermeet://h:1/r#k=secret"]})
    assert data.stat().st_mode & 0o777 == 0o700  # (a new data folder: this user's only)
    set_aside(path, "partly damaged", copy=True)
    bad = data / "meetings.json.bad"
    assert bad.read_text() == path.read_text() and bad.stat().st_mode & 0o777 == 0o600
    set_aside(path, "damaged again", copy=True)  # an earlier copy is kept, not overwritten
    assert (data / "meetings.json.bad2").stat().st_mode & 0o777 == 0o600
