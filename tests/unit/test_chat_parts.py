"""A long message's parts shown as one message again (app.meeting.chat_parts), with a clock of
the test's own: lost and late parts, lines from PeerMeet before parts, a peer sending parts
without end."""

from __future__ import annotations

from app.meeting.chat_parts import GAP, MAX_JOINED, PART_WAIT_S, ChatJoiner
from app.net import protocol as p


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def take(joiner: ChatJoiner, msg: p.Chat, peer: str = "olga") -> list[str]:
    return joiner.take(peer, msg, msg.text)


def test_the_parts_of_a_message_are_shown_as_one_when_the_last_came() -> None:
    joiner = ChatJoiner(Clock())
    first, second, third = p.Chat.in_parts(["one ", "two ", "three"], "m")
    assert take(joiner, first) == [] and take(joiner, second) == []
    assert take(joiner, p.Chat("from Ivy", "i1"), "ivy") == ["from Ivy"]  # (another peer's)
    assert take(joiner, third) == ["one two three"]
    assert joiner.overdue() == []


def test_lines_of_peermeet_before_parts_are_shown_each_on_its_own() -> None:
    joiner = ChatJoiner(Clock())
    assert take(joiner, p.Chat("part one ", "9f" * 16)) == ["part one "]
    assert take(joiner, p.Chat("part two", "8e" * 16)) == ["part two"]


def test_a_message_that_waits_too_long_for_its_next_part_is_shown_as_it_is() -> None:
    clock = Clock()
    joiner = ChatJoiner(clock)
    first, second, _third = p.Chat.in_parts(["one ", "two ", "three"], "m")
    take(joiner, first)
    clock.now += PART_WAIT_S - 1
    take(joiner, second)  # (the wait starts again with each part)
    clock.now += PART_WAIT_S - 1
    assert joiner.overdue() == []
    clock.now += 1
    assert joiner.overdue() == [("olga", "one two " + GAP)]
    assert joiner.overdue() == []


def test_a_lost_part_shows_as_a_gap_and_what_came_after_it_stays_in_order() -> None:
    joiner = ChatJoiner(Clock())
    first, _second, third = p.Chat.in_parts(["one ", "two ", "three"], "m")
    take(joiner, first)
    assert take(joiner, third) == ["one " + GAP + "three"]  # the last part: nothing else comes
    take(joiner, p.Chat("four ", "n:1/2"))
    assert take(joiner, p.Chat("a line", "x")) == ["four " + GAP, "a line"]  # (in that order)


def test_what_came_of_a_message_is_shown_when_its_sender_leaves() -> None:
    joiner = ChatJoiner(Clock())
    take(joiner, p.Chat("bye for", "m:1/2"))
    assert joiner.forget("ivy") is None
    assert joiner.forget("olga") == "bye for" + GAP
    assert joiner.forget("olga") is None


def test_a_peer_sending_parts_without_end_gets_no_message_longer_than_the_cap() -> None:
    """A hostile app: parts of 4000 characters, message after message, each claiming 16
    parts. Nothing waits but one message, and none shown is longer than MAX_JOINED (with the
    gap that says the rest did not come)."""
    joiner = ChatJoiner(Clock())
    shown: list[str] = []
    for message in range(50):
        for number in range(1, p.MAX_PARTS):  # (never the last)
            line = p.Chat("y" * 4000, f"m{message}:{number}/{p.MAX_PARTS}")
            shown += take(joiner, line)
    assert len(shown) == 50  # one a message: what fitted, and the gap where its rest was left out
    assert all(text == "y" * MAX_JOINED + GAP for text in shown)
    assert len(joiner._waiting) <= 1
