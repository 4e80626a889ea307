"""Who is who on the rendezvous (app.meeting.whois): keys that stay, rendezvous ids that change,
newcomers held back while someone is away. A fake clock; nothing sleeps."""

from __future__ import annotations

from app.meeting.whois import HOLD_S, Whois


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_someone_new_is_kept_under_the_id_first_met() -> None:
    whois = Whois(Clock())
    assert whois.met("a1") == "a1"
    assert (whois.key("a1"), whois.rendezvous_id("a1")) == ("a1", "a1")
    assert whois.met("a1") == "a1"  # (met again: the same)
    assert whois.keys() == {"a1"}


def test_a_claim_moves_the_rendezvous_id_and_keeps_the_key() -> None:
    whois = Whois(Clock())
    whois.met("a1")
    assert whois.claimed("a1", "a2")
    assert whois.rendezvous_id("a1") == "a2"
    assert whois.key("a2") == "a1"
    assert whois.key("a1") is None  # the old id is nobody now: its peer_left is no news
    assert whois.met("a2") == "a1"  # its signaling is the same person's
    assert whois.claimed("a1", "a3") and whois.key("a2") is None


def test_nobody_can_claim_someone_elses_id() -> None:
    whois = Whois(Clock())
    whois.met("a1")
    whois.met("b1")
    assert not whois.claimed("b1", "a1")
    whois.mine = "m1"
    assert not whois.claimed("b1", "m1")  # nor ours
    assert (whois.key("a1"), whois.rendezvous_id("b1")) == ("a1", "b1")


def test_away_keeps_no_rendezvous_id_and_forget_drops_the_person() -> None:
    whois = Whois(Clock())
    whois.met("a1")
    whois.met("b1")
    whois.away("a1")
    assert whois.rendezvous_id("a1") is None and whois.key("a1") is None
    assert whois.keys() == {"b1"}
    assert whois.claimed("a1", "a2") and whois.keys() == {"a1", "b1"}
    whois.forget(["a1", "b1"])
    assert whois.keys() == set() and whois.key("a2") is None


def test_a_newcomer_is_held_back_until_claimed() -> None:
    clock = Clock()
    whois = Whois(clock)
    whois.met("a1")
    whois.away("a1")
    whois.hold("a2")
    clock.now += 1.0
    whois.hold("a2")  # (a second word of it keeps the first time)
    assert whois.held("a2") == 100.0
    assert whois.claimed("a1", "a2")
    assert whois.held("a2") is None
    clock.now += HOLD_S
    assert whois.due(anyone_away=False) == []


def test_a_newcomer_nobody_claims_is_taken_as_new_after_the_hold() -> None:
    clock = Clock()
    whois = Whois(clock)
    whois.hold("n1")
    clock.now += HOLD_S - 0.1
    assert whois.due(anyone_away=True) == []
    clock.now += 0.1
    assert whois.due(anyone_away=True) == [("n1", 100.0)]
    assert whois.due(anyone_away=True) == [] and whois.held("n1") is None


def test_held_newcomers_are_taken_at_once_when_nobody_is_away_any_more() -> None:
    clock = Clock()
    whois = Whois(clock)
    whois.hold("n1")
    clock.now += 0.5
    whois.hold("n2")
    assert whois.due(anyone_away=False) == [("n1", 100.0), ("n2", 100.5)]


def test_a_held_newcomer_that_leaves_or_speaks_is_released() -> None:
    whois = Whois(Clock())
    whois.hold("n1")
    assert whois.release("n1") == 100.0
    assert whois.release("n1") is None
    whois.hold("n2")
    assert whois.met("n2") == "n2" and whois.held("n2") is None
