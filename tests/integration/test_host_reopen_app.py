"""A meeting hosted from the desktop app's HostService on a standalone `peermeet-rendezvous`
(a real process) that restarts WITHOUT --state, and the host's app: it opens the room again
while nobody from it is in the call, leaves that to the host's call when the host is in it
(also on +1 hour), and does not try a check that breaks again at every sweep
(app.meeting.host_watch)."""

from __future__ import annotations

import asyncio

import pytest

from app.errors import PeerMeetError
from app.meeting import events as ev
from app.meeting.hosting import HostService
from app.meeting.links import parse_link
from app.meeting.rejoin import MISSING_TEXT, TAKEN_TEXT
from app.meeting.reopening import for_meeting, same_room
from app.meeting.store import ENDED, LIVE, MeetingStore
from tests.integration.test_host_reopen import (
    Counted,
    Peer,
    Standalone,
    counted_fixture,  # noqa: F401  (the "counted" fixture)
    host_fixture,  # noqa: F401  (the "host" fixture)
    quick_rejoin,  # noqa: F401  (a fixture)
    refusal,
    server_fixture,  # noqa: F401  (the "server" fixture)
)
from tests.integration.test_session import until

pytestmark = pytest.mark.usefixtures("loopback")


async def test_the_hosts_app_opens_the_room_again_while_nobody_from_it_is_in_the_call(
    server: Standalone, counted: Counted
) -> None:
    """The host's app is open but not in the call; a guest is, alone. The server restarts
    without its rooms: the app notices and opens the room again (same id, name, size, its old
    expiry) with a new owner token in My meetings; the guest that was waiting is back in it
    (a newcomer finds it there), and End in My meetings reaches it. The app looks at its
    meeting every 2 s, not at every sweep (0.1 s), and not at all once it ended."""
    host = counted.svc
    record = await host.start("Team sync", "mid", 1800, rendezvous=server.url)
    link, ends, old_token = parse_link(record.link), record.expires_at, record.owner_token
    gus, ann = Peer("Gus"), Peer("Ann")
    try:
        await gus.session.join(link)
        looks, took = await counted.looks_in(3.0)
        assert 1 <= looks <= took / 2 + 1, (looks, took)
        old_id = gus.session.my_id
        await server.stop()
        await until(lambda: not gus.session._signaling_ok)
        await server.start()  # the same port, no rooms
        await until(lambda: gus.session._signaling_ok and gus.session.my_id != old_id, limit=20)
        assert gus.session.ended is None
        assert not [e for e in gus.events if isinstance(e, ev.Notice) and e.text == MISSING_TEXT]
        assert abs(gus.session.expires_at - ends) <= 1.5, (gus.session.expires_at, ends)
        await until(lambda: record.owner_token != old_token)  # My meetings has the new one
        saved = MeetingStore(host.store.path).find(record.link)
        assert saved is not None and saved.owner_token == record.owner_token != ""
        assert record.state == LIVE and abs(record.expires_at - ends) <= 1.5
        await ann.session.join(link)  # the room is there, and the guest in it
        await until(lambda: ann.sees(gus) and gus.sees(ann), limit=20)
        await host.end(record.link)  # with the new token
        await until(lambda: gus.session.ended == "ended" and ann.session.ended == "ended")
        assert record.state == ENDED and await refusal(link) == "room_ended"
        looks, _ = await counted.looks_in(1.5)
        assert looks == 0  # an ended meeting is not looked at
    finally:
        await ann.close()
        await gus.close()


