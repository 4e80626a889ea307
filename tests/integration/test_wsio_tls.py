"""The https form of a link reaches a host's own rendezvous, which speaks no TLS; a server that
does speak TLS but has a bad certificate is never stepped around."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest
from aiohttp import web

from app.errors import RendezvousUnreachable, UntrustedCertificate
from app.net import protocol
from app.net.rendezvous import RendezvousServer
from app.net.signaling import SignalingClient
from app.net.wsio import ws_connect
from tests import certs

pytestmark = pytest.mark.timeout(10)
FALLBACK_LOG = "speaks no TLS"


async def test_wss_to_a_plain_rendezvous_falls_back_to_ws(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="app.net.wsio")
    server = RendezvousServer("127.0.0.1", 0)
    port = await server.start()
    try:
        alice = await SignalingClient.connect(f"wss://127.0.0.1:{port}/ws", 5.0)
        bob = await SignalingClient.connect(f"ws://127.0.0.1:{port}/ws", 5.0)
        try:
            await alice.create("room-1", "Alice", "small", 600)
            await bob.join("room-1", "Bob")
            assert isinstance(await alice.recv(), protocol.PeerJoined)  # a working connection
        finally:
            await alice.close()
            await bob.close()
    finally:
        await server.close()
    assert FALLBACK_LOG in caplog.text


def _self_signed(tmp: Path) -> ssl.SSLContext:
    cert, key, _ = certs.make(tmp, self_signed=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def test_a_bad_certificate_is_refused_not_stepped_around(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.net.wsio")
    plain_requests = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal plain_requests
        plain_requests += 1
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        return ws

    app = web.Application()
    app.router.add_get("/ws", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_self_signed(tmp_path))
    await site.start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(UntrustedCertificate, match="does not trust \\(self-signed") as e:
            await ws_connect(f"wss://127.0.0.1:{port}/ws", 5.0)
        assert isinstance(e.value, RendezvousUnreachable) and e.value.exit_status == 3
    finally:
        await runner.cleanup()
    assert plain_requests == 0 and FALLBACK_LOG not in caplog.text
