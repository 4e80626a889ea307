from __future__ import annotations

import random
import re

import pytest
import yarl

from app.errors import LinkError
from app.meeting.links import (
    Link,
    generate_room_name,
    new_secret,
    parse_link,
    parse_rendezvous,
    slugify,
)
from app.net.seal import b64d

SECRET = "AAECAwQFBgcICQoLDA0ODw"


def test_secret_has_128_random_bits_url_safe() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for s in secrets:
        assert len(b64d(s)) >= 16
        assert all(c.isalnum() or c in "-_" for c in s)


def test_round_trip_peermeet_and_https() -> None:
    for link in (
        Link("192.168.1.20", 8765, "quiet-river-42", SECRET),
        Link("meet.example.org", 443, "team-sync", SECRET, secure=True),
        Link("meet.example.org", 8443, "team-sync", SECRET, secure=True),
        Link("fe80::1", 9000, "x", SECRET),
    ):
        assert parse_link(str(link)) == link


def test_rendezvous_urls() -> None:
    assert parse_link(f"peermeet://h:1/r#k={SECRET}").rendezvous_url == "ws://h:1/ws"
    assert parse_link(f"https://meet.example/r#k={SECRET}").rendezvous_url == (
        "wss://meet.example:443/ws"
    )
    six = parse_link(f"peermeet://[::1]:8765/r#k={SECRET}")
    assert six.address == "[::1]:8765" and six.rendezvous_url == "ws://[::1]:8765/ws"


def test_a_secret_whose_equals_sign_was_percent_encoded_is_read() -> None:
    for text in (f"peermeet://h:1/r#k%3D{SECRET}", f"peermeet://h:1/r#k%3d{SECRET}"):
        assert parse_link(text).secret == SECRET, text


def test_an_ipv6_zone_is_read_and_written_as_a_url_has_it() -> None:
    """A link-local address's zone goes in a URL after "%25" (RFC 6874): it was read as the
    zone "25eth0", which no interface has."""
    text = f"peermeet://[fe80::1%25eth0]:8765/r#k={SECRET}"
    link = parse_link(text)
    assert link.host == "fe80::1%eth0"
    assert str(link) == text
    assert link.rendezvous_url == "ws://[fe80::1%25eth0]:8765/ws"
    assert yarl.URL(link.rendezvous_url).host == "fe80::1%eth0"  # (what aiohttp connects to)


@pytest.mark.parametrize(
    "text",
    [
        f"  <peermeet://10.0.0.5:8765/team-sync#k={SECRET}>  ",
        f"peermeet://10.0.0.5:8765/team-sync\n#k={SECRET[:10]} {SECRET[10:]}",
        f'"peermeet://10.0.0.5:8765/Team-Sync/#k={SECRET}"',
        f"PEERMEET://10.0.0.5:8765/team-sync#k={SECRET}",
    ],
)
def test_pasted_forms_tolerated(text: str) -> None:
    assert parse_link(text) == Link("10.0.0.5", 8765, "team-sync", SECRET)


