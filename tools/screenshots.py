"""Render the home window and dialogs to docs/screenshots/*.png (run under a display or Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python tools/screenshots.py [OUT_DIR]

Everything runs on 127.0.0.1 with throw-away meetings and settings files.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import EngineConfig  # noqa: E402
from app.meeting.headless import MediaOptions, build_media  # noqa: E402
from app.meeting.hosting import HostService  # noqa: E402
from app.meeting.lan_hosting import LanHosting  # noqa: E402
from app.meeting.links import parse_link  # noqa: E402
from app.meeting.settings import Settings, SettingsStore  # noqa: E402
from app.meeting.store import MeetingStore  # noqa: E402
from app.net.knock import HostIdentity  # noqa: E402
from app.net.pins import PinStore  # noqa: E402
from app.net.seal import RoomKeys  # noqa: E402
from app.net.signaling import SignalingClient  # noqa: E402
from app.ui.bridge import Bridge  # noqa: E402
from app.ui.lan_card import LanCard  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.qt_loop import run_in_qt_loop  # noqa: E402
from app.ui.settings_dialog import SettingsDialog  # noqa: E402
from app.ui.theme import apply_theme  # noqa: E402


async def settle(seconds: float = 0.3) -> None:
    """Let the window lay itself out and paint: the Qt loop runs while we sleep. (Not
    ``processEvents`` here: inside a task it runs other tasks' wake-ups re-entrantly, asyncio
    drops them, and closing then waits for tasks that never wake: the tool hung now and then.)"""
    await asyncio.sleep(seconds)


async def until(check: Callable[[], object], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the window never got there")


async def shoot(widget: QWidget, path: Path) -> None:
    widget.show()
    widget.raise_()
    await settle()
    widget.grab().save(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


async def main(out: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="peermeet-shots-"))
    settings = SettingsStore(tmp / "settings.json")
    settings.save(Settings(display_name="Ada"))
    host = HostService(
        MeetingStore(tmp / "meetings.json"),
        bind="127.0.0.1",
        advertise="192.168.1.20",
        preferred_port=0,
    )
    bridge = Bridge(
        EngineConfig("Ada"), lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop)
    )
    # a neighbour's meeting on this "network" (mDNS on 127.0.0.1 only) for the LAN card
    neighbour = HostService(
        MeetingStore(tmp / "neighbour.json"), bind="127.0.0.1", preferred_port=0
    )
    their_key = HostIdentity.generate()
    announcer = LanHosting(
        neighbour, _no_knocks, lambda: "Grace", identity=their_key, interfaces=["127.0.0.1"]
    )
    card = LanCard(
        PinStore(tmp / "pins.json"),
        lambda: "Ada",
        interfaces=["127.0.0.1"],
        hide=lambda room: room.info.fingerprint != their_key.fingerprint,  # other runs' rooms
    )
    window = MainWindow(host, bridge, settings, open_call=lambda: None, lan=card)
    guest: SignalingClient | None = None
    try:
        announcer.start()
        card.start()
        await neighbour.start("Weekly planning", "mid", 2 * 3600)
        await until(lambda: bool(card.rooms.rooms))
        await shoot(window, out / "main_window.png")

        start = window.open_start()
        start.name.setText("Team sync")
        await shoot(start, out / "start_form.png")
        start.start()
        await until(lambda: start.pages.currentIndex() == 1)
        await shoot(start, out / "start_dialog.png")
        start.accept()

        second = await host.start("Design review", "mid", 3600)
        link = parse_link(second.link)
        guest = await SignalingClient.connect(f"ws://127.0.0.1:{link.port}/ws", 3.0)
        await guest.join(RoomKeys.from_secret(link.secret).room_id, link.room)
        window.meetings.refresh()
        await shoot(window, out / "my_meetings.png")

        wrong = second.link.rsplit("=", 1)[0] + "=" + "A" * 22
        join = window.open_join(wrong.replace("192.168.1.20", "127.0.0.1"))
        join.start_join()
        await until(lambda: not join.joining)
        await shoot(join, out / "join_dialog_error.png")
        join.reject()

        dialog = SettingsDialog(settings, window, live_meter=False)
        await shoot(dialog, out / "settings.png")
        dialog.reject()
    finally:
        if guest is not None:
            await guest.close()
        window.close()
        await card.shutdown()
        await announcer.close()
        await neighbour.close()
        await host.close()


async def _no_knocks(request: object) -> bool:
    return False


def run() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, int(os.environ.get("PEERMEET_TEXT_SIZE", "100")))  # (Settings' text size)
    run_in_qt_loop(app, main(out))
    return 0


if __name__ == "__main__":
    sys.exit(run())
