"""Text that came from another person (display names, chat), made fit to show.

Control characters would reach a terminal as escape sequences (headless output), and Unicode's
bidirectional overrides, embeddings and isolates let a name or message display reversed or
reordered text ("name spoofing"). Names lose every control and format character; chat keeps
line breaks, tabs and the format characters that real text needs (zero-width joiners in emoji,
the left-to-right and right-to-left marks), and loses the rest of the controls and the bidi
overrides, embeddings and isolates: the Unicode bidi algorithm lays RTL text out without them.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 64
MAX_CHAT_CHARS = 4000  # a chat message is cut to this many characters, sent or received
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_utf8(text: str) -> bool:
    """False for text that cannot be UTF-8: a lone surrogate ("\\ud800"), which JSON allows."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def clean_name(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """A display name fit to show: no control or format characters, trimmed, at most ``limit``."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return " ".join(kept.split())[:limit]


def clean_chat(text: str, limit: int = MAX_CHAT_CHARS) -> str:
    """A chat message fit to show (see the module doc), at most ``limit`` characters."""
    return "".join(ch for ch in text[:limit] if _kept_in_chat(ch))


def _kept_in_chat(ch: str) -> bool:
    if ch in "\n\t":
        return True
    category = unicodedata.category(ch)
    if category == "Cf":
        return ch not in _BIDI_CONTROLS
    return category not in ("Cc", "Cs", "Co", "Cn")
