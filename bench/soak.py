"""Soak bench: a 3-peer headless call over loopback for 10 minutes, printing fps over time.

    .venv/bin/python bench/soak.py [--minutes 10] [--interval 10] [--res 320x240] [--fps 15]

Every interval prints, per receiving direction, the video frames per second received in that
interval, plus the process' memory, tasks and threads; the end prints the spread. Steady means:
no direction drops below ~90 % of the sent rate, and memory/tasks stay flat. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media, close_media
from app.meeting.links import Link, new_secret
from app.meeting.media import LocalMedia
from app.meeting.session import Session
from app.net.peers import set_loopback_only
from app.net.rendezvous import RendezvousServer


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def soak(minutes: float, interval: float, width: int, height: int, fps: int) -> int:
    set_loopback_only(True)
    server = RendezvousServer("127.0.0.1", 0)
    await server.start()
    link = Link("127.0.0.1", server.port, "soak-bench", new_secret())
    names = ("ann", "bob", "cy")
    medias: list[LocalMedia] = [
        build_media(MediaOptions(True, width, height, fps, n)) for n in names
    ]
    sessions = [
        Session(EngineConfig(display_name=n, loopback_only=True), m)
        for n, m in zip(names, medias, strict=True)
    ]
    rates: list[float] = []
    try:
        await sessions[0].create(link, "small", 3 * 3600)
        for session in sessions[1:]:
            await session.join(link)
        pairs = [(r, s) for r in range(3) for s in range(3) if r != s]
        last = {p: 0 for p in pairs}
        start = t_last = time.monotonic()
        print(f"3 peers, {width}x{height}@{fps}, {minutes:g} min; fps per direction (rx<-tx)")
        while (now := time.monotonic()) - start < minutes * 60:
            await asyncio.sleep(interval - (now - start) % interval)
            now, span = time.monotonic(), time.monotonic() - t_last
            row = []
            for rx, tx in pairs:
                frames = medias[rx].video_frames(sessions[tx].my_id)
                rate = (frames - last[rx, tx]) / span
                last[rx, tx] = frames
                row.append(f"{names[rx]}<-{names[tx]} {rate:5.1f}")
                if now - start > interval:  # the first interval includes connecting
                    rates.append(rate)
            t_last = now
            print(
                f"t={now - start:6.0f}s  " + "  ".join(row) + f"  rss={rss_mb():.0f}MB "
                f"tasks={len(asyncio.all_tasks())} threads={threading.active_count()}",
                flush=True,
            )
    finally:
        for session in sessions:
            await session.leave()
        for media in medias:
            await close_media(media)
        await server.close()
    if rates:
        print(
            f"fps min {min(rates):.1f}  mean {statistics.mean(rates):.1f}  "
            f"stdev {statistics.pstdev(rates):.2f}  over {len(rates)} samples"
        )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--interval", type=float, default=10.0)
    ap.add_argument("--res", default="320x240")
    ap.add_argument("--fps", type=int, default=15)
    args = ap.parse_args()
    width, height = (int(v) for v in args.res.split("x"))
    return asyncio.run(soak(args.minutes, args.interval, width, height, args.fps))


if __name__ == "__main__":
    sys.exit(main())
