"""Room registry rules and the token bucket, driven by a fake clock (no I/O)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest

from app.errors import REFUSAL_TEXT, RoomRefused
from app.net.rooms import (
    CAPACITY,
    DEFAULT_LIFETIME_S,
    MAX_LIFETIME_S,
    TOMBSTONE_S,
    Rooms,
    TokenBucket,
    new_owner_token,
)
from app.net.seal import b64d


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rooms(clock: FakeClock) -> Rooms:
    counter = itertools.count(1)
    return Rooms(clock=clock, new_id=lambda: f"p{next(counter)}", max_rooms=3)


def refusal_code(fn: Callable[..., Any], *args: Any) -> str:
    with pytest.raises(RoomRefused) as info:
        fn(*args)
    assert str(info.value).startswith(REFUSAL_TEXT[info.value.code])
    return info.value.code


def test_create_makes_creator_first_member_with_owner_token(rooms: Rooms, clock: FakeClock) -> None:
    room, peer = rooms.create("r1", "Blue Fox", "small", DEFAULT_LIFETIME_S)
    assert peer == "p1"
    assert room.members == ["p1"]
    assert room.capacity == CAPACITY["small"] == 4
    assert room.expires_at == clock.now + DEFAULT_LIFETIME_S
    assert len(b64d(room.owner_token)) == 16
    assert len(rooms) == 1


def test_owner_tokens_are_random_128_bit() -> None:
    tokens = {new_owner_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(b64d(t)) == 16 for t in tokens)


def test_join_appends_members_in_order(rooms: Rooms) -> None:
    rooms.create("r1", "Blue Fox", "mid", 600)
    room, peer = rooms.join("r1", "Blue Fox")
    assert peer == "p2"
    assert room.members == ["p1", "p2"]
    assert rooms.leave("r1", "p1") == ["p2"]
    assert rooms.leave("r1", "p1") == []  # idempotent
    assert rooms.leave("nope", "p2") == []


def test_join_fills_up_to_capacity_then_refuses(rooms: Rooms) -> None:
    rooms.create("r1", "h", "small", 600)
    for _ in range(CAPACITY["small"] - 1):
        rooms.join("r1", "h")
    assert refusal_code(rooms.join, "r1", "h") == "room_full"
    room = rooms.get("r1")
    assert room is not None
    rooms.leave("r1", room.members[-1])
    assert rooms.join("r1", "h").room is room  # a freed seat can be taken again


@pytest.mark.parametrize(
    ("size", "lifetime"), [("huge", 600), ("small", 59), ("small", MAX_LIFETIME_S + 1)]
)
def test_create_validates_size_and_lifetime(rooms: Rooms, size: str, lifetime: int) -> None:
    assert refusal_code(rooms.create, "r1", "h", size, lifetime) == "bad_request"
    assert len(rooms) == 0


def test_create_refuses_oversized_names(rooms: Rooms) -> None:
    assert refusal_code(rooms.create, "r" * 65, "h", "small", 600) == "bad_request"
    assert refusal_code(rooms.create, "r1", "h" * 129, "small", 600) == "bad_request"
    assert refusal_code(rooms.create, "", "h", "small", 600) == "bad_request"


def test_room_exists_and_max_rooms(rooms: Rooms) -> None:
    rooms.create("r1", "a", "small", 600)
    assert refusal_code(rooms.create, "r1", "a", "small", 600) == "room_exists"
    rooms.create("r2", "b", "small", 600)
    rooms.create("r3", "c", "small", 600)
    assert refusal_code(rooms.create, "r4", "d", "small", 600) == "too_many_rooms"
    rooms.end("r1", rooms.get("r1").owner_token)  # type: ignore[union-attr]
    rooms.create("r4", "d", "small", 600)  # a slot was freed
    assert len(rooms) == 3


def test_no_such_room_versus_wrong_secret(rooms: Rooms) -> None:
    rooms.create("r1", "Blue Fox", "small", 600)
    assert refusal_code(rooms.join, "other-id", "Blue Fox") == "wrong_secret"
    assert refusal_code(rooms.join, "other-id", "Red Owl") == "no_such_room"


def test_expiry_then_sweep_leaves_tombstone(rooms: Rooms, clock: FakeClock) -> None:
    room, _ = rooms.create("r1", "Blue Fox", "small", 600)
    clock.now += 599
    assert rooms.sweep() == []
    rooms.join("r1", "Blue Fox")
    clock.now += 1
    assert refusal_code(rooms.join, "r1", "Blue Fox") == "room_expired"  # before the sweep too
    assert rooms.sweep() == [room]
    assert room.members == ["p1", "p2"]  # the caller needs them to notify
    assert len(rooms) == 0
    assert refusal_code(rooms.join, "r1", "Blue Fox") == "room_expired"
    assert refusal_code(rooms.create, "r1", "Blue Fox", "small", 600) == "room_expired"
    # the hint is gone with the room: no live room called "Blue Fox" any more
    assert refusal_code(rooms.join, "r9", "Blue Fox") == "no_such_room"


def test_tombstones_are_forgotten_after_tombstone_s(rooms: Rooms, clock: FakeClock) -> None:
    room, _ = rooms.create("r1", "h", "small", 600)
    rooms.end("r1", room.owner_token)
    clock.now += TOMBSTONE_S - 1
    assert refusal_code(rooms.join, "r1", "h") == "room_ended"
    clock.now += 2
    rooms.sweep()
    assert refusal_code(rooms.join, "r1", "h") == "no_such_room"


def test_tombstone_count_is_bounded(clock: FakeClock) -> None:
    reg = Rooms(clock=clock, max_tombstones=2)
    for rid in ("a", "b", "c"):
        reg.end(rid, reg.create(rid, "h", "small", 600).room.owner_token)
    assert refusal_code(reg.join, "a", "x") == "no_such_room"  # oldest dropped
    assert refusal_code(reg.join, "b", "x") == "room_ended"
    assert refusal_code(reg.join, "c", "x") == "room_ended"


def test_end_requires_owner_token(rooms: Rooms) -> None:
    room, _ = rooms.create("r1", "h", "small", 600)
    rooms.join("r1", "h")
    assert refusal_code(rooms.end, "r1", "not-the-token") == "not_owner"
    assert refusal_code(rooms.end, "r1", "") == "not_owner"
    ended = rooms.end("r1", room.owner_token)
    assert ended.members == ["p1", "p2"]
    assert refusal_code(rooms.join, "r1", "h") == "room_ended"
    assert refusal_code(rooms.end, "r1", room.owner_token) == "room_ended"
    assert refusal_code(rooms.end, "zz", room.owner_token) == "no_such_room"


def test_extend_adds_time_capped_at_max_lifetime(rooms: Rooms, clock: FakeClock) -> None:
    room, _ = rooms.create("r1", "h", "small", 3600)
    assert rooms.extend("r1", room.owner_token, 1800).expires_at == clock.now + 5400
    assert refusal_code(rooms.extend, "r1", "bad", 60) == "not_owner"
    assert room.expires_at == clock.now + 5400
    assert rooms.extend("r1", room.owner_token, MAX_LIFETIME_S).expires_at == (
        clock.now + MAX_LIFETIME_S
    )
    clock.now += 100
    assert rooms.extend("r1", room.owner_token, 60).expires_at == clock.now + MAX_LIFETIME_S - 40
    assert rooms.extend("r1", room.owner_token, 600).expires_at == clock.now + MAX_LIFETIME_S
    assert refusal_code(rooms.extend, "r1", room.owner_token, 0) == "bad_request"
    assert refusal_code(rooms.extend, "r1", room.owner_token, MAX_LIFETIME_S + 1) == "bad_request"


def test_extend_after_expiry_is_refused(rooms: Rooms, clock: FakeClock) -> None:
    room, _ = rooms.create("r1", "h", "small", 600)
    clock.now += 600
    assert refusal_code(rooms.extend, "r1", room.owner_token, 600) == "room_expired"


def test_peer_ids_unique_within_room(clock: FakeClock) -> None:
    ids = iter(["same", "same", "other"])
    reg = Rooms(clock=clock, new_id=lambda: next(ids))
    reg.create("r1", "h", "small", 600)
    assert reg.join("r1", "h").peer_id == "other"


def test_token_bucket_burst_then_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=2.0, burst=5.0, clock=clock)
    assert [bucket.allow() for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.5  # one token back
    assert bucket.allow()
    assert not bucket.allow()
    clock.now += 100  # refills only up to the burst
    assert sum(bucket.allow() for _ in range(10)) == 5


def test_token_bucket_ignores_clock_going_backwards(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=1.0, burst=1.0, clock=clock)
    assert bucket.allow()
    clock.now -= 50
    assert not bucket.allow()


def test_token_bucket_charge_can_run_into_debt_paid_off_at_the_rate(clock: FakeClock) -> None:
    bucket = TokenBucket(rate=0.1, burst=6.0, clock=clock)
    assert bucket.allow()
    bucket.charge(6.0)  # 5 left: one token of debt
    assert not bucket.allow()
    clock.now += 19  # 1.9 tokens back: 0.9
    assert not bucket.allow()
    clock.now += 2
    assert bucket.allow()
    for _ in range(5):
        bucket.charge(6.0)  # the debt stops at one burst
    clock.now += 69  # -6 + 6.9
    assert not bucket.allow()
    clock.now += 2
    assert bucket.allow()


def test_rooms_and_tombstones_survive_a_snapshot_and_restore(
    rooms: Rooms, clock: FakeClock, tmp_path: Any
) -> None:
    from app.net import roomstate

    live = rooms.create("r1", "team-sync", "mid", 600).room
    ended = rooms.create("r2", "retro", "small", 600).room
    rooms.create("r3", "brief", "small", 60)
    rooms.end("r2", ended.owner_token)
    before = rooms.revision
    rooms.extend("r1", live.owner_token, 1)
    clock.now += 61  # r3 is past its time (not swept yet): kept as a tombstone
    path = tmp_path / "rooms.json"
    roomstate.save(rooms, path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    again = Rooms(clock=clock)
    assert roomstate.load(again, path) == 1 and again.revision > 0
    back = again.get("r1")
    assert back is not None and (back.hint, back.capacity) == ("team-sync", 8)
    assert back.expires_at == live.expires_at and back.members == []  # members join again
    assert again.join("r1", "team-sync").peer_id
    assert again.extend("r1", live.owner_token, 60).expires_at == live.expires_at + 60
    assert refusal_code(again.join, "r2", "retro") == "room_ended"  # its tombstone came too
    assert refusal_code(again.join, "r3", "brief") == "room_expired"  # ran out meanwhile
    assert rooms.revision > before  # (extend, end, create: each a change to keep)


def test_a_damaged_room_state_is_set_aside(clock: FakeClock, tmp_path: Any) -> None:
    from app.net import roomstate

    path = tmp_path / "rooms.json"
    for n, text in enumerate(
        (
            '{"version": 1, "rooms": [["r1", "h", 5, 1e12, "tok"]], "tombstones": []}',
            '{"version": 1, "rooms": [["r1"]], "tombstones": []}',
            # a good room, then a bad one: nothing is taken (not half a state)
            '{"version": 1, "rooms": [["r1", "h", 8, 1e12, "tok"], ["r2"]], "tombstones": []}',
            '{"version": 1, "rooms": [], "tombstones": [["r9", "foo_bar", 1e12]]}',
            "[[[",
            '{"version": 9}',
        ),
        start=1,
    ):
        path.write_text(text)
        rooms = Rooms(clock=clock)
        assert roomstate.load(rooms, path) == 0 and len(rooms) == 0, text
        bad = tmp_path / f"rooms.json.bad{n if n > 1 else ''}"  # each one kept
        assert bad.read_text() == text and not path.exists()
    assert roomstate.load(Rooms(clock=clock), path) == 0  # no file: a first start


def test_a_restored_state_is_held_to_this_servers_limits(clock: FakeClock, tmp_path: Any) -> None:
    """A state file from a server with other limits (or edited by hand): no more rooms than
    max_rooms, no room longer than MAX_LIFETIME_S, no tombstone kept longer than its time."""
    from app.net import roomstate

    far = 1e300
    rooms = [[f"r{i}", f"h{i}", 8, far, "tok"] for i in range(3)]
    path = tmp_path / "rooms.json"
    path.write_text(
        json.dumps({"version": 1, "rooms": rooms, "tombstones": [["t", "room_ended", far]]})
    )
    small = Rooms(clock=clock, max_rooms=2, tombstone_s=60)
    assert roomstate.load(small, path) == 2 and len(small) == 2
    assert all(room.expires_at == clock.now + MAX_LIFETIME_S for room in small._rooms.values())
    assert small._tombstones["t"][1] == clock.now + 60
