"""The host's knock desk over a scripted connection (no network): the host commits to its nonce,
reveals it only once the knock is put to the host, and knocks that end before that cost their
source (counted per normalised address)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import cast

import pytest

from app.net import protocol
from app.net.knock import GuestKey, HostIdentity, knock_code, nonce_commitment
from app.net.knockdesk import KnockDecision, KnockDesk, KnockRequest, serve_knock
from app.net.seal import b64d, b64e
from app.net.wsio import WsConnection

pytestmark = pytest.mark.timeout(10)


class Conn:
    """What the guest sends, in order; ``None`` is a hang-up, ``"hold"`` waits forever."""

    def __init__(self, remote: str, script: Sequence[str | None]) -> None:
        self.remote, self._script = remote, list(script)

    async def recv_text(self, timeout: float | None = None) -> str | None:  # noqa: ASYNC109
        await asyncio.sleep(0)
        item = self._script.pop(0) if self._script else None
        if item == "hold":
            async with asyncio.timeout(timeout):
                await asyncio.Event().wait()
        return item


class Line:
    def __init__(self, remote: str, script: Sequence[str | None]) -> None:
        self.conn = cast(WsConnection, Conn(remote, script))
        self.peer_id = ""
        self.sent: list[protocol.Message] = []
        self.closed = False

    def send(self, msg: protocol.Message | str) -> bool:
        assert isinstance(msg, protocol.Message)
        self.sent.append(msg)
        return True

    def fail(self, code: str, detail: str = "") -> None:
        self.sent.append(protocol.Error(code, detail))
        self.closed = True

    def finish(self) -> None:
        self.closed = True

    def codes(self) -> list[str]:
        return [m.code for m in self.sent if isinstance(m, protocol.Error)]


class Host:
    def __init__(self, **kwargs: float | tuple[float, float]) -> None:
        self.identity = HostIdentity.generate()
        self.asked: list[KnockRequest] = []
        self.desk = KnockDesk(self.identity.public, self._decide, **kwargs)  # type: ignore[arg-type]

    async def _decide(self, request: KnockRequest) -> KnockDecision:
        self.asked.append(request)
        box = self.identity.seal_secret(request.guest_pub, request.nonce, request.room, "s")
        return KnockDecision(True, box)

    async def knock(self, remote: str, *script: str | None, guest: GuestKey | None = None) -> Line:
        guest = guest or GuestKey()
        line = Line(remote, script)
        await serve_knock(self.desk, line, protocol.Knock("room", "Bob", b64e(guest.commitment)))
        return line


def reveal(guest: GuestKey) -> str:
    return protocol.KnockReveal(b64e(guest.public)).encode()


async def test_the_nonce_comes_only_with_the_prompt_and_matches_the_commitment() -> None:
    host, guest = Host(), GuestKey()
    line = await host.knock("10.0.0.7", reveal(guest), "hold", guest=guest)
    wait, opened, admitted = line.sent
    assert isinstance(wait, protocol.KnockWait) and isinstance(opened, protocol.KnockNonce)
    assert isinstance(admitted, protocol.Admitted)
    (request,) = host.asked
    assert b64e(request.nonce) not in wait.encode()  # the wait tells nothing of the nonce …
    assert b64d(wait.commit) == nonce_commitment(request.nonce)  # … but binds the host to it
    assert b64d(opened.nonce) == request.nonce
    assert knock_code(b64d(wait.pub), guest.public, b64d(opened.nonce)) == request.code
    assert host.desk.failures == 0


async def test_a_guest_gone_after_the_wait_learns_no_code_and_costs_its_address() -> None:
    host = Host()  # a knock per 10 s, bursts of 6
    line = await host.knock("10.0.0.7", None)  # hangs up after knock_wait, before knock_reveal
    (wait,) = line.sent
    assert isinstance(wait, protocol.KnockWait) and not host.asked
    assert not any(isinstance(m, protocol.KnockNonce) for m in line.sent)
    assert host.desk.failures == 1
    # one such knock spends the whole burst: the address's next knock is refused
    honest = GuestKey()
    assert (await host.knock("10.0.0.7", reveal(honest), "hold", guest=honest)).codes() == [
        "knock_limited"
    ]
    assert (await host.knock("10.0.0.8", None)).codes() == []  # other addresses are not


async def test_slow_or_malformed_reveals_count_as_failures() -> None:
    host = Host(reveal_timeout=0.01, per_ip=(0.0, 100.0), failure_cost=1.0)
    other = GuestKey()
    for script in (
        ["hold"],  # no reveal in time
        [reveal(other)],  # a key that is not the committed one
        [protocol.Ping().encode()],  # not a reveal
    ):
        await host.knock("10.0.0.7", *script)
    assert host.desk.failures == 3 and not host.asked


async def test_limits_count_normalised_addresses() -> None:
    """One /64 is one source, and an IPv4-mapped address is the IPv4 one: fresh addresses from
    one network do not buy fresh tries."""
    host = Host()
    await host.knock("2001:db8:1:2::1", None)
    assert (await host.knock("2001:db8:1:2::99", None)).codes() == ["knock_limited"]
    await host.knock("192.0.2.5", None)
    assert (await host.knock("::ffff:192.0.2.5", None)).codes() == ["knock_limited"]
    assert (await host.knock("2001:db8:1:3::1", None)).codes() == []  # another /64


async def test_a_hang_up_during_the_prompt_is_no_failure() -> None:
    """The host was asked (and the prompt withdrawn): that knock is not one of the silent ones."""
    host, guest = Host(), GuestKey()

    async def hold(request: KnockRequest) -> KnockDecision:
        host.asked.append(request)
        await asyncio.Event().wait()
        return KnockDecision(False)

    host.desk._decide = hold
    line = await host.knock("10.0.0.7", reveal(guest), None, guest=guest)
    assert [type(m) for m in line.sent] == [protocol.KnockWait, protocol.KnockNonce]
    assert len(host.asked) == 1 and host.desk.failures == 0


async def test_an_old_style_knock_is_told_to_update() -> None:
    host = Host()
    line = Line("10.0.0.7", [])
    old = protocol.KnockV1("room", "Bob", b64e(GuestKey().commitment))
    await serve_knock(host.desk, line, old)
    assert line.codes() == ["knock_outdated"] and line.closed
    assert not host.asked and host.desk.failures == 0