@pytest.mark.usefixtures("quick_rejoin")
async def test_the_hosts_call_alone_opens_the_room_again_when_the_host_is_in_it(
    server: Standalone, counted: Counted
) -> None:
    """The host is in the call (as the desktop app's Bridge says: host_controls.link_calls)
    when the server restarts: the call opens the room again and the app's own check leaves
    that meeting to it (one owner token, no "someone else opened it" notice). Once the host
    has left the call, the app looks at the meeting again."""
    host = counted.svc
    record = await host.start("Team sync", "small", 1800, rendezvous=server.url)
    link, old_token = parse_link(record.link), record.owner_token
    hana, gus = Peer("Hana"), Peer("Gus")
    host.in_call = lambda text: hana.session.ended is None and same_room(text, link)
    try:
        hana.session.owner = for_meeting(host, link)
        await hana.session.join(link)
        await gus.session.join(link)
        await until(lambda: hana.sees(gus) and gus.sees(hana))
        old = {hana.session.my_id, gus.session.my_id}
        since = counted.connects
        await server.stop()
        await until(lambda: not hana.session._signaling_ok and not gus.session._signaling_ok)
        await server.start()
        await until(lambda: not {hana.session.my_id, gus.session.my_id} & old, limit=30)
        await until(lambda: record.owner_token != old_token)  # from the call
        await asyncio.sleep(2.5)  # (a check of the app's own would have come by now)
        assert counted.connects == since  # the app did not try: the call did it alone
        assert not [e for e in hana.events if isinstance(e, ev.Notice) and e.text == TAKEN_TEXT]
        token = record.owner_token
        await hana.close()  # the host leaves the call; the app looks at the meeting again
        await until(lambda: counted.connects > since, limit=5)
        await asyncio.sleep(0.5)
        assert record.owner_token == token and record.state == LIVE  # (it is there: as it was)
        await host.end(record.link)
        await until(lambda: gus.session.ended == "ended")
    finally:
        await gus.close()
        await hana.close()


async def test_plus_one_hour_leaves_a_lost_room_to_the_hosts_call(
    server: Standalone, host: HostService
) -> None:
    """The host is in the call when the server restarts without its rooms, and presses +1 hour
    in My meetings while the call is getting back in (its plain join just heard "no such
    room"). The call is the one that opens the room again: +1 hour says so and to try again in
    a moment, rather than opening it too, which left the call's own create told "room exists"
    and the host told that someone else had taken the meeting (or My meetings marking it
    taken, had the call been first)."""
    record = await host.start("Team sync", "small", 1800, rendezvous=server.url)
    link, old_token = parse_link(record.link), record.owner_token
    hana = Peer("Hana")
    host.in_call = lambda text: hana.session.ended is None and same_room(text, link)
    try:
        hana.session.owner = for_meeting(host, link)
        await hana.session.join(link)
        await server.stop()
        await until(lambda: not hana.session._signaling_ok)
        await server.start()  # the same port, no rooms
        tries = hana.connects
        await until(lambda: hana.connects > tries, limit=10)  # its plain join: "no such room"
        await asyncio.sleep(0.3)
        assert not hana.session._signaling_ok
        with pytest.raises(PeerMeetError) as info:
            await host.extend(record.link, 600)
        assert "your call is opening it again" in str(info.value)
        assert record.state == LIVE and not record.taken and record.owner_token == old_token
        await until(lambda: hana.session._signaling_ok, limit=20)
        await until(lambda: record.owner_token != old_token)  # the call's, in My meetings
        assert not [e for e in hana.events if isinstance(e, ev.Notice) and e.text == TAKEN_TEXT]
        assert not record.taken
        await host.extend(record.link, 600)  # and now +1 hour works, with the call's token
        await until(lambda: hana.session.expires_at == record.expires_at)
    finally:
        await hana.close()


async def test_a_check_that_breaks_is_not_tried_again_at_every_sweep(
    server: Standalone, counted: Counted
) -> None:
    """A check of an outside meeting that fails with something unforeseen (here: a bug in
    connecting) is logged and tried again at the next check, not at every sweep (0.1 s):
    the server is not sent a create ten times a second, and the app goes on."""
    host = counted.svc
    record = await host.start("Team sync", "mid", 1800, rendezvous=server.url)
    counted.broken = True
    looks, took = await counted.looks_in(4.5)
    assert 1 <= looks <= took / 2 + 1, (looks, took)  # every 2 s, as a check that worked
    assert record.state == LIVE
