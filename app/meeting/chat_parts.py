"""A long chat message, sent in parts (app.net._data: part i of n), shown as one message again.

Each peer has at most one message waiting for parts. It is shown once its last part came (any
part missing then is gone for good: the data channel keeps order, and lines sent again after a
rebuild go in order too), or as soon as a line that is not one of its parts comes, or when
PART_WAIT_S passed without a part of it, or when the peer leaves: what came, with GAP where parts
are missing. A peer that sends parts without end cannot make one message longer than MAX_JOINED
characters, nor keep more than one waiting (the roster's rate limit counts each part).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.net import protocol as p
from app.net.text import MAX_CHAT_CHARS

#: a message waiting for its next part is shown as it is after this long without one (a link
#: that died is rebuilt, and recent lines sent again, within a few seconds)
PART_WAIT_S = 10.0
MAX_JOINED = 4 * MAX_CHAT_CHARS  # characters in one message joined (the app's box holds that)
GAP = " […] "  # where parts of a message did not come


@dataclass
class _Waiting:
    message: str  # the id its parts share
    total: int
    texts: dict[int, str] = field(default_factory=dict)  # by part number
    size: int = 0  # characters so far
    last: float = 0.0  # when its latest part came

    def joined(self) -> str:
        out: list[str] = []
        for number in range(1, self.total + 1):
            text = self.texts.get(number)
            if text is not None:
                out.append(text)
            elif not out or out[-1] != GAP:
                out.append(GAP)
        return "".join(out)


class ChatJoiner:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._waiting: dict[str, _Waiting] = {}  # by peer id
        self._cut: dict[str, str] = {}  # by peer id: the message cut at MAX_JOINED (its rest goes)

    def take(self, peer_id: str, msg: p.Chat, text: str) -> list[str]:
        """The messages to show now that ``msg`` came from ``peer_id`` (``text``: its text made
        fit to show), in order: none while a message waits for more parts."""
        part, waiting = msg.part, self._waiting.get(peer_id)
        shown = []
        key = None if part is None else (part.message, part.total)
        if waiting is not None and key != (waiting.message, waiting.total):
            shown.append(self._finish(peer_id))  # another message came: the rest of it is lost
        cut = self._cut.pop(peer_id, None)
        if part is None:
            return [*shown, text]
        if part.message == cut:  # more of a message cut at MAX_JOINED: left out
            self._cut[peer_id] = cut
            return shown
        waiting = self._waiting.setdefault(peer_id, _Waiting(part.message, part.total))
        if part.number not in waiting.texts:
            text = text[: MAX_JOINED - waiting.size]
            waiting.texts[part.number] = text
            waiting.size += len(text)
        waiting.last = self._clock()
        if waiting.size >= MAX_JOINED and part.number < part.total:
            self._cut[peer_id] = part.message
        if part.number == part.total or waiting.size >= MAX_JOINED:
            shown.append(self._finish(peer_id))
        return shown

    def overdue(self) -> list[tuple[str, str]]:
        """(peer id, text) of each message that waited PART_WAIT_S for a part: shown as it is."""
        since = self._clock() - PART_WAIT_S
        late = [peer for peer, waiting in self._waiting.items() if waiting.last <= since]
        return [(peer, self._finish(peer)) for peer in late]

    def forget(self, peer_id: str) -> str | None:
        """What came of a message ``peer_id`` (who left) did not finish sending, if any."""
        self._cut.pop(peer_id, None)
        return self._finish(peer_id) if peer_id in self._waiting else None

    def _finish(self, peer_id: str) -> str:
        return self._waiting.pop(peer_id).joined()
