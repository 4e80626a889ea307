"""What the chat shows, as text and HTML (app.ui.chat_panel draws it): web addresses as links,
a person's name held apart from the time beside it, what a screen reader reads of a message, and
a long message in parts the others take.

A right-to-left name (Arabic, Hebrew) beside the time showed in mixed order: by the Unicode bidi
algorithm, the digits after it joined its run, and the time came before the name ("10:02 שלום").
The name goes between a first-strong isolate and its pop (FSI … PDI), in a left-to-right heading:
"name time" in that order, whichever way the name reads. (Names and messages that come from
others have their own isolates removed, app.net.text: these cannot be closed from inside.)
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from PySide6.QtCore import QTextBoundaryFinder

from app.net.text import MAX_CHAT_CHARS
from app.ui import style

MAX_LEN = MAX_CHAT_CHARS  # characters per message, as the others take it; longer input is cut
SAID_CHARS = 280  # of a longer message, a screen reader reads this much (the rest is shown)

#: web addresses in a message become links (what is around them stays plain text); a bare
#: ``www.`` address counts as one (it opens as https)
_WEB = re.compile(r"(?:https?://|(?<![\w.@/])www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)


class Line(NamedTuple):
    """One thing the chat showed, to be shown again (app.ui.chat_memory)."""

    kind: str  # "message", "notice", "divider"; "unsent" (a notice not to show again)
    text: str
    at: float  # time.time() when it came
    name: str = ""  # (a message's)
    mine: bool = False
    sender: str = ""


def heading(name: str, stamp: str, colour: str) -> str:
    """A message's heading as HTML: the name, then the time (shown left to right)."""
    small = f"color:{style.TEXT_DIM}; font-size:{style.pt(8)}"
    return (
        f'<b style="color:{colour}">{html.escape(style.isolated(name))}</b>'
        f'&nbsp;<span style="{small}">{stamp}</span>'
    )


def linkify(text: str) -> str:
    """``text`` as HTML: escaped, with its http(s) and www. addresses as links."""
    out, at = [], 0
    for found in _WEB.finditer(text):
        url, end = found.group(0), found.end()
        while text[end : end + 1] == ")" and url.count("(") > url.count(")"):
            url, end = url + ")", end + 1  # ...wiki/Python_(language): its own bracket
        shown = url
        if url[:4].lower() == "www.":
            url = "https://" + url
        out += [html.escape(text[at : found.start()]), f'<a href="{html.escape(url)}"']
        out.append(f' style="color:{style.ACCENT}">{html.escape(shown)}</a>')
        at = end
    return "".join(out) + html.escape(text[at:])


def said(text: str, limit: int = SAID_CHARS) -> str:
    """What a screen reader reads of a message as it comes: a long one (a page pasted) was read
    whole, minutes of it, and everything said after it waited."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if " " in cut[limit // 2 :]:  # at a word's end
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut} … (long message: the rest is in the chat)"


def trimmed(text: str) -> str:
    """A message as it is sent: blank lines before it and white space after it left out, the
    indent of its first line kept (pasted code); "" if there is nothing but white space."""
    return _BLANK_START.sub("", text.rstrip())


_BLANK_START = re.compile(r"\A(?:[^\S\n]*\n)+")


def split_message(text: str, limit: int = MAX_LEN) -> list[str]:
    """``text`` in messages of at most ``limit`` characters, cut after a line's end or a space
    where one is near the limit. The parts joined back are ``text`` exactly: the line break or
    space stays at the end of its part, and what begins the next (an indented line's spaces)
    stays with it. Where there is neither, the cut falls between two characters as they are
    seen, not inside one (an emoji and its skin tone, a letter and its accent)."""
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", limit // 2, limit)  # (the last place the break still fits)
        cut = cut if cut >= 0 else text.rfind(" ", limit // 2, limit)
        cut = cut + 1 if cut >= 0 else _whole(text, limit, limit // 2)
        parts.append(text[:cut])
        text = text[cut:]
    return [*parts, text] if text else parts


def units(text: str) -> int:
    """How long ``text`` is as Qt counts (UTF-16 units, an emoji two: the chat box's limit)."""
    return len(text.encode("utf-16-le")) // 2


def _whole(text: str, cut: int, least: int) -> int:
    """``cut`` (an index into ``text``) moved back to the start of the grapheme it falls in,
    if that is not before ``least`` (a cut in the middle of "👍🏽" sent "👍" and "🏽", each
    alone in a message of its own)."""
    at = units(text[:cut])  # (Qt counts UTF-16 units)
    finder = QTextBoundaryFinder(QTextBoundaryFinder.BoundaryType.Grapheme, text)
    finder.setPosition(at)
    if finder.isAtBoundary() or (back := finder.toPreviousBoundary()) < 0:
        return cut
    start = cut - len(text.encode("utf-16-le")[2 * back : 2 * at].decode("utf-16-le"))
    return start if start >= least else cut
