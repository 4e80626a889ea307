"""My meetings and settings persistence: round trips, and garbage never crashes the app."""

from __future__ import annotations

import dataclasses
import json
import logging
import stat
from pathlib import Path

import pytest

from app.config import IceServer
from app.errors import StorageError
from app.meeting.settings import Settings, SettingsStore, parse_ice_server, text_scale
from app.meeting.store import ENDED, LIVE, MeetingRecord, MeetingStore

LINK = "peermeet://127.0.0.1:8765/team-sync#k=AAAAAAAAAAAAAAAAAAAAAA"
LINK_B = LINK.replace("k=A", "k=B")  # another meeting's link


def record(link: str = LINK, created: float = 1000.0, **kw: object) -> MeetingRecord:
    values: dict[str, object] = dict(
        link=link, title="Team sync", room="team-sync", size="small",
        created_at=created, expires_at=created + 3600, port=8765, owner_token="tok",
    )  # fmt: skip
    values.update(kw)
    return MeetingRecord(**values)  # type: ignore[arg-type]


def test_records_round_trip_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "meetings.json"
    store = MeetingStore(path)
    store.put(record())
    store.put(record(LINK_B, created=2000.0, rendezvous="https://meet.example"))
    again = MeetingStore(path)
    assert [r.created_at for r in again.records] == [2000.0, 1000.0]
    assert again.find(LINK) == record()
    assert not again.records[0].embedded
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # links hold secrets


def test_put_replaces_and_remove_forgets(tmp_path: Path) -> None:
    store = MeetingStore(tmp_path / "m.json")
    store.put(record())
    store.put(record(state=ENDED))
    assert len(store.records) == 1 and store.records[0].state == ENDED
    store.remove(LINK)
    assert MeetingStore(tmp_path / "m.json").records == []


def test_live_and_time_left() -> None:
    r = record()
    assert r.is_live(1000.0) and r.time_left(1000.0) == 3600
    assert not r.is_live(4600.0) and r.time_left(5000.0) == 0
    r.state = ENDED
    assert not r.is_live(1000.0) and r.time_left(1000.0) == 0


