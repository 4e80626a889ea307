"""Knock crypto, LAN announcement parsing and the host-key pin store (no network)."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from app.errors import PeerMeetError, ProtocolError, SealError
from app.net.knock import (
    GuestKey,
    HostIdentity,
    commitment,
    decode_key,
    fingerprint,
    knock_code,
    pretty_fingerprint,
)
from app.net.lanroom import LanRoom, parse_txt
from app.net.pins import PinStore
from app.net.seal import b64e
from app.net.text import clean_chat, clean_name

NONCE = bytes(range(16))
SECRET = "XW3Y8Ix9V5AtyhLa6ApYCw"


def txt(lan: LanRoom, override: dict[str, str | None] | None = None) -> dict[bytes, bytes | None]:
    fields: dict[str, str | None] = {**lan.to_txt(), **(override or {})}
    return {k.encode(): (v.encode() if v is not None else None) for k, v in fields.items()}


@pytest.fixture
def lan_room() -> LanRoom:
    fp = HostIdentity.generate().fingerprint
    return LanRoom("team-sync", "Alice", "small", 1, 4, 1_900_000_000, fp)


# --- codes -----------------------------------------------------------------------------------


def test_code_is_four_spaced_digits_and_equal_on_both_sides() -> None:
    host, guest = HostIdentity.generate(), GuestKey()
    code = knock_code(host.public, guest.public, NONCE)
    assert re.fullmatch(r"\d \d \d \d", code)
    # the guest computes it from knock_wait and knock_nonce; the host from what knock_reveal carries
    assert knock_code(decode_key(host.public_b64), guest.public, NONCE) == code


def test_swapped_key_or_nonce_changes_the_code() -> None:
    host, guest, attacker = HostIdentity.generate(), GuestKey(), GuestKey()
    codes = {
        knock_code(host.public, guest.public, NONCE),
        knock_code(host.public, attacker.public, NONCE),
        knock_code(HostIdentity.generate().public, guest.public, NONCE),
        knock_code(host.public, guest.public, bytes(16)),
    }
    assert len(codes) == 4  # 4 digits: a chance collision is 1e-4 per pair; fixed keys per run


def test_codes_spread_over_all_digits() -> None:
    host = HostIdentity.generate()
    codes = {knock_code(host.public, GuestKey().public, NONCE) for _ in range(300)}
    assert len(codes) > 280


def test_commitment_binds_the_guest_key() -> None:
    guest = GuestKey()
    assert guest.commitment == commitment(guest.public) != commitment(GuestKey().public)


# --- the admit box ---------------------------------------------------------------------------


def test_secret_box_round_trip() -> None:
    host, guest = HostIdentity.generate(), GuestKey()
    box = host.seal_secret(guest.public, NONCE, "team-sync", SECRET)
    assert SECRET not in box
    assert guest.open_secret(host.public, NONCE, "team-sync", box) == SECRET


@pytest.mark.parametrize("what", ["other host key", "other guest", "room", "nonce", "tamper"])
def test_box_fails_with_anything_wrong(what: str) -> None:
    host, guest = HostIdentity.generate(), GuestKey()
    box = host.seal_secret(guest.public, NONCE, "team-sync", SECRET)
    host_pub, opener, room, nonce = host.public, guest, "team-sync", NONCE
    if what == "other host key":  # an impostor announces its own key but cannot seal for ours
        host_pub = HostIdentity.generate().public
    elif what == "other guest":  # a man in the middle who swapped keys cannot open it
        opener = GuestKey()
    elif what == "room":
        room = "other-room"
    elif what == "nonce":
        nonce = bytes(16)
    else:
        box = box[:-2] + ("AA" if box[-2:] != "AA" else "BB")
    with pytest.raises(SealError):
        opener.open_secret(host_pub, nonce, room, box)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(SealError):
        decode_key(b64e(b"short"))
    host = HostIdentity.generate()
    with pytest.raises(SealError):  # the all-zero point gives no shared secret
        host.seal_secret(bytes(32), NONCE, "r", SECRET)


# --- the identity file -----------------------------------------------------------------------


def test_identity_is_created_once_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "host.key"
    first = HostIdentity.load_or_create(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = HostIdentity.load_or_create(path)
    assert again.public == first.public and again.fingerprint == first.fingerprint
    assert len(first.fingerprint) == 32 and first.fingerprint == fingerprint(first.public)
    assert pretty_fingerprint(first.fingerprint).count(" ") == 7


def test_damaged_identity_file_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "host.key"
    path.write_text("not a key\n")
    with pytest.raises(PeerMeetError, match=r"damaged\. Delete it"):
        HostIdentity.load_or_create(path)


# --- TXT records -----------------------------------------------------------------------------


def test_txt_round_trip(lan_room: LanRoom) -> None:
    props = txt(lan_room, {"extra": "ignored"})
    assert parse_txt(props) == lan_room
    assert "secret" not in " ".join(lan_room.to_txt()).lower()


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"v": "2"}, "protocol"),
        ({"v": None}, "protocol"),
        ({"room": "Bad Room!"}, "room name"),
        ({"room": None}, "room name"),
        ({"room": "team-sync\n"}, "room name"),  # ($ matched before it: no pin warning)
        ({"fp": "ab" * 16 + "\n"}, "fingerprint"),
        ({"n": "1\n"}, "not a number"),
        ({"fp": "zz" * 16}, "fingerprint"),
        ({"fp": "ab"}, "fingerprint"),
        ({"size": "huge"}, "size"),
        ({"host": "\x00\x07"}, "host name"),
        ({"n": "-1"}, "not a number"),
        ({"n": "5"}, "people count"),
        ({"max": "0"}, "people count"),
        ({"max": "9999"}, "people count"),
        ({"exp": "soon"}, "not a number"),
        ({"exp": "1" * 40}, "not a number"),
    ],
)
def test_bad_txt_is_rejected(
    lan_room: LanRoom, override: dict[str, str | None], needle: str
) -> None:
    with pytest.raises(ProtocolError, match=needle):
        parse_txt(txt(lan_room, override))


def test_txt_with_invalid_utf8_is_rejected(lan_room: LanRoom) -> None:
    props = txt(lan_room)
    props[b"host"] = b"\xff\xfe"
    with pytest.raises(ProtocolError):
        parse_txt(props)


def test_host_names_are_cleaned() -> None:
    assert clean_name("  Eve\u202e\x1b[31m  evil ") == "Eve[31m evil"
    assert len(clean_name("x" * 500)) == 64


def test_chat_text_keeps_real_text_and_loses_controls_and_bidi_overrides() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, joined by ZWJs
    text = f"שלום and hello\n\tline two {family} \u200f"
    assert clean_chat(text) == text  # RTL text, line breaks, tabs, joiners and marks stay
    spoof = "invoice\u202egpj.exe \u2066x\u2069 \x1b[31mred\x1b[0m \x00\x07"
    assert clean_chat(spoof) == "invoicegpj.exe x [31mred[0m "
    assert len(clean_chat("y" * 70_000)) == 4000


# --- pinning ---------------------------------------------------------------------------------


def test_pin_first_use_then_known_then_changed(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    store = PinStore(path)
    first = store.check("team-sync", "a" * 32)
    assert first.status == "new" and first.warning == ""
    store.remember("team-sync", "a" * 32)
    reloaded = PinStore(path)
    assert reloaded.check("team-sync", "a" * 32).status == "known"
    assert reloaded.check("other-room", "b" * 32).status == "new"
    changed = reloaded.check("team-sync", "b" * 32)
    assert changed.status == "changed" and changed.pinned == "a" * 32
    assert "another host key" in changed.warning and "aaaa aaaa" in changed.warning
    reloaded.remember("team-sync", "b" * 32)  # the person accepted the new key
    assert PinStore(path).check("team-sync", "b" * 32).status == "known"


def test_damaged_pin_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "pins.json"
    path.write_text("{not json")
    store = PinStore(path)
    assert (tmp_path / "pins.json.bad").read_text() == "{not json"  # kept for the curious
    assert store.check("r", "a" * 32).status == "new"
    store.remember("r", "a" * 32)
    assert PinStore(path).check("r", "a" * 32).status == "known"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_pin_that_cannot_be_saved_is_kept_for_this_run(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    store = PinStore(tmp_path / "file" / "pins.json")  # its folder cannot be made
    store.remember("r", "a" * 32)  # no error: the knock that pinned it still goes on
    assert store.check("r", "a" * 32).status == "known"
