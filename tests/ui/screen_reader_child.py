"""Child process of test_screen_reader.py: what a screen reader on Linux hears of a call.

Runs inside its own D-Bus session (``dbus-run-session``) where the accessibility bus of AT-SPI
starts on demand, as on a desktop with Orca. It listens on that bus as a screen reader does
(registered for ``object:announcement``) while the real call window runs: a meeting hosted here,
this window in it, a second participant (Olga) joining and writing, Ctrl+D, a notice in the
banner, the Start dialog's error and then its meeting ready, and a knock: Grace's on this
meeting (the host's prompt), then one of ours (its code, then its refusal). Prints one line,
``HEARD <json>``: every announcement, as [text, politeness] (1 polite, 2 assertive), then exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for app.*

from PySide6.QtCore import SLOT, QObject, Qt, Slot
from PySide6.QtDBus import QDBusConnection, QDBusInterface, QDBusMessage, QDBusVariant
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.hosting import HostService
from app.meeting.store import MeetingStore
from app.net.knockdesk import KnockRequest
from app.ui.bridge import Bridge
from app.ui.call_window import CallWindow
from app.ui.knock_dialogs import GuestWaitDialog, ask_host
from app.ui.qt_loop import run_in_qt_loop
from app.ui.start_dialog import StartDialog


class ScreenReader(QObject):
    """Hears announcements on the accessibility bus, as Orca does."""

    def __init__(self) -> None:
        super().__init__()
        self.heard: list[tuple[str, int]] = []
        a11y = QDBusInterface("org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus")
        address = a11y.call("GetAddress").arguments()[0]
        self.bus = QDBusConnection.connectToBus(address, "screen-reader")
        registry = QDBusInterface(
            "org.a11y.atspi.Registry", "/org/a11y/atspi/registry", "org.a11y.atspi.Registry",
            self.bus,
        )  # fmt: skip
        registry.call("RegisterEvent", "object:announcement")
        ok = self.bus.connect(
            "", "", "org.a11y.atspi.Event.Object", "Announcement", self,
            SLOT("hear(QDBusMessage)"),
        )  # fmt: skip
        assert ok, "cannot listen on the accessibility bus"

    @Slot(QDBusMessage)
    def hear(self, message: QDBusMessage) -> None:
        args = message.arguments()
        text = args[3].variant() if isinstance(args[3], QDBusVariant) else args[3]
        self.heard.append((str(text), int(args[1])))

    def said(self, text: str) -> bool:
        return any(text in heard for heard, _ in self.heard)


def media(name: str) -> Bridge:
    return Bridge(
        EngineConfig(name),
        lambda loop: build_media(MediaOptions(True, 160, 120, 5, label=name), loop=loop),
    )


async def until(check: object, what: str) -> None:
    for _ in range(300):
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(what)


def loopback_host(prefix: str) -> tuple[Path, HostService]:
    """A folder of the child's own, and a HostService on loopback keeping its meetings there."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    host = HostService(
        MeetingStore(tmp / "meetings.json"), bind="127.0.0.1", advertise="127.0.0.1",
        preferred_port=0,
    )  # fmt: skip
    return tmp, host


async def scenario(reader: ScreenReader) -> None:
    _, host = loopback_host("peermeet-sr-")
    me, olga = media("Ada"), media("Olga")
    window: CallWindow | None = None
    try:
        record = await host.start("Screen reader", "small", 3600)
        assert await me.join(record.link)
        window = CallWindow(me)
        window.show()
        window.activateWindow()
        await asyncio.sleep(0.5)
        QTest.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: reader.said("Microphone off"), "Ctrl+D said")
        assert await olga.join(record.link)
        await until(lambda: reader.said("Olga joined"), "Olga's arrival said")
        olga.send_chat("hello from Olga")
        await until(lambda: reader.said("Olga: hello from Olga"), "Olga's message said")
        window.banner.show_message("Your speaker was unplugged.")
        await until(lambda: reader.said("Your speaker was unplugged."), "the notice said")
        start = StartDialog(host)
        start.show()
        start.outside.setChecked(True)
        start.start()  # no rendezvous address typed
        await until(lambda: reader.said("rendezvous server's address"), "the error said")
        start.here.setChecked(True)
        start.name.setText("Planning")
        start.start()  # the keyboard goes to Enter meeting: that the meeting is ready is said
        await until(lambda: reader.said("“Planning” is ready"), "the meeting ready said")
        start.reject()
        knock = KnockRequest("Screen reader", "Grace", b"", b"", "4 8 2 1", "127.0.0.1")
        asking = asyncio.ensure_future(ask_host(window, knock))  # (it takes no keyboard)
        await until(lambda: reader.said("Grace wants to join"), "the knock said")
        asking.cancel()
        waiting = GuestWaitDialog("Planning", lambda: None)  # the guest's side of a knock
        waiting.show()
        waiting.show_code("1 5 9 3", 60)
        await until(lambda: reader.said("Your code: 1 5 9 3"), "the guest's code said")
        waiting.fail("The host did not let you in.")
        await until(lambda: reader.said("The host did not let you in."), "the refusal said")
        waiting.close()
    finally:
        await olga.leave()
        if window is not None:
            await window.leave()
        await host.close()


def main(play: Callable[[ScreenReader], Coroutine[Any, Any, None]] = scenario) -> int:
    """Run ``play`` with a screen reader listening; print what it heard (also on failure)."""
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    reader = ScreenReader()
    try:
        run_in_qt_loop(app, asyncio.wait_for(play(reader), 60))
    finally:
        print("HEARD " + json.dumps(reader.heard), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