@pytest.mark.parametrize(
    "text",
    [
        f"Join my meeting: peermeet://10.0.0.5:8765/team-sync#k={SECRET} see you there",
        f"peermeet://10.0.0.5:8765/team-sync#k={SECRET}.",
        f"(link: peermeet://10.0.0.5:8765/team-sync#k={SECRET}), see you",
        f"peermeet://10.0.0.5:8765/team-sync#k={SECRET}\nThanks",
        f"peermeet://10.0.0.5:8765/team-sync#k={SECRET}\u200b",  # a chat app's zero-width space
        f"peermeet://10.0.0.5:8765/team\u2011sync#k={SECRET}",  # a word processor's hyphen
        f"meeting:peermeet://10.0.0.5:8765/team-sync#k={SECRET}",
        f"peermeet://10.0.0.5:8765/team-\nsync#k={SECRET[:7]}\n{SECRET[7:]} Thanks, Ann",
        f"“peermeet://10.0.0.5:8765/team-sync#k={SECRET}”",
        f"peermeet://10.0.0.5:8765/team-sync%23k%3D{SECRET} bye",  # through a URL encoder
        f"<peermeet://10.0.0.5:8765/team-sync#k={SECRET}|join us>",  # Slack's form
        f"Here: `peermeet://10.0.0.5:8765/team-sync#k={SECRET}`",  # Markdown code
        f"*peermeet://10.0.0.5:8765/team-sync#k={SECRET}*",  # a chat's bold
        # a reply quoting the mail the link came in, broken over its lines
        f"> Join: peermeet://10.0.0.5:8765/team-\n> sync#k={SECRET[:9]}\n>> {SECRET[9:]}\n>",
        f"peermeet://10.0.0.5:8765/team-sync?utm_source=mail#k={SECRET}",
        # wrapped by a mail or search service's redirect
        "https://eur01.safelinks.protection.outlook.com/?url=peermeet%3A%2F%2F10.0.0.5%3A8765"
        f"%2Fteam-sync%23k%3D{SECRET}&data=05%7C01%7Cx&reserved=0",
        "https://www.google.com/url?q=peermeet%3A%2F%2F10.0.0.5%3A8765%2Fteam-sync%23k%3D"
        f"{SECRET}&sa=D&ust=1",
    ],
)
def test_link_is_picked_out_of_the_text_around_it(text: str) -> None:
    assert parse_link(text) == Link("10.0.0.5", 8765, "team-sync", SECRET)


def test_cut_or_padded_secrets_are_called_damaged_not_wrong() -> None:
    for cut in (SECRET[:21], SECRET[:17], SECRET[:-1] + "$"):  # 21: a length base64 cannot have
        with pytest.raises(LinkError, match="too short or damaged"):
            parse_link(f"peermeet://h:1/r#k={cut}")
    with pytest.raises(LinkError, match=r"too long \(28 characters.*stuck to its end"):
        parse_link(f"peermeet://h:1/r#k={SECRET}Thanks")


def test_question_mark_for_hash_is_explained_without_showing_the_secret() -> None:
    with pytest.raises(LinkError, match=r"follows a “\?”") as caught:
        parse_link(f"peermeet://h:1/team-sync?k={SECRET}")
    assert SECRET.lower() not in str(caught.value).lower()


def test_a_link_that_lost_its_scheme_still_works() -> None:
    link = parse_link(f"10.0.0.5:8765/team-sync#k={SECRET}")
    assert link == Link("10.0.0.5", 8765, "team-sync", SECRET)
    with pytest.raises(LinkError):  # words around it are not squeezed into its host
        parse_link(f"Join at\n10.0.0.5:8765/team-sync#k={SECRET}")


def test_a_plain_link_wins_over_other_wrapped_links_and_redirects_are_refused() -> None:
    mail = (
        "Agenda https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fdocs.example"
        f".com%2Fagenda&data=1 and join peermeet://10.0.0.5:8765/team-sync#k={SECRET} thanks"
    )
    assert parse_link(mail) == Link("10.0.0.5", 8765, "team-sync", SECRET)
    redirect = f"https://www.google.com/url?q=https://meet.example.org/team-sync%23k%3D{SECRET}"
    inner = parse_link(redirect + "&sa=D")  # the link inside, not www.google.com as the host
    assert inner == Link("meet.example.org", 443, "team-sync", SECRET, secure=True)
    with pytest.raises(LinkError):  # what is inside is no meeting link: refused, not google's
        parse_link(f"https://www.google.com/url?q=https://x#k={SECRET}")


