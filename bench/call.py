"""A mesh call on this machine: N headless peers, each its own process, over loopback through
the real rendezvous (the CLI), measured in PeerMeet's mode and in the stock-aiortc baseline
(one encoder per peer, aiortc's jitter buffers; ``--baseline``) in the same run.

Per stream: frames per second received, glass-to-glass latency p50/p95 (the synthetic camera
stamps capture time into each frame; the receiver reads it after decoding), bitrate. Per call:
CPU % of every process (from /proc), link → first remote frame, event-loop lag p99. All over
one window: from ``--warmup`` s after the last peer joined until the first one leaves.

    .venv/bin/python bench/call.py --peers 4 --res 640x480 --fps 30 --seconds 20 --json out.json
    .venv/bin/python bench/call.py --scale 8 --seconds 15   # largest mesh holding >= 24 fps
    .venv/bin/python bench/call.py --peers 2,4 --rounds 3   # each mode 3 times, alternating

With --scale, peers are added one at a time from 2 up to the given number, for each mode until
it no longer holds --min-fps on every stream; PeerMeet's quality is pinned to the capture size
there (--pin-quality), so both modes are compared at the requested size.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from callstats import Peer, saturated, summarise, table, window

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
MODES = ("ours", "baseline")


def cpu_seconds(pid: int) -> float | None:
    """user + system CPU time of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def launch(
    args: argparse.Namespace, mode: str, role: list[str], name: str, out: Path, muted: bool = False
) -> Any:
    cmd = [sys.executable, "-X", "faulthandler", "-m", "app", *role, "--headless", "--synthetic"]
    cmd += ["--res", args.res]
    cmd += ["--fps", str(args.fps), "--display-name", name, "--stats-json", str(out)]
    if args.codec:
        cmd += ["--codec", args.codec]
    if args.no_dtx:
        cmd.append("--no-dtx")
    cmd += ["--muted"] if muted else []
    if mode == "baseline":
        cmd.append("--baseline")
    else:
        cmd += ["--pin-quality"] if args.pin_quality else []
        cmd += ["--denoise"] if args.denoise else []
    return subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def run_call(args: argparse.Namespace, mode: str, n: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="pm-bench-") as where:
        return _run_call(args, mode, n, Path(where))


def _run_call(args: argparse.Namespace, mode: str, n: int, tmp: Path) -> dict[str, Any]:
    """One call; the peers write their statistics into ``tmp``."""
    size = "small" if n <= 4 else "mid" if n <= 8 else "large"
    host_role = ["host", "--name", f"bench-{n}", "--bind", "127.0.0.1", "--size", size]
    host = launch(
        args, mode, [*host_role, "--seconds", str(args.seconds + 60)], "p0", tmp / "p0.json"
    )
    assert host.stdout is not None
    link = host.stdout.readline().strip()
    if not link.startswith("peermeet://"):
        host.kill()
        raise SystemExit(f"host did not start: {host.communicate()[1][-2000:]}")
    procs = {"p0": host}
    for i in range(1, n):
        role = ["join", link, "--seconds", str(args.seconds)]
        muted = i >= n - args.muted  # the last --muted guests listen with the microphone off
        procs[f"p{i}"] = launch(args, mode, role, f"p{i}", tmp / f"p{i}.json", muted)
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in procs}
    guests = [p for name, p in procs.items() if name != "p0"]
    deadline = time.monotonic() + args.seconds + 40
    while any(p.poll() is None for p in guests) and time.monotonic() < deadline:
        for name, proc in procs.items():
            used = cpu_seconds(proc.pid)
            if used is not None:
                cpu[name].append((time.time() * 1000, used))
        time.sleep(0.25)
    host.send_signal(signal.SIGTERM)  # leaves cleanly and writes its stats
    errors = []
    for name, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:  # hung: have faulthandler print every thread's stack
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate()
        if proc.returncode not in (0, -signal.SIGTERM):
            errors.append(f"{name} exited {proc.returncode}: {err[-6000:]}")
    peers = []
    for name, proc in procs.items():
        path = tmp / f"{name}.json"
        stats = json.loads(path.read_text()) if path.exists() else {}
        peers.append(Peer(name, proc.pid, stats, cpu[name]))
    if errors or any(not p.stats for p in peers):
        print("\n".join(errors) or "a peer wrote no statistics", file=sys.stderr)
    start, end = window(peers, args.seconds, args.warmup)
    return summarise(peers, start, end)


def compare(args: argparse.Namespace, n: int) -> dict[str, Any]:
    """Each mode's call, --rounds times, the modes' order alternating (the machine's speed
    drifts: alternation pairs each round's calls in time). Each mode's figures are those of its
    round with the median CPU; with several rounds, all of them are kept under "rounds"."""
    rounds: list[dict[str, Any]] = []
    for r in range(args.rounds):
        one: dict[str, Any] = {}
        for mode in args.modes if r % 2 == 0 else args.modes[::-1]:
            where = f", round {r + 1}/{args.rounds}" if args.rounds > 1 else ""
            print(f"... {n} peers, {mode}{where}", file=sys.stderr, flush=True)
            one[mode] = run_call(args, mode, n)
        rounds.append(one)
    result: dict[str, Any] = {"peers": n}
    for mode in args.modes:
        calls = [one[mode] for one in rounds]
        result[mode] = lower_median(calls, key=lambda f: f["cpu_percent_total"] or 0)
    if args.rounds > 1:
        result["rounds"] = rounds
    return result


