"""Child process of test_screen_reader_news.py: what a screen reader hears of a join under way
and of another person's connection trouble (screen_reader_child.py says how it listens).

A join to a host that takes the connection but never answers (the join dialog, until it says
why it failed); then a call (a meeting hosted here, Ada's call window, Olga in it) where
Olga's connection goes as the engine reports it: reconnecting for a while, back; a blip;
failed. Prints ``HEARD <json>`` as screen_reader_child.py does, then exits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for app.*


from app.meeting.settings import SettingsStore
from app.ui import join_news, peer_news
from app.ui.call_window import CallWindow
from app.ui.join_dialog import JoinDialog
from tests.ui.screen_reader_child import ScreenReader, loopback_host, main, media, until


async def scenario(reader: ScreenReader) -> None:
    # the app's times, halved or so: still joining said every 2 s (4), a join given up after
    # 3 s (6: still said once, at 2), a broken connection said after 1.5 s (2.5)
    join_news.STILL_EVERY_MS, peer_news.SAY_AFTER_MS = 2000, 1500
    tmp, host = loopback_host("peermeet-srn-")
    me, olga = media("Ada"), media("Olga")
    window: CallWindow | None = None
    silent = socket.create_server(("127.0.0.1", 0))  # takes connections, never answers
    try:
        record = await host.start("Screen reader", "small", 3600)
        port = record.link.split("//")[1].split("/")[0].rsplit(":", 1)[1]
        away = record.link.replace(f":{port}/", f":{silent.getsockname()[1]}/", 1)
        me.config = dataclasses.replace(me.config, connect_timeout_s=3.0)
        dialog = JoinDialog(me, SettingsStore(tmp / "s.json"), lambda: None, away, preview=False)
        dialog.show()
        dialog.start_join()
        await until(lambda: dialog.failure is not None, "the join failed")
        dialog.reject()
        me.config = dataclasses.replace(me.config, connect_timeout_s=10.0)
        assert await me.join(record.link)
        window = CallWindow(me)
        window.show()
        assert await olga.join(record.link)
        await until(lambda: reader.said("Olga joined"), "Olga's arrival said")
        assert olga.session is not None
        olga_id = olga.session.my_id
        await until(lambda: (t := window.grid.tile(olga_id)) is not None and t.state == "", "on")
        me.peerState.emit(olga_id, "reconnecting")  # as the engine reports it
        await until(lambda: reader.said("Lost the connection to Olga"), "the trouble said")
        me.peerState.emit(olga_id, "connected")
        await until(lambda: reader.said("Olga: connected again"), "the recovery said")
        me.peerState.emit(olga_id, "reconnecting")  # a blip: mended at once
        await asyncio.sleep(0.3)
        me.peerState.emit(olga_id, "connected")
        await asyncio.sleep(2)  # (longer than it takes to say a trouble: SAY_AFTER_MS)
        me.peerState.emit(olga_id, "failed")
        await until(lambda: reader.said("The connection to Olga failed"), "the failure said")
        olga.send_chat("minutes " + "of it, " * 500 + "the end")  # a page pasted
        await until(lambda: reader.said("Olga: minutes of it"), "the long message said")
    finally:
        silent.close()
        await olga.leave()
        if window is not None:
            await window.leave()
        await host.close()


if __name__ == "__main__":
    sys.exit(main(scenario))
