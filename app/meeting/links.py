"""Meeting links: ``peermeet://HOST:PORT/ROOM-NAME#k=SECRET`` or ``https://HOST/ROOM-NAME#k=...``.

The part after ``#`` (the secret) is never sent to any server: browsers drop URL fragments from
requests, and PeerMeet only ever sends the room id derived from it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import random as _random
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from app.errors import LinkError, SealError
from app.meeting.words import ADJECTIVES, NOUNS
from app.net.addresses import bracketed, host_port
from app.net.seal import b64d, b64e

DEFAULT_PORT = 8765
SECRET_BYTES = 16  # 128 bits
SECRET_CHARS = 22  # SECRET_BYTES in base64url, unpadded
SLUG_MAX = 48  # characters of a room name made from a meeting title
_SCHEME_RE = re.compile(r"(?i)(?:peermeet|https?)://")
_SECRET_TAIL_RE = re.compile(r"#(?:.*&)?k=([A-Za-z0-9_-]*)")
_ESCAPED_HASH_RE = re.compile(r"(?i)%23k(?:=|%3D)")
_AROUND = "<>\"'“”‘’«»‹›"  # quotes and brackets a link may be pasted in
#: a link wrapped in another one, encoded (Outlook's safelinks ?url=…, Google's /url?q=…)
_WRAPPED_RE = re.compile(r"(?i)(?:peermeet|https)%3A%2F%2F[^&\s]+")
#: zero-width characters that chat apps and editors slip into text (dropped), and …
_MENDED: dict[int, int | None] = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
#: hyphens a word processor or mail program may put for "-" (a link has only the plain one)
_MENDED.update(dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2212"), ord("-")))
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]+\Z")
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})\Z")


@dataclass(frozen=True)
class Link:
    host: str
    port: int
    room: str
    secret: str
    secure: bool = False  # https:// link -> wss:// rendezvous

    def __str__(self) -> str:
        host = _in_url(self.host)
        if self.secure:
            port = "" if self.port == 443 else f":{self.port}"
            return f"https://{host}{port}/{self.room}#k={self.secret}"
        return f"peermeet://{host}:{self.port}/{self.room}#k={self.secret}"

    @property
    def server(self) -> str:
        """The rendezvous alone (``https://host[:port]``, ``peermeet://host:port``): never the
        room nor its secret (a meeting link pasted as a server address keeps them)."""
        return str(Link(self.host, self.port, "", "", self.secure)).partition("/#")[0].rstrip("/")

    @property
    def rendezvous_url(self) -> str:
        return f"{'wss' if self.secure else 'ws'}://{_in_url(self.host)}:{self.port}/ws"

    @property
    def address(self) -> str:
        """``host:port``, an IPv6 host in brackets (``[::1]:8765``)."""
        return host_port(self.host, self.port)

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def new_secret(random: Callable[[int], bytes] = os.urandom) -> str:
    return b64e(random(SECRET_BYTES))


def generate_room_name(rng: _random.Random | None = None) -> str:
    r = rng or _random.SystemRandom()
    return f"{r.choice(ADJECTIVES)}-{r.choice(NOUNS)}-{r.randint(10, 99)}"


def slugify(text: str) -> str:
    """Turn a person's meeting name into a room name: ``"Team Sync (Mon)"`` -> ``team-sync-mon``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_MAX:  # cut between words where there is one, not inside a word
        cut = slug[: SLUG_MAX + 1].rfind("-")
        slug = slug[: cut if cut >= SLUG_MAX // 2 else SLUG_MAX].strip("-")
    if slug:
        return slug
    if not any(c.isalnum() for c in text):
        raise LinkError("A meeting name needs at least one letter or digit.")
    # letters with no Latin spelling (Arabic, Chinese, …): links keep to ASCII, so the room
    # gets a name derived from them (the same one each time); the meeting keeps its own title
    digest = hashlib.blake2s(text.strip().encode(), digest_size=3).hexdigest()
    return f"meeting-{digest}"


def extract_link(text: str) -> str:
    """The link in pasted text, whitespace removed: words around it are left out, a link broken
    over lines is joined up, and quotes, brackets and punctuation around it are dropped.

    The link is taken from its scheme on, a whitespace-separated piece at a time, until it has
    a secret of full length (SECRET_CHARS); a piece after that is prose ("…#k=SECRET. Thanks").
    """
    text = text.translate(_MENDED)
    for wrapped in _WRAPPED_RE.finditer(text):  # a meeting link inside a mail or search
        inner = urllib.parse.unquote(wrapped.group(0))  # service's redirect (other wrapped
        if "#k=" in inner:  # links, to an agenda say, are not it)
            return _from_scheme(inner)
    return _from_scheme(text)


def _has_full_secret(link: str) -> bool:
    secret = _SECRET_TAIL_RE.search(link)
    return secret is not None and len(secret.group(1)) >= SECRET_CHARS


def _from_scheme(text: str) -> str:
    """The link from its scheme on (see extract_link): the first that makes a whole link by
    itself (other links may come first, to an agenda say), else the first there is."""
    starts = [found.start() for found in _SCHEME_RE.finditer(text)]
    if not starts:  # no link in it: judged whole, so the message names what is wrong
        return "".join(text.split()).strip(_AROUND)
    for start in starts:
        link = _collect(text[start:])
        if _has_full_secret(link) and len(_SCHEME_RE.findall(link)) == 1:
            return link
    return _collect(text[starts[0] :])


def _collect(text: str) -> str:
    """Whitespace-separated pieces from the start of ``text`` until the link has a whole
    secret; what is around it is dropped."""
    link = ""
    for piece in text.split():
        if link and not piece.strip(">"):  # a quoted mail's "> " where the link broke
            continue
        link = _unescaped(link + piece)
        if _has_full_secret(link):
            break
    # (Slack: <link|its text>; `link` or *link*: marked up in a chat or a Markdown file)
    return link.partition("|")[0].rstrip(_AROUND + ".,;:!?)]}…`*~")


def _unescaped(link: str) -> str:
    """``…%23k%3D…`` (a link that went through a URL encoder) as ``…#k=…``."""
    if "#" not in link and _ESCAPED_HASH_RE.search(link):
        return urllib.parse.unquote(link)
    return link


def link_text(given: str, stdin: TextIO) -> str:
    """The link as given on the command line; for ``-`` the first line of ``stdin``."""
    if given != "-":
        return given
    line = stdin.readline().strip()
    if not line:
        raise LinkError("no link came on standard input; pipe it in: … | peermeet join -")
    return line


def parse_link(text: str) -> Link:
    """Parse a pasted link; raise LinkError with a message a person understands."""
    cleaned = extract_link(text)
    if not cleaned:
        raise LinkError("The link is empty. Paste the whole link the host sent you.")
    one_piece = len(text.split()) == 1  # (not words squeezed together)
    if one_piece and "://" not in cleaned and re.match(r"^[^/]+:[0-9]{1,5}/[^/]", cleaned):
        cleaned = "peermeet://" + cleaned  # host:port/room#k=…, its scheme lost on the way
    scheme, sep, rest = cleaned.partition("://")
    scheme = scheme.lower()
    if not sep and one_piece and re.fullmatch(r"[A-Za-z0-9-]{1,64}", cleaned):
        raise LinkError(
            "That is only the meeting's name. Ask the host for the whole link (it starts "
            "with peermeet://), or find the meeting under Rooms on this network and knock."
        )
    if not sep or scheme not in ("peermeet", "https"):
        raise LinkError(
            "This is not a PeerMeet link: it should start with peermeet:// or https://."
        )
    rest, hash_sep, fragment = rest.partition("#")
    if not hash_sep and re.search(r"[?&]k=", rest):
        raise LinkError(
            "The link's secret follows a “?” where PeerMeet links have a “#” (…#k=…). "
            "Copy the link again exactly as the host sent it."
        )
    if hash_sep and "?" in rest:
        if "://" in rest or "%3a%2f%2f" in rest.lower():
            raise LinkError(
                "This is another site's link with the meeting's link inside it (a redirect). "
                "Open it in the browser, or ask the host for the PeerMeet link itself."
            )
        rest = rest.partition("?")[0]  # a tracking query a link picked up (?utm_source=…)
    authority, slash, path = rest.partition("/")
    host, port = _parse_authority(authority, secure=scheme == "https")
    room = path.strip("/").lower()
    if not slash or not room:
        raise LinkError("The link has no meeting name after the address (…/meeting-name#k=…).")
    if not _NAME_RE.match(room):
        shown = room if len(room) <= 64 else room[:61] + "…"
        raise LinkError(f"“{shown}” is not a valid meeting name (letters, digits and dashes).")
    if not hash_sep or not fragment:
        raise LinkError(
            "The link has no secret part (#k=…). It was probably cut off: copy the whole link."
        )
    fragment = re.sub(r"^k%3[Dd]", "k=", fragment)  # (an encoder that took only the "=")
    params = dict(p.partition("=")[::2] for p in fragment.split("&"))
    secret = params.get("k", "")
    if not secret:
        raise LinkError("The link's secret part must look like #k=… — copy the whole link.")
    if _SECRET_RE.match(secret) and len(secret) > SECRET_CHARS:
        raise LinkError(
            f"The link's secret is too long ({len(secret)} characters; a PeerMeet secret has "
            f"{SECRET_CHARS}): something is stuck to its end. Copy the whole link again."
        )
    if not _SECRET_RE.match(secret) or len(_decoded(secret)) < SECRET_BYTES:
        raise LinkError("The link's secret is too short or damaged. Copy the whole link again.")
    return Link(host=host, port=port, room=room, secret=secret, secure=scheme == "https")


def _in_url(host: str) -> str:
    """``host`` as it goes in a URL: an IPv6 address in brackets, its zone's "%" as "%25"."""
    return bracketed(host.replace("%", "%25"))


def _decoded(secret: str) -> bytes:
    try:
        return b64d(secret)
    except SealError:  # a length base64 cannot have (e.g. 21 characters): cut off or damaged
        return b""


def _parse_authority(authority: str, secure: bool) -> tuple[str, int]:
    if not authority:
        raise LinkError("The link has no host address after the scheme.")
    if authority.startswith("["):
        host, close, port_text = authority[1:].partition("]")
        if not close:
            raise LinkError("The IPv6 address in the link is missing its closing bracket.")
        port_text = port_text.removeprefix(":")
        host = host.replace("%25", "%", 1)  # a zone (fe80::1%25eth0: RFC 6874's "%" in a URL)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise LinkError(f"“{host}” is not a valid IPv6 address.") from None
    else:
        host, _, port_text = authority.partition(":")
        if not _HOST_RE.match(host):
            raise LinkError(f"“{host}” is not a valid host name or address.")
    if not port_text:
        return host, 443 if secure else DEFAULT_PORT
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise LinkError(f"“{port_text}” is not a valid port (a number from 1 to 65535).")
    return host, int(port_text)


_SCHEMES = ("https", "http", "peermeet", "wss", "ws")


def parse_rendezvous(text: str) -> Link:
    """An outside rendezvous address (``https://meet.example`` or ``peermeet://host:port``) as a
    Link template without room or secret. A bare ``host[:port]`` is taken as https: the client
    falls back to a plain websocket when the server speaks no TLS (app.net.wsio). A meeting
    link's room and ``#k=…`` are dropped: ``.server`` is the address to keep and show."""
    if len(text.split()) > 1:
        raise LinkError("A rendezvous address has no spaces: like https://meet.example.org.")
    cleaned = text.strip().strip("<>\"'")
    if "://" not in cleaned and cleaned.partition(":")[0].lower() in _SCHEMES:
        cleaned = ""  # "https:", "https:/x": a scheme mistyped (not a host called "https")
    elif cleaned and "://" not in cleaned:
        cleaned = "https://" + cleaned
    scheme, sep, rest = cleaned.partition("://")
    if not sep or scheme.lower() not in ("peermeet", "https"):
        raise LinkError("A rendezvous address starts with https:// or peermeet://.")
    authority = rest.partition("/")[0]
    if not authority or authority.startswith(":"):  # ("https://" alone: server "https", 443)
        raise LinkError(f"Type the server's name after {scheme}://, like https://meet.example.org.")
    host, port = _parse_authority(authority, secure=scheme.lower() == "https")
    return Link(host, port, "", "", secure=scheme.lower() == "https")
