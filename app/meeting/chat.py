"""The chat of one call, for app.meeting.roster: lines sent (and sent again over a rebuilt link),
lines received (repeats dropped, a long message's parts joined: app.meeting.chat_parts), the
log of what was shown, and how fast each peer may send before its messages are dropped.

The roster owns the links and who is in the call; it hands this what a link brings and asks it
what to send. Nothing here knows a PeerLink: sending is a callable.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence

from app.meeting import events as ev
from app.meeting.chat_parts import ChatJoiner
from app.net import protocol as p
from app.net.rooms import TokenBucket
from app.net.text import MAX_CHAT_CHARS, clean_chat

log = logging.getLogger(__name__)

#: chat lines sent this recently go again over a peer's rebuilt link: the dead one may have
#: swallowed them (recovery takes a few seconds to see a link is dead); receivers drop repeats
RESEND_CHAT_S = 30.0
SEEN_CHAT_IDS = 512  # per peer: message ids remembered to drop repeats
MAX_CHAT_ID = 64  # characters: a longer id is refused (512 of 60 KB each were 31 MB a peer)
#: chat lines and media states a peer may send: per second, and at once (a long paste is cut
#: into 4000-character lines; lines are sent again after a rebuild); more are dropped
PEER_MSG_RATE, PEER_MSG_BURST = 10.0, 100.0
#: a chat line of many lines counts one more for each this many line breaks in it: each is a
#: paragraph for the chat's view to lay out (~0.1 ms), and 10 lines a second of 4000 line breaks
#: each kept the call window busy for good
BREAKS_A_TOKEN = 50
FLOOD_TOLD_S = 60.0  # "sending faster than anyone can read" at most once a minute a peer
#: the log keeps at most this many messages, and this many characters of text in all (the
#: oldest go): a message joined from parts may be 16,000 characters, so 5000 of them were 80 MB
MAX_CHAT_LOG, MAX_CHAT_LOG_CHARS = 5000, 1_000_000

Send = Callable[[p.Message, str | None], None]  # (message, to: one peer id or None for all)


class CallChat:
    def __init__(self, emit: Callable[[ev.Event], None], clock: Callable[[], float], send: Send):
        self.log: list[ev.ChatReceived] = []  # what was shown, oldest first (appended to only)
        self.dropped: dict[str, int] = {}  # per peer: messages dropped as one too many
        self._emit, self._clock, self._send = emit, clock, send
        self._log_chars = 0  # of the texts in ``log``
        #: (sent at, line, the peers it went to) for RESEND_CHAT_S
        self._sent: deque[tuple[float, p.Chat, frozenset[str]]] = deque()
        self._seen: dict[str, OrderedDict[str, None]] = {}
        self._joiner = ChatJoiner(clock)  # a long message's parts, shown as one again
        self._inbound: dict[str, TokenBucket] = {}  # per peer: PEER_MSG_RATE
        self._flood_told: dict[str, float] = {}  # per peer: when a flood was last said

    # --- sending -----------------------------------------------------------------------------
    def send(self, text: str | Sequence[str], to: str | None, everyone: Iterable[str]) -> None:
        """Send a chat message to ``to``, or to ``everyone`` (every peer of the call, with a
        link or between two: a rebuilt link gets it from ``resend``): a line (cut at
        MAX_CHAT_CHARS), or one in parts (each cut so; receivers show them as one)."""
        parts = [part[:MAX_CHAT_CHARS] for part in ([text] if isinstance(text, str) else text)]
        now = self._clock()
        while self._sent and self._sent[0][0] < now - RESEND_CHAT_S:
            self._sent.popleft()
        peers = frozenset(everyone) if to is None else frozenset({to})
        for at in range(0, len(parts), p.MAX_PARTS):  # (more: the rest as messages of their own)
            for chat in p.Chat.in_parts(parts[at : at + p.MAX_PARTS], uuid.uuid4().hex):
                self._sent.append((now, chat, peers))
                self._send(chat, to)

    def resend(self, peer_id: str, send: Callable[[p.Message], None]) -> None:
        """A new link to ``peer_id`` opened: the lines it may have missed go again over it."""
        since = self._clock() - RESEND_CHAT_S
        again = [chat for t, chat, peers in self._sent if t >= since and peer_id in peers]
        for chat in again:
            send(chat)
        if again:
            log.info("sending %d recent chat line(s) again to %s", len(again), peer_id)

    # --- receiving ---------------------------------------------------------------------------
    def flooded(self, peer_id: str, name: str, msg: p.Message) -> bool:
        """Whether a message (a chat line or a media state) from ``peer_id`` is one too many (a
        broken or hostile app must not bury the chat or hold up the call): dropped, and said
        once in a while."""
        bucket = self._inbound.get(peer_id)
        if bucket is None:
            bucket = TokenBucket(PEER_MSG_RATE, PEER_MSG_BURST, clock=self._clock)
            self._inbound[peer_id] = bucket
        shown = msg.text[:MAX_CHAT_CHARS] if isinstance(msg, p.Chat) else ""
        breaks = sum(shown.count(mark) for mark in "\n\u2028\u2029")
        if bucket.allow(1 + breaks // BREAKS_A_TOKEN):
            return False
        self.dropped[peer_id] = self.dropped.get(peer_id, 0) + 1
        now, told = self._clock(), self._flood_told.get(peer_id)
        if told is None or now - told >= FLOOD_TOLD_S:
            self._flood_told[peer_id] = now
            log.warning("dropping messages from %s: too many too fast", peer_id)
            self._emit(
                ev.Notice(
                    f"{name or 'Someone'} is sending messages faster than anyone can "
                    "read them: some of them are not shown."
                )
            )
        return True

    def received(self, peer_id: str, name: str, msg: p.Chat) -> None:
        """A chat line came from ``peer_id`` (not one too many): shown, unless it is a repeat
        or a part of a message still waiting for more."""
        if self._first_time(peer_id, msg.msg_id):
            for text in self._joiner.take(peer_id, msg, clean_chat(msg.text)):
                self._show(peer_id, name, text)

    def overdue(self, name_of: Callable[[str], str]) -> None:
        """Show each long message that waited too long for its next part as it is (called
        once a second; ``name_of``: a peer's name by its id)."""
        for peer_id, text in self._joiner.overdue():
            self._show(peer_id, name_of(peer_id), text)

    def forget(self, peer_id: str, name: str) -> None:
        """``peer_id`` left: what came of a message it did not finish is shown (call this
        before saying it left), and what was kept for it goes."""
        self._seen.pop(peer_id, None)
        if (unfinished := self._joiner.forget(peer_id)) is not None:
            self._show(peer_id, name, unfinished)
        self._inbound.pop(peer_id, None)
        self._flood_told.pop(peer_id, None)
        self.dropped.pop(peer_id, None)

    def _first_time(self, peer_id: str, msg_id: str) -> bool:
        """False for a chat line already received from ``peer_id`` (sent again after a rebuild)."""
        if len(msg_id) > MAX_CHAT_ID:  # ours are 32 (uuid hex): not kept, not shown
            return False
        seen = self._seen.setdefault(peer_id, OrderedDict())
        if msg_id in seen:
            return False
        seen[msg_id] = None
        if len(seen) > SEEN_CHAT_IDS:
            seen.popitem(last=False)
        return True

    def _show(self, peer_id: str, name: str, text: str) -> None:
        chat = ev.ChatReceived(peer_id, name, text)
        self.log.append(chat)
        self._log_chars += len(text)
        gone = max(0, len(self.log) - MAX_CHAT_LOG)
        for old in self.log[:gone]:
            self._log_chars -= len(old.text)
        while self._log_chars > MAX_CHAT_LOG_CHARS and gone < len(self.log) - 1:
            self._log_chars -= len(self.log[gone].text)
            gone += 1
        del self.log[:gone]  # (in place: the session hands this very list out)
        self._emit(chat)