def test_prune_forgets_old_finished_meetings(tmp_path: Path) -> None:
    store = MeetingStore(tmp_path / "m.json")
    store.put(record())
    store.put(record(LINK_B, created=900_000.0))
    store.prune(now=1_000_000.0, keep_s=7 * 86400)
    assert [r.link for r in store.records] == [LINK_B]


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"meetings": "no"}', b"null"],
)
def test_corrupt_file_is_moved_aside(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "meetings.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        store = MeetingStore(path)
    assert store.records == []
    assert (tmp_path / "meetings.json.bad").read_bytes() == content
    assert "meetings.json.bad" in caplog.text
    store.put(record())  # and the app carries on
    assert MeetingStore(path).records == [record()]


def test_damaged_entries_are_skipped_and_a_copy_kept(tmp_path: Path) -> None:
    path = tmp_path / "meetings.json"
    good = record().to_dict()
    bad = [{"link": 5}, "text", {**good, "link": "x", "port": "eighty"}, {"title": "no link"}]
    path.write_text(json.dumps({"version": 1, "meetings": [good, *bad]}))
    store = MeetingStore(path)
    assert store.records == [record()]
    assert json.loads((tmp_path / "meetings.json.bad").read_text())["meetings"][2] == "text"


def test_unknown_keys_are_ignored() -> None:
    assert MeetingRecord.from_dict({**record().to_dict(), "future": 1}) == record()
    assert record().state == LIVE


def test_settings_round_trip_and_engine_config(tmp_path: Path) -> None:
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load().display_name  # a default name, never empty
    settings = Settings(
        display_name="  Ada  ",
        camera="/dev/video2",
        microphone="alsa_input.usb",
        ice_servers=[IceServer("stun:stun.example.org:3478"), IceServer("turn:t:3478", "u", "p")],
        join_mic=False,
        text_size=130,
    )
    store.save(settings)
    loaded = store.load()
    assert loaded == settings
    config = loaded.engine_config(connect_timeout_s=5.0)
    assert config.display_name == "Ada" and config.connect_timeout_s == 5.0
    assert config.ice_servers[1] == IceServer("turn:t:3478", "u", "p")


def test_settings_survive_garbage(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("][")
    store = SettingsStore(path)
    assert store.load() == Settings()
    assert (tmp_path / "settings.json.bad").read_text() == "]["
    assert "(not valid JSON)" in store.problem and "as settings.json.bad)" in store.problem
    assert store.load() == Settings() and "not valid JSON" in store.problem  # said until saved
    store.save(Settings(), reviewed=True)  # (the Settings dialog's save)
    assert store.problem == "" and SettingsStore(path).problem == ""
    path.write_text('"a string"')
    assert SettingsStore(path).load() == Settings()
    path.write_text("[" * 100_000 + "]" * 100_000)  # too deep for json: set aside, not a crash
    assert SettingsStore(path).load() == Settings()
    kept = sorted(p.name for p in tmp_path.glob("settings.json.bad*"))
    assert kept == ["settings.json.bad", "settings.json.bad2", "settings.json.bad3"]  # none lost
    assert (tmp_path / "settings.json.bad3").read_text().startswith("[[[")
    mixed = {"display_name": 7, "camera": "/dev/video0", "ice_servers": [{"urls": "http://x"}, 3]}
    mixed |= {"join_mic": "no", "join_camera": False, "relay_only": 1, "text_size": True}
    path.write_text(json.dumps(mixed))
    store = SettingsStore(path)
    loaded = store.load()
    assert loaded.camera == "/dev/video0" and loaded.ice_servers == []
    assert "http://x" in store.problem and "could not be read" in store.problem
    loaded.camera = "/dev/video1"  # a save from elsewhere (a device picked in a call) ...
    store.save(loaded)
    assert "http://x" in store.problem  # ... keeps the notice
    again = SettingsStore(path)
    assert again.load().camera == "/dev/video1" and "http://x" in again.problem  # and entries
    again.save(dataclasses.replace(again.load(), unreadable=[]), reviewed=True)
    assert SettingsStore(path).load().unreadable == [] and again.problem == ""
    assert (loaded.join_mic, loaded.join_camera, loaded.relay_only) == (True, False, False)
    assert loaded.display_name == Settings().display_name and loaded.text_size == 100
    for size, kept in ((150, 150), (200, 200), (30, 100), (999, 100), ("large", 100), (1.5, 100)):
        path.write_text(json.dumps({"text_size": size}))
        assert SettingsStore(path).load().text_size == kept


def test_text_grows_with_the_choice_and_a_larger_system_font_never_shrinks() -> None:
    assert text_scale(100, 9.0) == 1.0  # (a 9 pt desktop font: the design's size)
    assert text_scale(100, 12.0) == pytest.approx(1.2)
    assert text_scale(130, 10.0) == pytest.approx(1.3)
    assert text_scale(150, 12.0) == pytest.approx(1.8)
    assert text_scale(100, 400.0) == pytest.approx(3.0)  # a silly system size is capped


def test_parse_ice_server_explains_mistakes() -> None:
    assert parse_ice_server(" stun:s.example:3478 ") == IceServer("stun:s.example:3478")
    # a user name typed for a STUN server is not kept (nor shown in the list) to no purpose
    assert parse_ice_server("stun:s.example", "ada", "pw") == IceServer("stun:s.example")
    with pytest.raises(ValueError, match=r"stun:stun\.example\.org"):
        parse_ice_server("s.example:3478")
    with pytest.raises(ValueError, match="user name and a password"):
        parse_ice_server("turn:t.example:3478")
    with pytest.raises(ValueError):
        parse_ice_server("stun:")
    assert parse_ice_server("STUN:s.example") == IceServer("stun:s.example")  # as aiortc wants
    for unusable in ("stun:s.example:notaport", "stun:[::1]:3478", "stun:a b", "stuns:s.example"):
        with pytest.raises(ValueError, match="is not a STUN/TURN address"):
            parse_ice_server(unusable)  # each one would have failed every call


def test_unusable_servers_in_an_old_settings_file_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    servers = [{"urls": u} for u in ("stun:ok.example", "stun:bad.example:x", "STUN:up.example")]
    path.write_text(json.dumps({"ice_servers": servers}))
    loaded = SettingsStore(path).load()
    assert [s.urls for s in loaded.ice_servers] == ["stun:ok.example", "stun:up.example"]


def test_settings_a_newer_version_wrote_survive_a_save_by_this_one(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"display_name": "Ada", "future_key": {"x": [1, 2]}}))
    store = SettingsStore(path)
    settings = store.load()
    settings.display_name = "Grace"
    store.save(settings)
    assert json.loads(path.read_text())["future_key"] == {"x": [1, 2]}
    assert store.load().display_name == "Grace"


