"""Two builds of PeerMeet in one mesh call, at the same moment: which one costs less CPU?

On a shared 2-core machine the speed of the box drifts by 10 % or more within minutes, so two
``bench/call.py`` runs a few minutes apart cannot show a change of a few percent. Here both
builds are in the *same* call: this checkout and another one (``--other``, e.g. a
``git worktree`` of the previous commit) each run half the guests, the host alternates between
them from round to round, and each guest's CPU is read from /proc over the same window. Both
builds do the same work (a mesh peer sends to and receives from every other peer), so the
difference between their guests is the difference between the builds. With an odd number of
guests, the build with the extra guest alternates too.

    git worktree add /tmp/before HEAD~1 && ln -s "$PWD/.venv" /tmp/before/.venv
    .venv/bin/python bench/ab.py --other /tmp/before --peers 4 --rounds 4
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from call import cpu_seconds  # noqa: E402


def peer(root: Path, role: list[str], name: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    python = root / ".venv" / "bin" / "python"
    cmd = [str(python), "-m", "app", *role, "--headless", "--synthetic", "--display-name", name]
    cmd += ["--res", args.res, "--fps", str(args.fps)]
    return subprocess.Popen(
        cmd, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


def one_round(host_root: Path, guests: list[Path], args: argparse.Namespace) -> list[float]:
    """CPU % of each guest over the measuring window."""
    size = "small" if len(guests) < 4 else "mid" if len(guests) < 8 else "large"
    role = ["host", "--name", "ab", "--bind", "127.0.0.1", "--seconds", "300", "--size", size]
    host = peer(host_root, role, "p0", args)
    assert host.stdout is not None
    link = host.stdout.readline().strip()
    procs = [host]
    try:
        if not link.startswith("peermeet://"):
            raise SystemExit("the host did not start")
        for i, root in enumerate(guests, 1):
            procs.append(peer(root, ["join", link, "--seconds", "300"], f"p{i}", args))
        time.sleep(args.warmup)
        before = [cpu_seconds(p.pid) for p in procs[1:]]
        time.sleep(args.window)
        after = [cpu_seconds(p.pid) for p in procs[1:]]
        if any(p.poll() is not None for p in procs):
            raise SystemExit("a peer left early; the round is void")
        used = zip(before, after, strict=True)
        return [100 * ((b or 0) - (a or 0)) / args.window for a, b in used]
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", type=Path, required=True, help="the other checkout")
    parser.add_argument("--peers", type=int, default=4, help="host + guests")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--res", default="640x480")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--warmup", type=float, default=9.0, help="s before measuring")
    parser.add_argument("--window", type=float, default=15.0, help="s measured")
    args = parser.parse_args()
    other = args.other.resolve()
    if not (other / ".venv" / "bin" / "python").exists():
        raise SystemExit(f"{other}/.venv/bin/python is missing (symlink this checkout's .venv)")
    if args.peers < 3:
        raise SystemExit("--peers must be at least 3 (a host and a guest of each build)")
    diffs = []
    for n in range(args.rounds):
        # builds alternate among the guests, starting with a different one each round
        first, second = (other, ROOT) if n % 2 else (ROOT, other)
        guests = [first if i % 2 == 0 else second for i in range(args.peers - 1)]
        host_root = second
        cpu = one_round(host_root, guests, args)
        this = statistics.mean(c for c, r in zip(cpu, guests, strict=True) if r == ROOT)
        that = statistics.mean(c for c, r in zip(cpu, guests, strict=True) if r == other)
        diffs.append(this - that)
        host = "this" if host_root == ROOT else "other"
        print(f"round {n + 1} (host: {host}): this {this:.1f} %, other {that:.1f} %", flush=True)
    mean = statistics.mean(diffs)
    spread = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
    print(f"this build minus the other, per guest: {mean:+.1f} % of a core (sd {spread:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
