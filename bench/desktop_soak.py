"""Desktop soak: the real MainWindow, Bridge, DesktopMedia and HostService through a busy day,
counting what is left behind after each kind of action. Run it under Xvfb:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/desktop_soak.py \\
        [--cycles 8] [--meetings 10] [--long 0] [--phases guests,reenter,...]

A private PulseAudio server (tests/pulse.py: two headsets) gives the calls real sound devices.
The app hosts a meeting from Start meeting and enters it from the start dialog; then, per phase:

* guests: a headless guest (the CLI, 160x120) joins, its video shows, it leaves; ``--cycles``
* reenter: the host leaves its meeting and enters it again from My meetings
* panels: chat and people panels opened and closed, a chat line sent each time
* devices: microphone, speaker and camera switched in the call
* share: screen share started and stopped with a guest in the call
* settings: Settings opened (its live microphone meter) and saved or cancelled
* long: ``--long`` seconds of a call with two guests, counted every minute
* meetings: ``--meetings`` meetings started, entered, ended for everyone and removed

After the second cycle of a phase and at its end it prints resident memory (after
malloc_trim, so freed-but-kept heap does not count), what malloc has in use, OS and Python
threads, open file descriptors, tasks on the GUI's loop, widgets, QObjects, live QtAudioIO and
peer connections, and PulseAudio streams (playing, recording); then the growth per cycle. Flat
counts are what to expect; memory settles after a few cycles (glibc keeps some per-thread
arenas, and screen shares leave more of them). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pulse import PulseServer  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--cycles", type=int, default=8, help="cycles of each repeated phase")
parser.add_argument("--meetings", type=int, default=10)
parser.add_argument("--long", type=float, default=0.0, help="seconds of a 3-person call")
parser.add_argument("--phases", default="guests,reenter,panels,devices,share,settings,meetings")
ARGS = parser.parse_args()
PHASES = ARGS.phases.split(",") + (["long"] if ARGS.long else [])

PULSE = PulseServer()  # before Qt: QtMultimedia reads PULSE_SERVER once
os.environ.update(PULSE.env)
PULSE.plug("spk", "mic", default=True)
PULSE.plug("spk2", "mic2")

import shiboken6  # noqa: E402
from PySide6.QtCore import QObject  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.meeting.hosting import HostService  # noqa: E402
from app.meeting.settings import Settings, SettingsStore  # noqa: E402
from app.meeting.store import MeetingStore  # noqa: E402
from app.net.peers import set_loopback_only  # noqa: E402
from app.ui.audio_io import QtAudioIO  # noqa: E402
from app.ui.bridge import Bridge  # noqa: E402
from app.ui.call_window import CallWindow  # noqa: E402
from app.ui.desktop_media import DesktopMedia  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.preview import TEST_PATTERN  # noqa: E402
from app.ui.qt_loop import run_in_qt_loop  # noqa: E402

COLUMNS = ("rss_mb", "heap_mb", "os_thr", "py_thr", "fds", "tasks", "widgets", "qobj",
           "audio_io", "pcs", "pulse")  # fmt: skip


class Counts:
    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.libc = ctypes.CDLL("libc.so.6")

    def __call__(self) -> dict[str, int]:
        for _ in range(3):
            gc.collect()
        self.libc.malloc_trim(0)
        rss = int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()
        live = [
            o for o in gc.get_objects() if type(o).__name__ in ("QtAudioIO", "RTCPeerConnection")
        ]
        qobjects = len(self.app.findChildren(QObject)) + sum(
            1 + len(w.findChildren(QObject)) for w in self.app.topLevelWidgets()
        )
        streams = sum(
            len(PULSE.pactl("list", "short", kind).splitlines())
            for kind in ("sink-inputs", "source-outputs")
        )
        return {
            "rss_mb": rss >> 20,
            "heap_mb": self._heap_in_use() >> 20,
            "os_thr": len(os.listdir("/proc/self/task")),
            "py_thr": threading.active_count(),
            "fds": len(os.listdir("/proc/self/fd")),
            "tasks": len([t for t in asyncio.all_tasks() if not t.done()]),
            "widgets": len(self.app.allWidgets()),
            "qobj": qobjects,
            "audio_io": sum(isinstance(o, QtAudioIO) and shiboken6.isValid(o) for o in live),
            "pcs": sum(type(o).__name__ == "RTCPeerConnection" for o in live),
            "pulse": streams - 2,  # (the two headsets' keepers)
        }

    def _heap_in_use(self) -> int:
        class MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]  # fmt: skip

        self.libc.mallinfo2.restype = MallInfo2
        info = self.libc.mallinfo2()
        return int(info.uordblks + info.hblkhd)


def show(tag: str, counts: dict[str, int]) -> None:
    print(f"{tag:<16}" + "".join(f"{counts[c]:>9}" for c in COLUMNS), flush=True)


def growth(phase: str, warm: dict[str, int], end: dict[str, int], cycles: int) -> None:
    grown = {c: (end[c] - warm[c]) / cycles for c in COLUMNS if end[c] != warm[c]}
    words = ", ".join(f"{c} {g:+.2f}" for c, g in grown.items()) or "nothing"
    print(f"  {phase}: per cycle over the last {cycles}: {words}", flush=True)


async def until(check: Callable[[], object], within: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


def guest(link: str, name: str, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["nice", "-n", "10", sys.executable, "-m", "app", "join", link, "--headless",
         "--synthetic", "--res", "160x120", "--fps", "10", "--display-name", name,
         "--seconds", str(seconds)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        env={**os.environ, "PULSE_SERVER": "none"},
    )  # fmt: skip


async def day(app: QApplication, tmp: Path) -> None:
    count = Counts(app)
    store = SettingsStore(tmp / "settings.json")
    store.save(Settings(display_name="Ada", camera=TEST_PATTERN))
    media = DesktopMedia(store)
    host = HostService(
        MeetingStore(tmp / "meetings.json"), bind="127.0.0.1", advertise="127.0.0.1",
        preferred_port=0,
    )  # fmt: skip
    bridge = Bridge(
        store.load().engine_config(),
        lambda loop: media.build(loop, camera=bridge.joining_with_camera),
        media.release,
    )
    bridge.camera_ready, bridge.devices = media.camera_ready, media
    window = MainWindow(host, bridge, store)
    window.show()
    print(f"{'':<16}" + "".join(f"{c:>9}" for c in COLUMNS))
    show("start", count())

    def call() -> CallWindow:
        found = window.call_window
        assert isinstance(found, CallWindow) and shiboken6.isValid(found)
        return found

    async def enter_new(title: str) -> str:
        start = window.open_start()
        start.name.setText(title)
        start.start_button.click()
        await until(lambda: start.pages.currentIndex() == 1, 10, "the share page")
        link = start.link.text()
        start.enter.click()
        await until(lambda: isinstance(window.call_window, CallWindow) and bridge.in_call, 20)
        return link

    async def repeat(phase: str, cycles: int, step: Callable[[int], Any]) -> None:
        warm: dict[str, int] = {}
        for i in range(1, cycles + 1):
            await step(i)
            if i == 2:
                warm = count()
                show(f"{phase} 2", warm)
            elif i == cycles // 2 and cycles >= 8:  # (memory that settles: slower here on)
                show(f"{phase} {i}", count())
        end = count()
        show(f"{phase} {cycles}", end)
        if warm:
            growth(phase, warm, end, cycles - 2)

    link = await enter_new("Soak Room")

    async def a_guest(i: int) -> None:
        g = guest(link, f"G{i}", 4)

        def shown() -> bool:
            return any(t.name == f"G{i}" and t.frames_shown > 3 for t in call().grid.tiles.values())

        await until(shown, 30, "the guest's video")
        await until(lambda: g.poll() is not None and not bridge.peers(), 40, "the guest gone")

    async def reenter(i: int) -> None:
        await call().leave()
        window.meetings.rows[link].enter.click()
        await until(lambda: bridge.in_call and isinstance(window.call_window, CallWindow), 20)
        await asyncio.sleep(0.5)

    async def panels(i: int) -> None:
        bar = call().toolbar
        bar.chat_button.click()
        call().chat.entry.setPlainText(f"hello {i}")
        call().chat.entry.submitted.emit()
        bar.people_button.click()
        await asyncio.sleep(0.2)
        bar.people_button.click()
        await asyncio.sleep(0.05)

    async def devices(i: int) -> None:
        session = bridge.session
        assert session is not None
        media.use(session.media, "in", "mic2" if i % 2 else "mic")
        media.use(session.media, "out", "spk2" if i % 2 else "spk")
        media.use(session.media, "camera", TEST_PATTERN)
        await asyncio.sleep(0.5)

    async def share(i: int) -> None:
        call().toolbar.share_button.click()
        await until(lambda: bridge.sharing_screen, 10, "sharing")
        await asyncio.sleep(1.0)
        call().toolbar.share_button.click()
        await until(lambda: not bridge.sharing_screen and call().toolbar.share_button.isEnabled())
        await asyncio.sleep(0.5)

    async def settings(i: int) -> None:
        dialog = window.open_settings()
        await asyncio.sleep(0.8)
        if i % 2:
            dialog.save()
        else:
            dialog.reject()
        await until(lambda: not shiboken6.isValid(dialog), 5, "Settings deleted")

    async def meeting(i: int) -> None:
        there = await enter_new(f"Meet {i}")
        await asyncio.sleep(0.5)
        ending = call()
        ending.end_for_everyone()
        await until(lambda: not shiboken6.isValid(ending), 15, "the ended call deleted")
        host.forget(there)
        await asyncio.sleep(0.3)

    try:
        steps = {"guests": a_guest, "reenter": reenter, "panels": panels, "devices": devices,
                 "settings": settings}  # fmt: skip
        for phase in [p for p in PHASES if p in steps]:
            await repeat(phase, ARGS.cycles, steps[phase])
        if "share" in PHASES:
            sharer = guest(link, "Sharer", 10 + ARGS.cycles * 3)
            await until(lambda: len(bridge.peers()) == 1, 40, "the guest")
            await repeat("share", ARGS.cycles, share)
            await until(lambda: sharer.poll() is not None and not bridge.peers(), 60)
        if "long" in PHASES:
            guests = [guest(link, f"Long{i}", ARGS.long + 5) for i in (1, 2)]
            await until(lambda: len(bridge.peers()) == 2, 40, "two guests")
            show("long 0 s", count())
            started = time.monotonic()
            while (took := time.monotonic() - started) < ARGS.long:
                await asyncio.sleep(min(60.0, ARGS.long - took))
                show(f"long {time.monotonic() - started:.0f} s", count())
            await until(
                lambda: all(g.poll() is not None for g in guests) and not bridge.peers(), 60
            )
        await call().leave()
        show("no call", count())
        if "meetings" in PHASES:
            await repeat("meetings", ARGS.meetings, meeting)
    finally:
        await bridge.leave()
        window.close()
        await host.close()


def main() -> None:
    set_loopback_only(True)
    app = QApplication([sys.argv[0]])
    app.setQuitOnLastWindowClosed(False)
    try:
        with TemporaryDirectory(prefix="pm-soak-") as tmp:
            run_in_qt_loop(app, day(app, Path(tmp)))
    finally:
        PULSE.close()


if __name__ == "__main__":
    main()