def test_a_damaged_meetings_file_is_reported_and_infinite_times_are_damage(tmp_path: Path) -> None:
    path = tmp_path / "meetings.json"
    assert MeetingStore(path).problem == ""  # no file yet: nothing to say
    good = record().to_dict()
    path.write_text(json.dumps({"version": 1, "meetings": [good, {**good, "expires_at": 1e999}]}))
    store = MeetingStore(path)  # (1e999 is how Python writes Infinity back: float overflow)
    assert store.records == [record()]
    assert store.problem.startswith("1 of the meetings")
    path.write_text('{"version": 1, "meetings": [{"link": ')
    assert "could not be used (not valid JSON)" in MeetingStore(path).problem


def test_meetings_that_cannot_be_saved_are_reported(tmp_path: Path) -> None:
    (tmp_path / "peermeet").write_text("")  # a file where the folder should be
    store = MeetingStore(tmp_path / "peermeet" / "meetings.json")
    store.put(record())
    assert store.problem.startswith("Could not save My meetings")
    assert store.problem.endswith("check that this folder is yours and not full.")
    assert store.records == [record()]  # kept while the app runs


def test_a_folder_where_a_file_goes_is_named_when_saving_fails(tmp_path: Path) -> None:
    """Saving onto a folder fails however free the disk is: it is said, not "not full"."""
    (tmp_path / "meetings.json").mkdir()
    store = MeetingStore(tmp_path / "meetings.json")
    store.put(record())
    assert store.problem.endswith(
        "the meetings.json there is a folder, not a file; move it away."
    ), store.problem
    (tmp_path / "settings.json").mkdir()
    with pytest.raises(StorageError, match=r"The settings.json there is a folder, not a file; "):
        SettingsStore(tmp_path / "settings.json").save(Settings())


def test_a_damaged_server_entry_is_logged_without_its_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "settings.json"
    entry = {"urls": "turn:t.example:3478", "username": "u", "credential": ["hunter2-secret"]}
    path.write_text(json.dumps({"ice_servers": [entry, "turn:x:1?password=hunter2-secret"]}))
    store = SettingsStore(path)
    with caplog.at_level(logging.WARNING):
        loaded = store.load()
        store.load()  # (the app reads its settings at each use: logged once)
    assert loaded.ice_servers == [] and len(loaded.unreadable) == 2
    assert "turn:t.example:3478" in caplog.text and "hunter2" not in caplog.text
    assert caplog.text.count("turn:t.example:3478") == 1


def test_settings_typed_by_hand_are_read_as_meant_or_said_not_silently_dropped(
    tmp_path: Path,
) -> None:
    path = tmp_path / "settings.json"
    turn = {"urls": "turn:t.example:3478", "username": "u", "credential": "p"}
    path.write_text(json.dumps({"relay_only": "true", "ice_servers": turn}))  # (no list)
    store = SettingsStore(path)
    loaded = store.load()
    assert loaded.relay_only and [s.urls for s in loaded.ice_servers] == [turn["urls"]]
    assert store.problem == "" and not (tmp_path / "settings.json.bad").exists()
    path.write_text(json.dumps({"relay_only": 1, "join_mic": "no", "ice_servers": "turn:x"}))
    store = SettingsStore(path)
    loaded = store.load()
    assert not loaded.relay_only and loaded.join_mic  # defaults ...
    assert "hide my IP address" in store.problem and "connection helpers" in store.problem
    assert "join with microphone" in store.problem  # ... said, with the file kept as it was
    store.load()
    assert store.problem.count("could not be read") == 1  # (said once, however often read)
    assert json.loads((tmp_path / "settings.json.bad").read_text())["relay_only"] == 1
    store.save(loaded)  # (a window's place saved: not the person's review)
    store.load()
    assert "hide my IP address" in store.problem and len(list(tmp_path.glob("*.bad*"))) == 1
    store.save(loaded, reviewed=True)
    assert store.problem == ""