def test_default_ports() -> None:
    assert parse_link(f"peermeet://h/r#k={SECRET}").port == 8765
    assert parse_link(f"https://h/r#k={SECRET}").port == 443


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("zoom.us/j/123", "not a PeerMeet link"),
        ("team-sync", "only the meeting's name"),  # the room part alone
        (f"http://h/r#k={SECRET}", "not a PeerMeet link"),
        ("peermeet://h:1/team-sync", "no secret part"),
        ("peermeet://h:1/team-sync#", "no secret part"),
        ("peermeet://h:1/team-sync#x=1", "must look like #k="),
        ("peermeet://h:1/team-sync#k=abc", "too short or damaged"),
        ("peermeet://h:1/team-sync#k=ab$cdefghijklmnopqrstuvwxyz", "too short or damaged"),
        (f"peermeet://h:1/#k={SECRET}", "no meeting name"),
        (f"peermeet://h:1#k={SECRET}", "no meeting name"),
        (f"peermeet://h:1/bad_name!#k={SECRET}", "not a valid meeting name"),
        (f"peermeet://h:0/r#k={SECRET}", "not a valid port"),
        (f"peermeet://h:70000/r#k={SECRET}", "not a valid port"),
        (f"peermeet://h:ab/r#k={SECRET}", "not a valid port"),
        (f"peermeet://h:8765\u00b2/r#k={SECRET}", "not a valid port"),  # a footnote mark
        (f"peermeet://h:\u2460/r#k={SECRET}", "not a valid port"),
        (f"peermeet:///r#k={SECRET}", "no host"),
        (f"peermeet://[::1/r#k={SECRET}", "closing bracket"),
        (f"peermeet://[zz::1]:5/r#k={SECRET}", "not a valid IPv6"),
        (f"peermeet://bad host!/r#k={SECRET}", "not a valid host"),
    ],
)
def test_errors_are_precise(text: str, needle: str) -> None:
    with pytest.raises(LinkError, match=needle):
        parse_link(text)


def test_room_names() -> None:
    name = generate_room_name(random.Random(1))
    adjective, noun, number = name.split("-")
    assert adjective.isalpha() and noun.isalpha() and 10 <= int(number) <= 99
    assert parse_link(str(Link("h", 1, name, SECRET))).room == name
    assert slugify("  Team Sync (Monday) — Café ") == "team-sync-monday-cafe"
    arabic = slugify("اجتماع الفريق الأسبوعي")  # letters without a Latin spelling
    assert (
        re.fullmatch(r"meeting-[0-9a-f]{6}", arabic) and slugify("اجتماع الفريق الأسبوعي") == arabic
    )
    assert slugify("会议") != arabic
    long = "Design Review <b>Q3</b> & planning — a long meeting title that goes on"
    assert slugify(long) == "design-review-b-q3-b-planning-a-long-meeting"  # whole words
    assert slugify("x" * 60) == "x" * 48  # one long word: cut where it must
    with pytest.raises(LinkError):
        slugify("!!!")


def test_loopback_detection() -> None:
    assert Link("127.0.0.1", 1, "r", SECRET).is_loopback
    assert Link("localhost", 1, "r", SECRET).is_loopback
    assert Link("::1", 1, "r", SECRET).is_loopback
    assert not Link("192.168.1.2", 1, "r", SECRET).is_loopback


def test_parse_rendezvous() -> None:
    assert parse_rendezvous("https://meet.example/").rendezvous_url == "wss://meet.example:443/ws"
    assert parse_rendezvous("peermeet://10.0.0.1:9000").port == 9000
    # no scheme: https (a server without TLS is then reached over a plain websocket)
    assert parse_rendezvous(" meet.example ").rendezvous_url == "wss://meet.example:443/ws"
    assert parse_rendezvous("10.0.0.1:9000").rendezvous_url == "wss://10.0.0.1:9000/ws"
    for bad in ("ftp://x", "", "meet.example:99999", "http://meet.example", "not a url at all"):
        with pytest.raises(LinkError):
            parse_rendezvous(bad)


@pytest.mark.parametrize(
    ("pasted", "server"),
    [
        ("https://meet.example.org/standup#k=SECRET", "https://meet.example.org"),
        ("https://meet.example.org:8443/standup#k=SECRET", "https://meet.example.org:8443"),
        ("peermeet://10.0.0.1:9000/room#k=SECRET", "peermeet://10.0.0.1:9000"),
        ("peermeet://[fd00::1]:9000/room#k=SECRET", "peermeet://[fd00::1]:9000"),
        ("meet.example.org/standup#k=SECRET", "https://meet.example.org"),
        ("https://meet.example.org/", "https://meet.example.org"),
    ],
)
def test_a_meeting_link_as_rendezvous_is_only_its_server(pasted: str, server: str) -> None:
    """The address kept (and shown in My meetings) is the server's: another meeting's room and
    secret, pasted with it, are not."""
    assert parse_rendezvous(pasted).server == server
    assert parse_rendezvous(server).server == server  # (kept as it is)
