"""The offerer's nonce in a connection's safety code (see app.net.peers.safety_code).

The offerer commits to a random nonce before its offer (``Commit``: a hash of it) and reveals it
once the answer came (``Reveal``). The code hashes both certificates of the DTLS handshake and
this nonce, so each side fixes its part before learning the part that makes the code: someone in
between, who has a handshake of their own with each end, cannot choose certificates that give
both ends one code (without it 10^8 tries would do, seconds of hashing). Every connection
(each attempt) has its own nonce, as aiortc gives each its own certificate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

NONCE_BYTES = 16


def commitment(nonce: bytes) -> str:
    """What ``Commit`` carries for ``nonce``."""
    return hashlib.sha256(b"peermeet-safety-code|" + nonce).hexdigest()


@dataclass
class CodeNonce:
    """One link's: the offerer's own ``nonce``; an answerer's ``commit``, then the nonce
    revealed for it. A link with neither (a peer too old to send them) has a code without."""

    attempt: int = 0  # the offer's (an answerer takes only what belongs to it)
    nonce: bytes | None = None
    commit: str | None = None

    @classmethod
    def fresh(cls, attempt: int) -> CodeNonce:
        return cls(attempt, secrets.token_bytes(NONCE_BYTES))

    @property
    def pending(self) -> bool:
        """Committed to, not yet revealed: no code to show yet."""
        return self.commit is not None and self.nonce is None

    def reveal(self, attempt: int, text: str) -> bool:
        """Take the revealed nonce (hex) if it is the one committed to for this attempt."""
        if not self.pending or attempt != self.attempt or len(text) != 2 * NONCE_BYTES:
            return False
        try:
            nonce = bytes.fromhex(text)
        except ValueError:
            return False
        assert self.commit is not None
        if not hmac.compare_digest(commitment(nonce), self.commit):
            return False
        self.nonce = nonce
        return True
