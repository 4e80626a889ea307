"""The user's settings (name, devices, STUN/TURN servers), persisted as JSON. Qt-free.

Device ids are opaque strings chosen in the settings dialog ("" means the system default):
a camera is its device path (``/dev/video0``), microphone and speaker are QtMultimedia ids.
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import EngineConfig, IceServer
from app.errors import StorageError
from app.jsonfile import Unread, read_json_said, set_aside, what_to_check, write_json
from app.meeting.store import data_dir
from app.net.iceservers import check_url

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"
#: aiortc uses only the first STUN and the first TURN server; a few spares are plenty
MAX_ICE_SERVERS = 20
MAX_WINDOWS, MAX_GEOMETRY = 8, 512  # windows remembered; characters of one saved geometry
#: a settings file is a few kB; it is read at each use, so a huge one stalled each (3 s a time
#: at 90 MB): beyond this it is damage, set aside
MAX_FILE_BYTES = 1_000_000
TEXT_SIZE_RANGE = (100, 200)  # per cent of the design's text size (Settings offers 100..150)


DESIGN_PT = 10.0  # the app's body text; a system font larger than this makes all of it larger


def text_scale(percent: int, system_pt: float) -> float:
    """How much larger than designed the app draws text: the ``percent`` picked in Settings,
    times how much the system's font (``system_pt``, e.g. 12 pt set in the desktop's settings)
    is larger than the design's 10 pt; never smaller than designed."""
    return percent / 100 * max(1.0, min(system_pt, 3 * DESIGN_PT) / DESIGN_PT)


def default_name() -> str:
    try:
        return getpass.getuser().capitalize()[:64] or "Guest"
    except (OSError, KeyError):
        return "Guest"


def parse_ice_server(urls: str, username: str = "", credential: str = "") -> IceServer:
    """A STUN/TURN server from what a person typed; ValueError says what is wrong."""
    urls = check_url(urls)  # as aiortc can use it, or ValueError
    if not urls.startswith("turn"):
        return IceServer(urls)  # (STUN takes no user name or password: none is kept)
    if not (username and credential):
        raise ValueError(f"The TURN server {urls} needs a user name and a password.")
    return IceServer(urls, username, credential)


@dataclass
class Settings:
    display_name: str = field(default_factory=default_name)
    camera: str = ""
    microphone: str = ""
    speaker: str = ""
    ice_servers: list[IceServer] = field(default_factory=list)
    #: privacy: media only through TURN, so peers never learn this computer's addresses
    relay_only: bool = False
    #: how the join dialog's "Join with" boxes start: as the person last joined
    join_mic: bool = True
    join_camera: bool = True
    #: a short sound in a call when someone joins, leaves, knocks or writes (app.media.cues)
    sounds: bool = True
    #: text size in per cent of the app's design (over a larger system font; see app.ui.theme)
    text_size: int = 100
    #: where each window was last (name -> Qt's saved geometry, base64), to open it there again
    windows: dict[str, str] = field(default_factory=dict)
    #: keys this version does not know (a newer one wrote them): written back as they were
    unknown: dict[str, Any] = field(default_factory=dict, repr=False)
    #: STUN/TURN entries of the file that could not be read: written back as they were, until
    #: the person saves the Settings dialog (which says so) without them
    unreadable: list[Any] = field(default_factory=list, repr=False)
    #: settings of the file that could not be read (so at their defaults), for saying so
    ignored: list[str] = field(default_factory=list, repr=False, compare=False)
    #: what could not be read, for the log (SettingsStore.load logs each once)
    problems: list[str] = field(default_factory=list, repr=False, compare=False)

    def ignore(self, key: str, why: str) -> None:
        """The file's ``key`` cannot be read (``why``): it stays at its default (logged, and
        said by SettingsStore.load)."""
        self.problems.append(f"ignoring the setting {key} ({why})")
        self.ignored.append(key)

    def engine_config(self, **overrides: Any) -> EngineConfig:
        name = self.display_name.strip()[:64] or "Guest"
        overrides.setdefault("relay_only", self.relay_only)
        return EngineConfig(display_name=name, ice_servers=tuple(self.ice_servers), **overrides)

    def to_dict(self) -> dict[str, Any]:
        return self.unknown | {
            "display_name": self.display_name,
            "camera": self.camera,
            "microphone": self.microphone,
            "speaker": self.speaker,
            "ice_servers": [
                {"urls": s.urls, "username": s.username or "", "credential": s.credential or ""}
                for s in self.ice_servers
            ]
            + self.unreadable,
            "relay_only": self.relay_only,
            "join_mic": self.join_mic,
            "join_camera": self.join_camera,
            "sounds": self.sounds,
            "text_size": self.text_size,
            "windows": dict(self.windows),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Settings:
        """Whatever is valid in ``data``; anything else keeps its default (with a warning).
        STUN/TURN servers that cannot be read are kept in ``unreadable``."""
        settings = cls()
        if not isinstance(data, dict):
            raise ValueError("settings must be a JSON object")
        for key in ("display_name", "camera", "microphone", "speaker"):
            value = data.get(key)
            if isinstance(value, str):
                setattr(settings, key, value[:256])
            elif value is not None:
                settings.ignore(key, "not text")
        for key in ("relay_only", "join_mic", "join_camera", "sounds"):
            value = data.get(key, getattr(settings, key))
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                value = value.strip().lower() == "true"  # (as a person may type it)
            if isinstance(value, bool):
                setattr(settings, key, value)
            else:
                settings.ignore(key, "not true or false")
        size = data.get("text_size", settings.text_size)
        low, high = TEXT_SIZE_RANGE
        if isinstance(size, int) and not isinstance(size, bool) and low <= size <= high:
            settings.text_size = size
        else:
            settings.ignore("text_size", f"not {low} to {high}")
        windows = data.get("windows", {})
        if isinstance(windows, dict):
            settings.windows = {
                k: v
                for k, v in list(windows.items())[:MAX_WINDOWS]
                if isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_GEOMETRY
            }
        known = set(settings.to_dict())
        settings.unknown = {k: v for k, v in data.items() if k not in known}
        servers = data.get("ice_servers", [])
        servers = [servers] if isinstance(servers, dict) else servers  # (one, not in a list)
        if not isinstance(servers, list):
            settings.ignore("ice_servers", "not a list")
            servers = []
        if len(servers) > MAX_ICE_SERVERS:
            settings.ignore("ice_servers", f"more than {MAX_ICE_SERVERS}")
        for item in servers[:MAX_ICE_SERVERS]:
            try:
                if not isinstance(item, dict):
                    raise ValueError(f"a {type(item).__name__} is not a server")
                text = {k: item.get(k) or "" for k in ("urls", "username", "credential")}
                if not all(isinstance(v, str) for v in text.values()):
                    # (named by its address only: the entry may hold a TURN password)
                    raise ValueError(f"{str(item.get('urls'))[:100]!r} has non-text fields")
                settings.ice_servers.append(parse_ice_server(**text))
            except ValueError as exc:
                settings.problems.append(f"ignoring a STUN/TURN server in the settings: {exc}")
                settings.unreadable.append(item)
        return settings


#: settings as the Settings dialog names them
_WORDS = {
    "display_name": "your name",
    "relay_only": "hide my IP address (relay only)",
    "ice_servers": "connection helpers (STUN/TURN)",
    "join_mic": "join with microphone",
    "join_camera": "join with camera",
    "sounds": "sounds in a call",
    "text_size": "text size",
}


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:]


class SettingsStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or data_dir() / SETTINGS_FILE
        #: what went wrong reading the file, for the Settings dialog to say ("" if nothing);
        #: it stays until settings are saved again (a damaged file is set aside at once)
        self.problem = ""
        #: the copy kept of a file with unreadable settings (once; "" if it could not be)
        self._kept_aside: str | None = None
        self._logged: set[str] = set()  # settings are read at each use: log a problem once

    def load(self) -> Settings:
        data, unread = read_json_said(self.path, MAX_FILE_BYTES)
        if data is None:
            self.problem = self._damaged(unread) if unread is not None else self.problem
            return Settings()
        try:
            settings = Settings.from_dict(data)
        except ValueError as exc:
            kept = set_aside(self.path, f"not a PeerMeet settings file ({exc})")
            self.problem = self._damaged(Unread("not PeerMeet settings", kept))
            return Settings()
        for problem in settings.problems:
            if problem not in self._logged:
                self._logged.add(problem)
                log.warning("%s: %s", self.path, problem)
        notes = [self._unreadable(settings.ignored)] if settings.ignored else []
        if settings.unreadable:
            shown = [str(i.get("urls") if isinstance(i, dict) else i) for i in settings.unreadable]
            notes.append(
                f"These connection helpers in your settings could not be read and are not "
                f"used: {', '.join(shown)[:300]}. Add them again below, then save."
            )
        if notes:  # (else what was said stays: it goes when the person saves Settings)
            self.problem = " ".join(notes)
        return settings

    def _damaged(self, unread: Unread) -> str:
        """What to say of a settings file that could not be used at all: where it is now."""
        if unread.kept is not None:
            return (
                f"Your settings file could not be used ({unread.why}), so PeerMeet started from "
                f"the defaults (the file is kept beside it as {unread.kept.name}). Check your "
                "name, devices and connection helpers, then save."
            )
        return (  # (a folder where the file goes, say: nothing was copied, and saving fails)
            f"PeerMeet could not read your settings file {self.path} ({unread.why}), so it "
            "started from the defaults and left it as it is. Move it away (or make it "
            "readable and start PeerMeet again), then check your settings here and save."
        )

    def _unreadable(self, keys: list[str]) -> str:
        """Some settings of the file could not be read: keep the file as it was (once) and
        say which ones are at their defaults now (a privacy setting may be among them)."""
        if self._kept_aside is None:
            copy = set_aside(self.path, f"partly unreadable ({', '.join(keys)})", copy=True)
            self._kept_aside = copy.name if copy is not None else ""
        words = ", ".join(dict.fromkeys(_WORDS.get(key, key) for key in keys))
        kept = (
            f"The file as it was is kept beside it ({self._kept_aside})."
            if self._kept_aside
            else "A copy of the file as it was could not be kept (see the log)."
        )
        return (
            f"Some of your settings could not be read, so these are at their defaults now: "
            f"{words}. {kept} Check them below, then save."
        )

    def save(self, settings: Settings, *, reviewed: bool = False) -> None:
        """Write ``settings``; StorageError says why not (the old file is left as it was).
        ``reviewed``: the person saw them all (the Settings dialog): what it said is done."""
        try:
            write_json(self.path, settings.to_dict())
            self.problem = "" if reviewed else self.problem
        except OSError as exc:
            log.warning("could not save settings to %s: %s", self.path, exc)
            raise StorageError(
                f"Could not save your settings to {self.path}: {exc.strerror or exc}. "
                f"{_sentence(what_to_check(self.path))}, then save again."
            ) from None
