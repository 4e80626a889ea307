"""The desktop app in a real mesh call: how late is the GUI thread, and how fresh is the video it
shows? Run it against two checkouts to compare builds (e.g. before and after a change of
threading):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/gui_call.py --json gui.json
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/gui_call.py --root /tmp/before

``--peers`` - 1 headless peers (synthetic 640x480 at 30 fps, each its own process, the host with
the rendezvous among them) and, in this process, the app's Bridge and CallWindow at 1280x760 with
a synthetic camera of the same size. Over ``--seconds`` after ``--warmup``:

* GUI lag: how late a 4 ms precise QTimer on the GUI thread fires (p50 / p99 / max). Input,
  painting and every GUI timer wait this long behind whatever else runs on that thread.
* picked-up latency: capture (the stamp in each frame) to the moment a tile takes the frame for
  display, per new frame (p50 / p95); the tile converts and paints it right after.
* tiles' frames shown per second (lowest), CPU % of this process and of the peers (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1]), help="checkout")
parser.add_argument("--peers", type=int, default=4, help="people in the call, the app included")
parser.add_argument("--seconds", type=float, default=15.0)
parser.add_argument("--warmup", type=float, default=4.0)
parser.add_argument("--json", metavar="PATH")
ARGS = parser.parse_args()
ROOT = Path(ARGS.root).resolve()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench's own modules

from call import cpu_seconds  # noqa: E402
from callstats import percentile  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.config import EngineConfig  # noqa: E402
from app.media.synthetic import read_stamp  # noqa: E402
from app.meeting.headless import MediaOptions, build_media, close_media  # noqa: E402
from app.ui.bridge import Bridge  # noqa: E402
from app.ui.call_window import CallWindow  # noqa: E402
from app.ui.qt_loop import run_in_qt_loop  # noqa: E402

MEDIA = ["--synthetic", "--res", "640x480", "--fps", "30"]
OPTIONS = MediaOptions(True, 640, 480, 30, label="App")


def cpu_now(pids: list[int]) -> list[float]:
    """user + system CPU seconds of each process (bench/call.py's reading of /proc)."""
    seconds = [cpu_seconds(pid) for pid in pids]
    if any(s is None for s in seconds):
        raise SystemExit("a peer exited during the measurement")
    return [s for s in seconds if s is not None]


def make_bridge() -> Bridge:
    """This checkout's Bridge, whichever media-factory shape it has."""
    factory: Any = Bridge.__init__
    if "media_release" in inspect.signature(factory).parameters:  # an engine thread per call
        return Bridge(EngineConfig("App"), lambda loop: build_media(OPTIONS, loop=loop))
    return Bridge(EngineConfig("App"), lambda: build_media(OPTIONS), close_media)  # type: ignore[arg-type, misc]


class Watch:
    """Records GUI-thread timer lateness and the latency of each frame a tile picks up."""

    def __init__(self, bridge: Bridge) -> None:
        self.lag_ms: list[float] = []
        self.pickup_ms: list[float] = []
        self.on = False
        self._seen: dict[tuple[str, str], int] = {}
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(4)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        stock = bridge.remote_frame

        def remote_frame(peer_id: str, kind: str = "video") -> Any:
            frame = stock(peer_id, kind)
            if frame is not None and self.on and self._seen.get((peer_id, kind)) != id(frame):
                self._seen[(peer_id, kind)] = id(frame)
                stamp = read_stamp(frame)
                if stamp is not None:
                    late = (int(time.time() * 1000) - stamp[1]) % 2**32
                    if late < 60_000:
                        self.pickup_ms.append(late)
            return frame

        bridge.remote_frame = remote_frame  # type: ignore[method-assign]

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.on:
            self.lag_ms.append(max(0.0, (now - self._last) * 1000 - 4))
        self._last = now


async def call(link: str, peers: list[subprocess.Popen[str]]) -> dict[str, Any]:
    bridge = make_bridge()
    watch = Watch(bridge)
    assert await bridge.join(link, "App"), "the app could not join"
    window = CallWindow(bridge)
    window.resize(1280, 760)
    window.show()
    watch.start()
    try:
        await asyncio.sleep(ARGS.warmup)
        tiles = [t for (_, kind), t in window.grid.tiles.items() if kind == "video"]
        shown = [t.frames_shown for t in tiles]
        pids = [os.getpid()] + [p.pid for p in peers]
        cpu = cpu_now(pids)
        started = time.monotonic()
        watch.on = True
        await asyncio.sleep(ARGS.seconds)
        watch.on = False
        took = time.monotonic() - started
        cpu = [(after - c) / took * 100 for after, c in zip(cpu_now(pids), cpu, strict=True)]
        fps = [(t.frames_shown - s) / took for t, s in zip(tiles, shown, strict=True)]
    finally:
        window.close()
        await bridge.leave()
    return {
        "root": str(ROOT),
        "gui_lag_ms": {
            "p50": round(percentile(watch.lag_ms, 50) or 0.0, 2),
            "p99": round(percentile(watch.lag_ms, 99) or 0.0, 2),
            "max": round(max(watch.lag_ms, default=float("nan")), 1),
            "samples": len(watch.lag_ms),
        },
        "pickup_latency_ms": {
            "p50": percentile(watch.pickup_ms, 50),
            "p95": percentile(watch.pickup_ms, 95),
            "frames": len(watch.pickup_ms),
        },
        "tiles": len(fps),
        "tile_fps_lowest": round(min(fps, default=0.0), 1),
        "cpu_percent_app": round(cpu[0], 1),
        "cpu_percent_peers": [round(c, 1) for c in cpu[1:]],
    }


def main() -> int:
    host = subprocess.Popen(
        [sys.executable, "-m", "app", "host", "--headless", "--name", "gui-bench", "--bind",
         "127.0.0.1", *MEDIA, "--display-name", "Host"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert host.stdout is not None
    link = host.stdout.readline().strip()
    guest = [sys.executable, "-m", "app", "join", link, "--headless", *MEDIA, "--display-name"]
    quiet = {"cwd": ROOT, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    peers = [host] + [
        subprocess.Popen([*guest, f"Guest {n}"], text=True, **quiet)  # type: ignore[call-overload]
        for n in range(1, ARGS.peers - 1)
    ]
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # as the app: closing the call window is not the end
    try:
        result = run_in_qt_loop(app, call(link, peers))
    finally:
        for p in peers:
            p.terminate()
        for p in peers:
            p.wait(timeout=15)
    lag, pick = result["gui_lag_ms"], result["pickup_latency_ms"]
    print(f"checkout {result['root']}, {ARGS.peers} people, {result['tiles']} remote tiles")
    print(f"GUI timer lag ms: p50 {lag['p50']}, p99 {lag['p99']}, max {lag['max']}")
    print(f"capture -> picked up by a tile, ms: p50 {pick['p50']}, p95 {pick['p95']}")
    print(f"tile fps (lowest) {result['tile_fps_lowest']}; CPU % app {result['cpu_percent_app']}")
    print(f"CPU % peers {result['cpu_percent_peers']}")
    if ARGS.json:
        Path(ARGS.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