def lower_median(items: list[Any], key: Any = None) -> Any:
    """The middle item by ``key`` (of two middles, the lower): always one that was measured."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def paired_ratios(result: dict[str, Any]) -> list[float]:
    """ours/baseline total CPU of each round (both calls of a round ran back to back)."""
    return [
        round(one["ours"]["cpu_percent_total"] / one["baseline"]["cpu_percent_total"], 2)
        for one in result.get("rounds", [])
        if "ours" in one
        and "baseline" in one
        and one["ours"]["cpu_percent_total"]
        and one["baseline"]["cpu_percent_total"]
    ]


def report(result: dict[str, Any]) -> None:
    ours, baseline = result.get("ours"), result.get("baseline")
    main = ours or baseline
    assert main is not None
    print(f"\n{result['peers']} peers (window {main['window_s']} s):")
    print("\n".join(table(main, baseline if ours else None, "ours" if ours else "baseline")))
    ratios = paired_ratios(result)
    if len(ratios) > 1:
        middle = lower_median(ratios)
        print(
            f"  {len(ratios)} rounds (figures above: each mode's median-CPU round); "
            f"CPU ratio per round {', '.join(map(str, ratios))}, median {middle}"
        )
    for mode in MODES:
        if mode in result and saturated(result[mode], os.cpu_count() or 1):
            print(
                f"  note: {mode} used the whole machine; its CPU % is a ceiling, not its demand "
                "(compare CPU ms per received frame)"
            )
    for mode in MODES:
        if mode in result:
            cpu = ", ".join(f"{k} {v}" for k, v in result[mode]["cpu_percent"].items())
            print(f"  {mode} CPU % per process: {cpu}")
            for s in result[mode]["streams"]:
                print(
                    f"    {mode:8} {s['from']}→{s['to']}: {s['fps']} fps, "
                    f"p50 {s['latency_ms_p50']} ms, p95 {s['latency_ms_p95']} ms, {s['kbps']} kbps"
                )


def scale(args: argparse.Namespace) -> dict[str, Any]:
    """The largest mesh each mode carries with every stream at >= --min-fps."""
    largest: dict[str, int] = {}
    runs = []
    for n in range(2, args.scale + 1):
        modes = [m for m in args.modes if m not in largest]
        if not modes:
            break
        result: dict[str, Any] = {"peers": n}
        for mode in modes:
            print(f"... scale: {n} peers, {mode}", file=sys.stderr, flush=True)
            result[mode] = run_call(args, mode, n)
            fps = result[mode]["fps_min"]
            print(f"    {mode}: lowest stream {fps} fps", file=sys.stderr, flush=True)
            if fps < args.min_fps:
                largest[mode] = n - 1
        runs.append(result)
    for mode in args.modes:
        largest.setdefault(mode, args.scale)  # held up to the largest size tried
    return {"largest_mesh": largest, "min_fps": args.min_fps, "runs": runs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", help="peers in the call; several: 2,4 (default 2)")
    parser.add_argument("--res", default="640x480")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each guest stays")
    parser.add_argument("--warmup", type=float, default=4.0, help="s after the last join")
    parser.add_argument("--codec", choices=("vp8", "h264"))
    parser.add_argument(
        "--rounds", type=int, default=1, help="calls per mode and size, alternating the modes"
    )
    parser.add_argument("--modes", default="ours,baseline", help="ours, baseline or both")
    parser.add_argument("--pin-quality", action="store_true", help="no adaptive downscaling")
    parser.add_argument(
        "--denoise", action="store_true", help="ours: denoise the test pattern like a camera"
    )
    parser.add_argument("--scale", type=int, metavar="MAX", help="find the largest mesh")
    parser.add_argument("--min-fps", type=float, default=24.0, help="for --scale")
    parser.add_argument("--json", metavar="PATH", help="write the figures here")
    parser.add_argument("--muted", type=int, default=0, help="this many guests join muted")
    parser.add_argument(
        "--no-dtx", action="store_true", help="ours: send muted audio's silence all the same"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.modes = [m for m in args.modes.split(",") if m in MODES]
    output: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load": os.getloadavg()}}
    peers = args.peers or ("" if args.scale else "2")
    runs = [compare(args, int(n)) for n in peers.split(",") if n.strip()]
    for result in runs:
        report(result)
    if runs:
        output.update({m: runs[0][m] for m in args.modes}, runs=runs)
    if args.scale:
        args.pin_quality = True
        output["scale"] = scale(args)
        print(f"\nlargest mesh at >= {args.min_fps} fps: {output['scale']['largest_mesh']}")
    if args.json:
        Path(args.json).write_text(json.dumps(output, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
