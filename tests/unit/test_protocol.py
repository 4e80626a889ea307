"""Golden files for every message, and malformed input of every kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.errors import ProtocolError
from app.net import protocol as p

GOLDEN = Path(__file__).parent.parent / "golden" / "protocol"
SAMPLES: list[p.Message] = [
    p.Create(room="Zm9vYmFyYmF6cXV4cXV1", hint="quiet-river-42", size="mid", lifetime_s=10800),
    p.Join(room="Zm9vYmFyYmF6cXV4cXV1", hint="quiet-river-42"),
    p.Relay(to="a1b2c3d4", blob="c2VhbGVk"),
    p.Relay(to=None, blob="c2VhbGVk"),
    p.Leave(),
    p.End(owner_token="b3duZXI"),
    p.Extend(owner_token="b3duZXI", seconds=3600),
    p.Manage(room="Zm9vYmFyYmF6cXV4cXV1", owner_token="b3duZXI", action="end", seconds=0),
    p.Ping(),
    p.Pong(),
    p.Joined(
        peer_id="a1b2", peers=("c3d4", "e5f6"), capacity=8, expires_at=1.7e9, owner_token=None
    ),
    p.PeerJoined(peer_id="c3d4"),
    p.PeerLeft(peer_id="c3d4"),
    p.Relayed(sender="c3d4", blob="c2VhbGVk"),
    p.RoomEnded(reason="expired"),
    p.Extended(expires_at=1.7e9),
    p.Error(code="room_full", message="This meeting is full."),
    p.TurnCredentials(
        urls=("turn:turn.example:3478?transport=udp",),
        username="1700086400:a1b2",
        credential="c2VjcmV0",
        ttl_s=86400,
    ),
    p.Knock(hint="quiet-river-42", name="Alice", commit="Y29tbWl0"),
    p.KnockV1(hint="quiet-river-42", name="Alice", commit="Y29tbWl0"),
    p.KnockWait(pub="aG9zdC1rZXk", commit="bm9uY2UtY29tbWl0", timeout_s=60),
    p.KnockReveal(pub="Z3Vlc3Qta2V5"),
    p.KnockNonce(nonce="bm9uY2U"),
    p.Admitted(pub="aG9zdC1rZXk", box="c2VhbGVk"),
    p.Offer(sdp="v=0\r\n", name="Alice", attempt=1),
    p.Answer(sdp="v=0\r\n", name="Bob", attempt=1),
    p.Commit(attempt=1, digest="9f" * 32),
    p.Reveal(attempt=1, nonce="a5" * 16),
    p.Candidate(
        candidate="candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdp_mid="0", sdp_mline_index=0
    ),
    p.Bye(reason="left"),
    p.Chat(text="hello 👋", msg_id="m1"),
    p.Goodbye(reason="left"),
    p.MediaState(mic=True, cam=False, screen=False),
    p.RendezvousId(peer_id="c3d4"),
    p.RendezvousGone(),
    p.ResumeToken(token="5e" * 16),
    p.Resume(token="5e" * 16),
]


def _golden_name(msg: p.Message) -> str:
    suffix = "_all" if isinstance(msg, p.Relay) and msg.to is None else ""
    return f"{msg.FAMILY}_{msg.TYPE}{suffix}.json"


@pytest.mark.parametrize("msg", SAMPLES, ids=_golden_name)
def test_golden(msg: p.Message) -> None:
    path = GOLDEN / _golden_name(msg)
    encoded = msg.encode()
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(encoded + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8").strip() == encoded
    assert p.decode(msg.FAMILY, encoded) == msg


def test_every_message_type_has_a_golden_sample() -> None:
    sampled = {(m.FAMILY, m.TYPE) for m in SAMPLES}
    registered = {(fam, t) for fam, types in p.all_types().items() for t in types}
    assert registered == sampled


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ('{"v":1,"type":"join","room":"x"', "not valid JSON"),  # truncated
        ("[1,2]", "not a JSON object"),
        ('{"v":2,"type":"ping"}', "unsupported protocol version 2"),
        ('{"type":"ping"}', "unsupported protocol version None"),
        ('{"v":true,"type":"ping"}', "unsupported protocol version True"),
        ('{"v":1.0,"type":"ping"}', "unsupported protocol version 1.0"),
        ('{"v":1,"type":"end","owner_token":"\\ud800"}', "'owner_token' is not valid Unicode"),
        ('{"v":1,"type":"teleport"}', "unknown rv message type"),
        ('{"v":1}', "unknown rv message type"),
        ('{"v":1,"type":"join","room":5,"hint":"x"}', "'room' has the wrong type"),
        ('{"v":1,"type":"join","room":"r"}', "lacks field 'hint'"),
        (
            '{"v":1,"type":"create","room":"r","hint":"h","size":"s","lifetime_s":true}',
            "wrong type",
        ),
        (
            '{"v":1,"type":"joined","peer_id":"a","peers":["b",3],"capacity":4,'
            '"expires_at":1,"owner_token":null}',
            "'peers' has the wrong type",
        ),
        (
            '{"v":1,"type":"joined","peer_id":"a","peers":[],"capacity":4,'
            '"expires_at":1e999,"owner_token":null}',
            "'expires_at' is not a finite number",  # (a stored infinity: a damaged file later)
        ),
        ('{"v":1,"type":"extended","expires_at":NaN}', "not a finite number"),
        ('{"v":1,"type":"extended","expires_at":-Infinity}', "not a finite number"),
        (b"\xff\xfe", "not valid JSON"),
        ("[" * 60000, "nested too deeply"),  # json.loads raises RecursionError
    ],
)
def test_malformed(data: str | bytes, needle: str) -> None:
    with pytest.raises(ProtocolError, match=needle):
        p.decode("rv", data)


def test_fields_a_later_version_adds_are_ignored() -> None:
    """A message with a field this version does not know is read without it (a later version
    may add optional fields); a field it knows is still checked, and one it needs still
    required."""
    msg = p.decode("rv", '{"v":1,"type":"join","room":"r","hint":"h","x":{"y":[1]}}')
    assert msg == p.Join(room="r", hint="h")
    chat = p.decode("data", '{"v":1,"type":"chat","text":"hi","msg_id":"a1","seen_by":3}')
    assert chat == p.Chat(text="hi", msg_id="a1")
    with pytest.raises(ProtocolError, match="'hint' has the wrong type"):
        p.decode("rv", '{"v":1,"type":"join","room":"r","hint":7,"x":1}')
    with pytest.raises(ProtocolError, match="lacks field 'hint'"):
        p.decode("rv", '{"v":1,"type":"join","room":"r","x":1}')


def test_a_field_with_a_default_may_be_missing() -> None:
    """How a later version adds a field: with a default, which a message without it gets."""
    from dataclasses import dataclass

    from app.net import _codec

    @_codec.message_type("data", "test_optional")
    @dataclass(frozen=True)
    class Later(p.Message):
        text: str
        extra: int = 0

    try:
        assert p.decode("data", '{"v":1,"type":"test_optional","text":"a"}') == Later("a")
        got = p.decode("data", '{"v":1,"type":"test_optional","text":"a","extra":2}')
        assert got == Later("a", 2)
    finally:
        del _codec._REGISTRY["data"]["test_optional"]


def test_oversize_is_refused_both_ways() -> None:
    huge = json.dumps({"v": 1, "type": "relay", "to": None, "blob": "x" * p.MAX_MESSAGE_BYTES})
    with pytest.raises(ProtocolError, match="larger than"):
        p.decode("rv", huge)
    with pytest.raises(ProtocolError, match="larger than"):
        p.Relay(to=None, blob="x" * p.MAX_MESSAGE_BYTES).encode()


def test_families_are_separate() -> None:
    with pytest.raises(ProtocolError, match="unknown signal message type 'join'"):
        p.decode("signal", p.Join(room="r", hint="h").encode())


def test_a_long_chat_message_goes_in_parts_that_say_which_in_their_id() -> None:
    """Part i of n rides in msg_id ("<id>:<i>/<n>"): PeerMeet before parts refuses a message
    with a field it does not know, and takes these as lines of their own."""
    lines = p.Chat.in_parts(["first ", "second ", "third"], "a1b2")
    assert [line.encode() for line in lines] == [
        '{"msg_id":"a1b2:1/3","text":"first ","type":"chat","v":1}',
        '{"msg_id":"a1b2:2/3","text":"second ","type":"chat","v":1}',
        '{"msg_id":"a1b2:3/3","text":"third","type":"chat","v":1}',
    ]
    decoded = [p.decode("data", line.encode()) for line in lines]
    assert decoded == lines
    assert [line.part for line in lines] == [("a1b2", 1, 3), ("a1b2", 2, 3), ("a1b2", 3, 3)]
    assert p.Chat.in_parts(["short"], "a1b2") == [p.Chat(text="short", msg_id="a1b2")]
    with pytest.raises(ProtocolError):
        p.Chat.in_parts(["x"] * (p.MAX_PARTS + 1), "a1b2")


@pytest.mark.parametrize(
    "msg_id",
    ["m1", "9f" * 16, "a:0/3", "a:4/3", f"a:1/{p.MAX_PARTS + 1}", "a:1/3x", ":1/3", "a:١/٣"],
)
def test_a_chat_whose_id_names_no_part_is_a_message_whole(msg_id: str) -> None:
    """Lines from PeerMeet before parts (uuid hex ids), and ids that only look like a part's,
    decode as ever and are messages on their own."""
    line = p.decode("data", json.dumps({"v": 1, "type": "chat", "text": "hi", "msg_id": msg_id}))
    assert isinstance(line, p.Chat) and line.part is None
