from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.net.peers import set_loopback_only


@pytest.fixture
def loopback() -> Iterator[None]:
    """Keep every ICE candidate on 127.0.0.1 (tests never send traffic elsewhere)."""
    set_loopback_only(True)
    yield
    set_loopback_only(False)
