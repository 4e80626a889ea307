"""My meetings: the rooms this user hosts, kept as JSON in the user's data folder.

The file holds share links (with their secrets) and owner tokens, so it is written owner-only
(0600) and atomically (temp file + rename). A damaged file never stops the app: it is moved
aside as ``<name>.bad`` with a warning and the app starts with what it could read.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import platformdirs

from app.errors import PeerMeetError
from app.jsonfile import Unread, read_json_said, set_aside, what_to_check, write_json
from app.meeting.links import parse_link, parse_rendezvous

log = logging.getLogger(__name__)

APP_DIR = "peermeet"
MEETINGS_FILE = "meetings.json"
#: ended meetings stay listed this long, then they are forgotten
KEEP_ENDED_S = 7 * 24 * 3600

LIVE, ENDED, EXPIRED, UNAVAILABLE = "", "ended", "expired", "unavailable"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_DIR, appauthor=False))


@dataclass
class MeetingRecord:
    """One meeting this user started."""

    link: str  # the share link; unique, so it is the record's key
    title: str  # the name as the host typed it
    room: str  # the room name in the link
    size: str  # small | mid | large
    created_at: float
    expires_at: float
    rendezvous: str = ""  # "" = this computer, else the outside rendezvous address
    port: int = 0  # the embedded rendezvous' port (reopened on the same one)
    ipv6: bool = False
    owner_token: str = ""
    state: str = LIVE  # LIVE, ENDED, EXPIRED or UNAVAILABLE
    note: str = ""  # what a person should know, e.g. why it could not be reopened
    lan: bool = True  # also shown on this network (LAN discovery, knock to join)
    #: an outside meeting its server lost and someone else opened again: the owner token is
    #: theirs now, so this app can no longer end or extend it (app.meeting.host_watch)
    taken: bool = False

    @property
    def embedded(self) -> bool:
        return not self.rendezvous

    def is_live(self, now: float) -> bool:
        return self.state == LIVE and self.expires_at > now

    def time_left(self, now: float) -> float:
        return max(0.0, self.expires_at - now) if self.state == LIVE else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> MeetingRecord:
        """Raise ValueError unless ``data`` is a well-formed record (unknown keys are ignored)."""
        if not isinstance(data, dict):
            raise ValueError("a meeting must be a JSON object")
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value, kind = data[f.name], str(f.type)
            ok = {
                "str": isinstance(value, str),
                "float": isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value),  # JSON's Infinity and NaN are no times
                "int": isinstance(value, int) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
            }[kind]
            if not ok:
                raise ValueError(f"{f.name} should be a {kind}, not {value!r}")
            values[f.name] = float(value) if kind == "float" else value
        try:
            record = cls(**values)
        except TypeError as exc:
            raise ValueError(f"a meeting record is incomplete: {exc}") from None
        try:
            parse_link(record.link)
        except PeerMeetError as exc:
            raise ValueError(f"its link is damaged: {exc}") from None
        try:  # (before b6a3b48 a meeting link pasted as the server was kept whole, key and all)
            if record.rendezvous:
                record.rendezvous = parse_rendezvous(record.rendezvous).server
        except PeerMeetError:
            pass  # (an address this app no longer takes: shown as it was)
        return record


class MeetingStore:
    """The list behind My meetings. Every change is saved at once."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / MEETINGS_FILE
        #: what a person should know about this file ("" when all is well)
        self.problem = ""
        self._records: list[MeetingRecord] = self._load()
        if self._scrubbed:  # (a key kept where it did not belong: not left in the file)
            self.save()

    @property
    def records(self) -> list[MeetingRecord]:
        """Newest first."""
        return sorted(self._records, key=lambda r: r.created_at, reverse=True)

    def find(self, link: str) -> MeetingRecord | None:
        return next((r for r in self._records if r.link == link), None)

    def put(self, record: MeetingRecord) -> None:
        """Add a record, or replace the one with the same link."""
        self._records = [r for r in self._records if r.link != record.link] + [record]
        self.save()

    def remove(self, link: str) -> None:
        self._records = [r for r in self._records if r.link != link]
        self.save()

    def prune(self, now: float, keep_s: float = KEEP_ENDED_S) -> None:
        """Forget meetings that finished more than ``keep_s`` ago."""
        kept = [r for r in self._records if r.is_live(now) or r.expires_at > now - keep_s]
        if len(kept) != len(self._records):
            self._records = kept
            self.save()

    def save(self) -> None:
        try:
            write_json(self.path, {"version": 1, "meetings": [r.to_dict() for r in self._records]})
        except OSError as exc:
            log.warning("could not save My meetings to %s: %s", self.path, exc)
            self.problem = (
                f"Could not save My meetings to {self.path} ({exc.strerror or exc}). The "
                "meetings work while PeerMeet runs, but will be gone after a restart: "
                f"{what_to_check(self.path)}."
            )
        else:
            self.problem = "" if self.problem.startswith("Could not save") else self.problem

    def _load(self) -> list[MeetingRecord]:
        self._scrubbed = False  # a record's server address was cut down to the server
        data, unread = read_json_said(self.path)
        if data is None:
            self.problem = self._damaged(unread) if unread is not None else ""
            return []
        if not isinstance(data, dict) or not isinstance(data.get("meetings"), list):
            kept = set_aside(self.path, "not a PeerMeet meetings file")
            self.problem = self._damaged(Unread("not a PeerMeet meetings file", kept))
            return []
        records: list[MeetingRecord] = []
        for item in data["meetings"]:
            try:
                records.append(MeetingRecord.from_dict(item))
            except ValueError as exc:
                log.warning("skipping a damaged meeting in %s: %s", self.path, exc)
            else:
                self._scrubbed |= records[-1].rendezvous != item.get("rendezvous", "")
        lost = len(data["meetings"]) - len(records)
        if lost:
            copy = set_aside(self.path, "partly damaged", copy=True)
            said = f"a copy of the file is kept beside it, {copy.name}" if copy else ""
            self.problem = (
                f"{lost} of the meetings in {self.path} could not be read and are not listed "
                f"({said or 'no copy of the file could be kept: see the log'})."
            )
        return records

    def _damaged(self, unread: Unread) -> str:
        """What to say of a meetings file that could not be used at all: where it is now."""
        if unread.kept is not None:
            return (
                f"{self.path} could not be used ({unread.why}), so My meetings starts empty. "
                f"The file is kept beside it as {unread.kept.name}: meetings you started "
                "before may be lost; start a new one if needed."
            )
        return (  # (a folder where the file goes, say: nothing was copied, and saving fails)
            f"{self.path} could not be read ({unread.why}), so My meetings starts empty; it "
            "is left as it is. Move it away (or make it readable and start PeerMeet "
            "again), or the meetings you start now will not be kept."
        )
