"""Sounds in a call (app.media.cues), heard on the call's own speaker: someone who comes after
us, someone who leaves, a chat message not seen; never for the people already there as we
join; a knock at the door; and none at all once Settings turns them off."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import qasync

from app.config import EngineConfig
from app.media import cues
from app.meeting.headless import MediaOptions, build_media
from app.meeting.media import LocalMedia
from app.net.knockdesk import KnockRequest
from app.ui import call_peers
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.desk_sound import DeskSound
from app.ui.knock_dialogs import ask_host
from tests.ui.conftest import run, until
from tests.ui.test_call_window import in_call_with_host, tile_named
from tests.unit.test_audio import ListSink


def heard(sink: ListSink, kind: str) -> int:
    """How often the ``kind`` cue was played (its loudest frame, over near silence)."""
    frames = [np.frombuffer(f, "<i2").astype(np.int32) for f in cues.frames(kind)]
    mark = max(frames, key=lambda f: int(np.abs(f).max()))
    return sum(
        len(c) == mark.size * 2 and int(np.abs(np.frombuffer(c, "<i2") - mark).max()) < 300
        for c in list(sink.chunks)
    )


def test_sounds_for_who_comes_and_goes_and_for_chat(
    qloop: qasync.QEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ListSink()

    def media(loop: asyncio.AbstractEventLoop) -> LocalMedia:
        return build_media(MediaOptions(True, 160, 120, 10, muted=True), loop=loop, speaker=sink)

    def olgas(loop: asyncio.AbstractEventLoop) -> LocalMedia:
        return build_media(MediaOptions(True, 160, 120, 10, label="Olga", muted=True), loop=loop)

    olga = Bridge(EngineConfig(display_name="Olga"), olgas)

    async def scenario(_: Bridge, link: str) -> None:
        me = Bridge(EngineConfig(display_name="Me"), media)
        assert await me.join(link, "Me")
        window = CallWindow(me)
        window.show()
        try:
            await until(lambda: tile_named(window, "Hana") is not None, what="Hana's tile")
            await until(lambda: "hello from host" in window.chat.view.toPlainText(), 10, "chat")
            await until(lambda: heard(sink, "chat") == 1, 5, "the chat message's sound")
            assert heard(sink, "joined") == 0  # Hana was there as we came: no sound for her
            assert await olga.join(link, "Olga")
            await until(lambda: heard(sink, "joined") == 1, 10, "Olga's arrival heard")
            await olga.leave()
            await until(lambda: heard(sink, "left") == 1, 10, "Olga's leaving heard")
            request = KnockRequest("ui-test", "Bob", b"k" * 32, b"n" * 16, "4 8 2 1", "10.0.0.9")
            desk = DeskSound(me, lambda: "")  # (app.ui.main: in a call, on the call's speaker)
            knock = asyncio.ensure_future(ask_host(window, request, desk.play))
            await until(lambda: heard(sink, "knock") == 1, 5, "Bob's knock heard")
            knock.cancel()
            await asyncio.gather(knock, return_exceptions=True)
            me.sounds = False  # (Settings saved: app.ui.main_window)
            assert await olga.join(link, "Olga")
            await until(lambda: tile_named(window, "Olga") is not None, 10, "Olga back")
            await asyncio.sleep(1)
            assert heard(sink, "joined") == 1 and heard(sink, "left") == 1
            me.sounds = True
            monkeypatch.setattr(call_peers, "QUIET_FROM", 3)  # a busy call: Hana, Olga and me
            await olga.leave()
            await until(lambda: tile_named(window, "Olga") is None, 10, "Olga gone")
            await asyncio.sleep(1)
            assert heard(sink, "left") == 1  # (no sound in a busy call)
        finally:
            await window.leave()

    try:
        in_call_with_host(qloop, tmp_path, scenario, "--muted")
    finally:
        run(qloop, olga.leave(), 10)