def test_a_meeting_link_kept_as_the_server_by_an_older_version_loses_its_key(
    tmp_path: Path,
) -> None:
    """Before b6a3b48 a meeting link pasted as the rendezvous was kept whole, and My meetings
    showed it, key and all ("via https://meet.example/standup#k=…"). Such a record is read as
    its server alone, and the file no longer holds that key."""
    path = tmp_path / "meetings.json"
    pasted = "https://meet.example:8443/standup#k=SSSSSSSSSSSSSSSSSSSSSS"
    old = record(LINK_B, rendezvous=pasted).to_dict()
    path.write_text(json.dumps({"version": 1, "meetings": [record().to_dict(), old]}))
    store = MeetingStore(path)
    assert store.find(LINK_B) is not None
    assert store.find(LINK_B).rendezvous == "https://meet.example:8443"  # type: ignore[union-attr]
    assert store.find(LINK) == record()  # (one on this computer stays as it was)
    assert "SSSS" not in path.read_text() and not store.problem
    assert MeetingStore(path).find(LINK_B) == store.find(LINK_B)


def test_what_is_said_of_a_damaged_file_names_where_it_is_really_kept(tmp_path: Path) -> None:
    """Both stores said "a copy is kept beside it (.bad)" whatever became of the file: a
    folder where the file goes is left as it is (no copy), and with an earlier .bad there the
    file is kept as .bad2 (the .bad named is another, older file)."""

    def said(path: Path) -> str:
        if path.name == "meetings.json":
            return MeetingStore(path).problem
        store = SettingsStore(path)
        store.load()
        return store.problem

    for name in ("settings.json", "meetings.json"):
        path = tmp_path / name
        path.mkdir()
        (path / "x").write_text("theirs")
        problem = said(path)
        assert "(a folder, not a file)" in problem and "left" in problem, problem
        assert ".bad" not in problem and not list(tmp_path.glob(f"{name}.bad*"))
        assert (path / "x").read_text() == "theirs"
        (path / "x").unlink()
        path.rmdir()
        (tmp_path / f"{name}.bad").write_text("an older one")
        path.write_text("{")
        problem = said(path)
        assert f"as {name}.bad2" in problem and f"{name}.bad " not in problem, problem
        assert (tmp_path / f"{name}.bad2").read_text() == "{"
        assert (tmp_path / f"{name}.bad").read_text() == "an older one"


def test_a_huge_settings_file_is_set_aside_not_read_at_each_use(tmp_path: Path) -> None:
    """Settings are read at each use (each dialog, each call): a 90 MB file (valid JSON) took
    3 s a read, so the app stalled seconds at each click. Now it is damage: kept as .bad,
    said, and the defaults are used."""
    path = tmp_path / "settings.json"
    windows = {str(i): "x" * 100 for i in range(12_000)}  # (1.3 MB)
    path.write_text(json.dumps({"display_name": "Ada", "windows": windows}))
    size = path.stat().st_size
    store = SettingsStore(path)
    assert store.load().display_name != "Ada" and not path.exists()
    assert "(too large: 1.3 MB)" in store.problem and "as settings.json.bad)" in store.problem
    assert (tmp_path / "settings.json.bad").stat().st_size == size  # kept whole
    store.save(Settings(display_name="Ada", windows={"main": "x" * 100}))
    assert SettingsStore(path).load().display_name == "Ada"  # what it writes it reads back
