"""Screen sharing over real sessions: encoded once for every peer, and shareable again."""

from __future__ import annotations

import asyncio

import pytest

from app.errors import MediaError
from app.media.screen import ScreenCapture
from app.media.synthetic import SyntheticCamera, read_stamp
from app.meeting import events as ev
from app.meeting.screenshare import ScreenShare, links_of
from app.net.rendezvous import RendezvousServer
from tests.conftest import SpareDisplay
from tests.integration.test_session import Peer, room_link, until

pytestmark = pytest.mark.usefixtures("loopback")


def _screen() -> SyntheticCamera:
    return SyntheticCamera(320, 240, 10, label="SCREEN")


async def test_one_encoder_sends_the_screen_to_every_peer_and_a_second_share_works(
    server: RendezvousServer,
) -> None:
    link = room_link(server)
    host, guests = Peer("Hana"), [Peer("Gus"), Peer("Ida")]
    share = ScreenShare(host.session, fps=10)
    try:
        await host.session.create(link, "small", 3600)
        for guest in guests:
            await guest.session.join(link)
        me = host.session.my_id
        await until(lambda: all(g.media.video_frames(me) > 3 for g in guests))

        await share.start(_screen)
        encoder = share.encoder
        assert encoder is not None
        await until(lambda: all(g.media.video_frames(me, "screen") > 10 for g in guests))
        assert list(encoder.encoders) == ["vp8"]  # one encoder for both peers
        vp8 = encoder.encoders["vp8"]
        assert vp8.options["noise-sensitivity"] == "0"  # rendered pixels: no denoiser

        # not one encode per peer: while each guest receives 20 more frames, the encoder
        # encodes about 20 (40 if it encoded once per peer). Counted once frames flow, since the
        # frames encoded while the screen's track was still being negotiated never arrive.
        def received() -> list[int]:
            return [g.media.video_frames(me, "screen") for g in guests]

        encoded, before = vp8.frames, received()
        await until(lambda: all(n >= b + 20 for n, b in zip(received(), before, strict=True)))
        got = [n - b for n, b in zip(received(), before, strict=True)]
        assert vp8.frames - encoded <= max(got) + 6, (vp8.frames - encoded, got)
        for peer_link in links_of(host.session).values():  # aiortc made no encoder of its own
            assert peer_link.screen.sender._RTCRtpSender__encoder is None
        for guest in guests:
            remote = guest.media.remote_video(me, "screen")
            assert remote is not None and read_stamp(remote.latest) is not None
            kinds = [e.kind for e in guest.of(ev.TrackAdded)]  # type: ignore[attr-defined]
            assert "screen" in kinds

        await share.stop()
        assert share.encoder is None and not share.active
        await until(lambda: not any(g.session.peers[me].screen for g in guests))
        for guest in guests:  # its last picture is not kept to be shown as the next share's
            remote = guest.media.remote_video(me, "screen")
            assert remote is not None and remote.latest is None
        before = [g.media.video_frames(me, "screen") for g in guests]
        await asyncio.sleep(0.5)
        stopped = [g.media.video_frames(me, "screen") for g in guests]
        await share.start(_screen)  # again: the same senders carry on, a keyframe first
        await until(
            lambda: all(
                g.media.video_frames(me, "screen") > s + 5
                for g, s in zip(guests, stopped, strict=True)
            )
        )
        assert stopped[0] - before[0] <= 2  # nothing flowed while not sharing
    finally:
        await share.stop()
        for peer in (host, *guests):
            await peer.close()


async def test_a_screen_that_can_no_longer_be_captured_ends_the_share_and_says_why(
    server: RendezvousServer, spare_display: SpareDisplay
) -> None:
    """The display going away in the middle of a share (a screen unplugged, a session gone)
    ended nothing: the feed fell back to the test pattern, so everyone saw a rainbow under the
    sharer's name, and the sharer was not told. Now the share ends and says so."""
    link = room_link(server)
    host, guest = Peer("Hana"), Peer("Gus")
    share = ScreenShare(host.session, fps=10)
    stopped: list[ev.Event] = []
    share.subscribe(stopped.append)
    try:
        await host.session.create(link, "small", 3600)
        await guest.session.join(link)
        me = host.session.my_id
        await share.start(lambda: ScreenCapture(display=spare_display.name))
        await until(lambda: guest.media.video_frames(me, "screen") > 3)
        assert guest.session.peers[me].screen

        spare_display.take_away()
        seen = []  # what the guest is shown meanwhile: never the test pattern
        for _ in range(200):
            remote = guest.media.remote_video(me, "screen")
            latest = remote.latest if remote is not None else None
            seen.append(latest is not None and read_stamp(latest) is not None)
            if not share.active and not guest.session.peers[me].screen:
                break
            await asyncio.sleep(0.025)
        assert not share.active, "the share went on without its screen"
        assert not guest.session.peers[me].screen  # the guest was told it stopped
        assert not any(seen), "the guest was sent the test pattern in place of the screen"
        (said,) = stopped
        assert isinstance(said, ev.ScreenShareStopped)
        assert "could no longer be captured" in said.reason
        assert said.reason.endswith("Share your screen again.")

        await share.start(_screen)  # sharing again works
        assert share.active
    finally:
        await share.stop()
        for peer in (host, guest):
            await peer.close()


def test_a_display_that_cannot_be_opened_is_explained_in_words() -> None:
    """The message carried Python's raw form of the error ("[Errno 5] Input/output error:
    ':77'") among the words; now it says "(Input/output error)" and what to do."""
    capture = ScreenCapture(display=":77")  # (no such display here)
    with pytest.raises(MediaError) as caught:
        capture.open(timeout=5)
    said = str(caught.value)
    assert said.startswith("Could not capture the screen of display :77 (")
    assert "[Errno" not in said and "':77'" not in said
    assert said.endswith("Check that you are logged in to an X11 desktop, then try again.")
