"""How much GUI-thread time does showing one video frame cost? (The budget: 1 ms at 720p.)

Feeds a VideoTile pre-rendered 1280x720 yuv420p frames at --fps, the way remote video arrives
(the tile polls for the newest frame at display rate), for --seconds, and measures on the GUI
thread: the poll/hand-off (tick), taking the converted image (take), and paintEvent; plus all
GUI-thread CPU time per displayed frame (Qt's own compositing and flushing included), and the
conversion time on the tile's worker thread.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python bench/render.py --json render.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication

import app.ui.bridge  # noqa: F401  (its PySide6 6.12 / Python 3.11 work-around)
from app.media.synthetic import SyntheticCamera
from app.ui.video_grid import DISPLAY_MS
from app.ui.video_tile import VideoTile


class TimedTile(VideoTile):
    """A VideoTile that records how long its GUI-thread steps take (seconds)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.times: dict[str, list[float]] = {"tick": [], "take": [], "paint": []}
        self.converts: list[float] = []  # worker-thread seconds per converted frame
        self.new_frames_painted = 0
        self._painted: object = None
        super().__init__(*args, **kwargs)

    def tick(self) -> None:
        t0 = time.perf_counter()
        super().tick()
        self.times["tick"].append(time.perf_counter() - t0)

    def _take(self) -> None:
        t0 = time.perf_counter()
        super()._take()
        self.times["take"].append(time.perf_counter() - t0)
        if self._converted is not None:
            self.converts.append(self._converted.convert_s)

    def paintEvent(self, event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.times["paint"].append(time.perf_counter() - t0)
        if self._converted is not self._painted:
            self._painted = self._converted
            self.new_frames_painted += 1


def summary(values: list[float]) -> dict[str, float]:
    """Milliseconds: mean, median, 95th percentile, max."""
    if not values:
        return {"n": 0}
    ms = sorted(v * 1000 for v in values)
    return {
        "n": len(ms),
        "mean_ms": round(statistics.fmean(ms), 4),
        "p50_ms": round(ms[len(ms) // 2], 4),
        "p95_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 4),
        "max_ms": round(ms[-1], 4),
    }


def run(
    width: int, height: int, fps: float, seconds: float, tile: tuple[int, int]
) -> dict[str, Any]:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cam = SyntheticCamera(width, height, fps, label="BENCH")
    ring = [cam.next_frame() for _ in range(int(fps))]  # rendered up front: not GUI work
    start = time.monotonic()

    def newest() -> Any:
        n = int((time.monotonic() - start) * fps)
        frame = ring[n % len(ring)]
        frame.pts = n  # a new picture every 1/fps s, like a decoder's output
        return frame

    view = TimedTile("Bench", newest)
    view.resize(*tile)
    view.show()
    timer = QTimer()
    timer.setInterval(DISPLAY_MS)
    timer.timeout.connect(view.tick)
    for _ in range(20):  # let the window map before measuring
        app.processEvents()
        time.sleep(0.01)
    for series in view.times.values():
        series.clear()
    view.converts.clear()
    view.new_frames_painted = 0
    cpu0, wall0 = time.thread_time(), time.monotonic()
    timer.start()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    cpu, wall = time.thread_time() - cpu0, time.monotonic() - wall0
    timer.stop()
    view.close_tile()
    shown = max(1, view.new_frames_painted)
    handlers = sum(sum(series) for series in view.times.values())
    return {
        "source": f"{width}x{height}",
        "tile": f"{tile[0]}x{tile[1]}",
        "fps_offered": fps,
        "seconds": round(wall, 2),
        "frames_displayed": view.new_frames_painted,
        "fps_displayed": round(view.new_frames_painted / wall, 1),
        "frames_dropped_before_conversion": view._converter.dropped,
        "gui_handlers_per_frame_ms": round(handlers / shown * 1000, 4),
        "gui_thread_cpu_per_frame_ms": round(cpu / shown * 1000, 4),
        "tick": summary(view.times["tick"]),
        "take": summary(view.times["take"]),
        "paint": summary(view.times["paint"]),
        "convert_off_thread": summary(view.converts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1280x720", help="source video size")
    parser.add_argument("--tile", default="", help="tile size on screen (default: the source's)")
    parser.add_argument("--fps", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    tile = tuple(int(v) for v in (args.tile or args.size).lower().split("x"))
    result = run(width, height, args.fps, args.seconds, (tile[0], tile[1]))
    print(
        f"{result['frames_displayed']} frames of {result['source']} shown in a {result['tile']} "
        f"tile ({result['fps_displayed']} fps of {args.fps:g} offered)\n"
        f"GUI thread per displayed frame: {result['gui_handlers_per_frame_ms']:.3f} ms in our "
        f"handlers (tick + take + paint), {result['gui_thread_cpu_per_frame_ms']:.3f} ms CPU "
        "in all (Qt compositing and X11 flush included)"
    )
    for name in ("tick", "take", "paint", "convert_off_thread"):
        s = result[name]
        if s["n"]:
            print(
                f"  {name:<19} n={s['n']:<5} mean {s['mean_ms']:.3f} ms  p50 {s['p50_ms']:.3f}  "
                f"p95 {s['p95_ms']:.3f}  max {s['max_ms']:.3f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
