"""Fixtures shared by the integration tests (a test file may define its own ``server``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.net.rendezvous import RendezvousServer
from tests.integration.relays import Freezer


@pytest.fixture
async def server() -> AsyncIterator[RendezvousServer]:
    """A real rendezvous server on loopback, any free port."""
    srv = RendezvousServer(host="127.0.0.1", port=0)
    await srv.start()
    yield srv
    await srv.close()


@pytest.fixture
async def freezer(server: RendezvousServer) -> AsyncIterator[Freezer]:
    """A Freezer relay in front of the test's ``server`` (tests.integration.frozen)."""
    relay = Freezer(server.port)
    await relay.start()
    yield relay
    await relay.close()
