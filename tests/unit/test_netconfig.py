"""The CLI's network wiring: adopting the rendezvous' TURN servers, and the frame timeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cliargs import build_parser
from app.config import EngineConfig, IceServer
from app.errors import OptionError, PeerMeetError
from app.meeting import events as ev
from app.meeting.netconfig import TURN_PASS_ENV, user_servers, with_turn
from app.meeting.timeline import FrameTimeline

OFFERED = IceServer("turn:rv.example:3478?transport=udp", "123:me", "cred")


class FakeClient:
    ice_servers = (OFFERED,)


def test_offered_turn_servers_come_after_the_users_own() -> None:
    mine = IceServer("turn:mine.example:3478", "u", "p")
    config = with_turn(EngineConfig(ice_servers=(mine,)), FakeClient())  # type: ignore[arg-type]
    assert config.ice_servers == (mine, OFFERED)
    assert with_turn(config, FakeClient()).ice_servers == config.ice_servers  # type: ignore[arg-type]


def test_relay_only_without_any_turn_server_says_what_to_add() -> None:
    with pytest.raises(PeerMeetError, match="--turn URL"):
        with_turn(EngineConfig(relay_only=True), None)
    assert with_turn(EngineConfig(relay_only=True), FakeClient()).relay_only  # type: ignore[arg-type]


def test_the_turn_password_comes_from_the_option_or_else_the_environment() -> None:
    turn = ["join", "x", "--turn", "turn:t.example:3478", "--turn-user", "u"]
    without = build_parser().parse_args(turn)
    typed = build_parser().parse_args([*turn, "--turn-pass", "typed"])
    (server,) = user_servers(without, {TURN_PASS_ENV: "from-env"})
    assert (server.username, server.credential) == ("u", "from-env")
    (server,) = user_servers(typed, {TURN_PASS_ENV: "from-env"})
    assert server.credential == "typed"  # (the option typed for this call wins)
    with pytest.raises(PeerMeetError, match="--turn-pass or PEERMEET_TURN_PASS"):
        user_servers(without, {})


def test_turn_credentials_without_a_turn_server_say_to_give_one() -> None:
    # they were dropped without a word, and the call went on with no TURN server
    args = build_parser().parse_args(["join", "x", "--turn-user", "u", "--turn-pass", "p"])
    with pytest.raises(OptionError, match="--turn-user and --turn-pass go with a TURN server: "):
        user_servers(args, {})
    args = build_parser().parse_args(["join", "x", "--turn-user", "u"])
    with pytest.raises(OptionError, match="--turn-user goes with a TURN server: give it with"):
        user_servers(args, {})
    assert user_servers(build_parser().parse_args(["join", "x"]), {TURN_PASS_ENV: "p"}) == ()


class FakeMedia:
    def __init__(self) -> None:
        self.video = 0

    def video_frames(self, peer_id: str) -> int:
        return self.video

    def audio_frames(self, peer_id: str) -> int:
        return 3 * self.video


class FakeSession:
    def __init__(self) -> None:
        self.media = FakeMedia()
        self.peers: dict[str, Any] = {"p1": object()}
        self.listeners: list[Any] = []

    def subscribe(self, listener: Any) -> None:
        self.listeners.append(listener)


def test_timeline_is_bounded_and_lands_in_the_stats_file(tmp_path: Path) -> None:
    session = FakeSession()
    now = [1000.0]
    timeline = FrameTimeline(session, max_rows=10, clock=lambda: now[0])  # type: ignore[arg-type]
    for _ in range(25):
        session.media.video += 1
        now[0] += 0.25
        timeline.sample()
    rows = timeline.frames["p1"]
    assert len(rows) <= 10 and rows[-1] == (1006.25, 25, 75) and rows[0][1] == 1
    session.listeners[0](ev.ConnectionChanged("p1", "connected"))
    session.listeners[0](ev.Notice("ignored"))
    stats = tmp_path / "stats.json"
    stats.write_text(json.dumps({"peers": {}}))
    timeline.merge_into(str(stats))
    data = json.loads(stats.read_text())
    assert data["timeline"]["events"] == [[1006.25, "ConnectionChanged", "p1", "connected"]]
    assert data["timeline"]["frames"]["p1"][-1] == [1006.25, 25, 75]


def test_how_many_others_are_said_in_words() -> None:
    from app.meeting.events import others_here

    assert [others_here(n) for n in (0, 1, 3)] == [
        "nobody else here yet",
        "1 other here",
        "3 others here",
    ]
