"""The chat log of a call (app.meeting.chat) stays bounded: by messages, and by characters now
that a long message is joined from its parts, with a clock of the test's own."""

from __future__ import annotations

import uuid

from app.meeting import events as ev
from app.meeting.chat import MAX_CHAT_LOG, MAX_CHAT_LOG_CHARS, CallChat
from app.meeting.chat_parts import MAX_JOINED
from app.net import protocol as p
from app.net.text import MAX_CHAT_CHARS


def chat() -> tuple[CallChat, list[ev.Event]]:
    said: list[ev.Event] = []
    return CallChat(said.append, lambda: 1000.0, lambda msg, to: None), said


def test_long_messages_joined_from_parts_keep_the_log_within_its_characters() -> None:
    """Each message 16,000 characters (four full parts): 5000 of them were 80 MB of text."""
    log_chat, said = chat()
    log = log_chat.log
    many = MAX_CHAT_LOG_CHARS // MAX_JOINED + 40
    for n in range(many):
        text = f"{n:>5} " + "x" * (MAX_JOINED - 6)
        parts = [text[i : i + MAX_CHAT_CHARS] for i in range(0, MAX_JOINED, MAX_CHAT_CHARS)]
        for msg in p.Chat.in_parts(parts, uuid.uuid4().hex):
            log_chat.received("olga", "Olga", msg)
    assert len(said) == many and all(len(e.text) == MAX_JOINED for e in log)
    assert sum(len(e.text) for e in log) <= MAX_CHAT_LOG_CHARS
    assert len(log) == MAX_CHAT_LOG_CHARS // MAX_JOINED  # as many as fit, and no fewer
    assert log[-1].text.startswith(f"{many - 1:>5} ")  # the oldest went, the newest stayed
    assert log is log_chat.log  # (the session hands this list out: trimmed in place)


def test_short_lines_still_go_by_their_count_and_a_trimmed_log_counts_right() -> None:
    log_chat, _ = chat()
    for n in range(MAX_CHAT_LOG + 10):
        log_chat.received("olga", "Olga", p.Chat(f"line {n}", uuid.uuid4().hex))
    log = log_chat.log
    assert len(log) == MAX_CHAT_LOG and log[0].text == "line 10"
    for n in range(MAX_CHAT_LOG_CHARS // MAX_CHAT_CHARS + 1):  # then long lines: by characters
        log_chat.received("ivy", "Ivy", p.Chat(f"{n:>4}" + "y" * 3996, uuid.uuid4().hex))
    assert sum(len(e.text) for e in log) <= MAX_CHAT_LOG_CHARS
    assert all(e.name == "Ivy" for e in log) and log[-1].text.startswith(" 250")
