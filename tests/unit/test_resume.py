"""The one-time secrets that let a person be known again after a network change."""

from __future__ import annotations

import itertools

from app.meeting.resume import KEPT, Tokens


def _tokens() -> Tokens:
    counter = itertools.count(1)
    return Tokens(lambda n: f"{next(counter):0{2 * n}x}")


def test_a_secret_given_to_someone_names_them_once() -> None:
    tokens = _tokens()
    given = tokens.give("hana")
    tokens.give("gus")
    assert tokens.gave("hana")
    assert tokens.whose("not-ours") is None
    assert tokens.whose(given) == "hana"
    assert tokens.whose(given) is None  # spent
    assert not tokens.gave("hana")


def test_secrets_given_over_connections_that_never_reached_them_leave_older_ones_good() -> None:
    """Connections made afresh while someone was cut off each gave a secret that never reached
    them: the one they hold is still good; all are spent together."""
    tokens = _tokens()
    held = tokens.give("ivy")
    later = [tokens.give("ivy") for _ in range(KEPT - 1)]
    assert tokens.whose(held) == "ivy"
    assert tokens.whose(later[-1]) is None  # (spent with it)
    oldest = tokens.give("ivy")
    for _ in range(KEPT):
        tokens.give("ivy")
    assert tokens.whose(oldest) is None  # only the latest few are kept


def test_secrets_got_are_kept_per_person_and_forgotten_with_them() -> None:
    tokens = _tokens()
    tokens.got("hana", "aa" * 16)
    tokens.got("hana", "bb" * 16)  # a new connection's
    tokens.got("gus", "x" * 129)  # (too long to be ours: not kept)
    tokens.got("gus", "")
    assert tokens.mine() == {"hana": "bb" * 16}
    tokens.give("hana")
    tokens.forget("hana")
    assert tokens.mine() == {} and not tokens.gave("hana")


def test_only_someone_who_gave_a_secret_too_may_come_back_with_ours() -> None:
    """An older PeerMeet gives none, and drops ours unread: it would come back as someone new."""
    tokens = _tokens()
    tokens.give("old")
    assert tokens.gave("old") and not tokens.may_return("old")
    tokens.give("ivy")
    tokens.got("ivy", "aa" * 16)
    assert tokens.may_return("ivy")
