"""The offerer's nonce in a safety code (app.net.sas): only the nonce committed to, for that
offer, is taken."""

from __future__ import annotations

from app.net.sas import NONCE_BYTES, CodeNonce, commitment


def test_only_the_nonce_committed_to_for_that_offer_is_taken() -> None:
    mine = CodeNonce.fresh(3)
    assert mine.nonce is not None and len(mine.nonce) == NONCE_BYTES and not mine.pending
    assert CodeNonce.fresh(3).nonce != mine.nonce
    theirs = CodeNonce(3, commit=commitment(mine.nonce))
    assert theirs.pending
    other = bytes(NONCE_BYTES)
    for attempt, text in (
        (3, other.hex()),  # not the one committed to
        (2, mine.nonce.hex()),  # another offer's
        (3, mine.nonce.hex()[:-2]),  # too short
        (3, "zz" * NONCE_BYTES),  # not hex
        (3, "é" * 2 * NONCE_BYTES),
    ):
        assert not theirs.reveal(attempt, text) and theirs.pending
    assert theirs.reveal(3, mine.nonce.hex().upper()) and theirs.nonce == mine.nonce
    assert not theirs.pending and not theirs.reveal(3, mine.nonce.hex())  # once
    old = CodeNonce(3)  # a peer too old to commit: a code without a nonce, not pending
    assert not old.pending and not old.reveal(3, mine.nonce.hex())
