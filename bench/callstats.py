"""Figures for bench/call.py: cut one common window out of every peer's --stats-json and
summarise it (per stream and per call). Pure functions over the JSON the headless CLI writes."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from typing import Any


@dataclass
class Peer:
    name: str
    pid: int
    stats: dict[str, Any]
    cpu: list[tuple[float, float]]  # (wall ms, CPU seconds used so far), sampled by the bench

    @property
    def my_id(self) -> str:
        return str(self.stats.get("my_id", ""))

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.stats.get("metrics") or {})

    @property
    def start_ms(self) -> float:
        return float(self.metrics.get("start_wall_ms") or 0.0)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _at(series: list[tuple[float, float]], t: float) -> float | None:
    """Linear interpolation of a cumulative series at wall time t."""
    if not series or t < series[0][0] or t > series[-1][0]:
        return None
    for (t0, v0), (t1, v1) in itertools.pairwise(series):
        if t0 <= t <= t1:
            return v0 if t1 == t0 else v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return series[-1][1]


def _rate(series: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Growth per second of a cumulative series over [start, end] (wall ms)."""
    inside = [(t, v) for t, v in series if start <= t <= end]
    a, b = _at(series, start), _at(series, end)
    if a is None or b is None:
        if len(inside) < 2:
            return None
        (start, a), (end, b) = inside[0], inside[-1]
    return (b - a) / ((end - start) / 1000) if end > start else None


def summarise(peers: list[Peer], start: float, end: float) -> dict[str, Any]:
    """The issue's JSON shape for one call, over the window [start, end] (wall ms)."""
    by_id = {p.my_id: p for p in peers}
    seconds = (end - start) / 1000
    streams: list[dict[str, Any]] = []
    pooled: list[float] = []
    firsts: list[float] = []
    lags: list[float] = []
    for receiver in peers:
        for stream in receiver.metrics.get("streams", {}).values():
            sender = by_id.get(stream["peer"])
            if stream["kind"] != "video" or sender is None:
                continue
            frames = [(t, lat) for t, lat in stream["frames"] if start <= t <= end]
            latencies = [lat for _, lat in frames if lat is not None]
            pooled += latencies
            rate = _rate([(t, float(b)) for t, b in stream["bytes"]], start, end)
            first = stream.get("first_wall_ms")
            if first is not None:
                firsts.append(first - max(sender.start_ms, receiver.start_ms))
            streams.append(
                {
                    "from": sender.name,
                    "to": receiver.name,
                    "fps": round(len(frames) / seconds, 1),
                    "latency_ms_p50": percentile(latencies, 50),
                    "latency_ms_p95": percentile(latencies, 95),
                    "kbps": None if rate is None else round(rate * 8 / 1000, 1),
                    "stamped": len(latencies),
                }
            )
        lags += [lag for t, lag in receiver.metrics.get("loop_lag", []) if start <= t <= end]
    cpu = {p.name: _rate(p.cpu, start, end) for p in peers}
    cpu_pct = {name: None if c is None else round(100 * c, 1) for name, c in cpu.items()}
    expected = len(peers) * (len(peers) - 1)
    fps: list[float] = [s["fps"] for s in streams] + [0.0] * (expected - len(streams))
    cpu_total = sum(c for c in cpu_pct.values() if c is not None)
    delivered = sum(fps)  # frames per second received, all streams together
    return {
        "streams": sorted(streams, key=lambda s: (s["from"], s["to"])),
        "cpu_percent_total": round(cpu_total, 1),
        # CPU time per frame received (ms): fair where one mode is capped by the machine and
        # delivers fewer frames for the CPU it gets (1 % of a core = 10 ms of CPU per second)
        "cpu_ms_per_frame": round(cpu_total * 10 / delivered, 2) if delivered else None,
        "cpu_percent": cpu_pct,
        "first_frame_ms_max": round(max(firsts), 1) if len(firsts) == expected else None,
        "loop_lag_ms_p99": percentile(lags, 99),
        "fps_min": min(fps) if fps else 0.0,
        "fps_mean": round(statistics.fmean(fps), 1) if fps else 0.0,
        "latency_ms_p50": percentile(pooled, 50),
        "latency_ms_p95": percentile(pooled, 95),
        "kbps_mean": _mean([s["kbps"] for s in streams]),
        "window_s": round(seconds, 1),
    }


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.fmean(known), 1) if known else None


def window(peers: list[Peer], seconds: float, warmup: float) -> tuple[float, float]:
    """From ``warmup`` s after the last peer started to 1 s before the first one left."""
    starts = [p.start_ms for p in peers if p.start_ms]
    start = max(starts) + warmup * 1000
    return start, min(starts) + seconds * 1000 - 1000


FIGURES = (  # (label, key, lower is better)
    ("fps (lowest stream)", "fps_min", False),
    ("latency p50 ms", "latency_ms_p50", True),
    ("latency p95 ms", "latency_ms_p95", True),
    ("CPU % (all peers)", "cpu_percent_total", True),
    ("CPU ms per received frame", "cpu_ms_per_frame", True),
    ("link → first frame ms (max)", "first_frame_ms_max", True),
    ("loop lag p99 ms", "loop_lag_ms_p99", True),
    ("kbps (mean stream)", "kbps_mean", True),
)


def table(ours: dict[str, Any], baseline: dict[str, Any] | None, first: str = "ours") -> list[str]:
    rows = [f"{'figure':30} {first:>9} {'baseline' if baseline else '':>9} {'ratio':>7}"]
    for label, key, _ in FIGURES:
        a = ours.get(key)
        b = baseline.get(key) if baseline else None
        ratio = (
            f"{a / b:.2f}"
            if isinstance(a, int | float) and isinstance(b, int | float) and b
            else ""
        )
        rows.append(f"{label:30} {_fmt(a):>9} {_fmt(b):>9} {ratio:>7}")
    return rows


def saturated(figures: dict[str, Any], cores: int, share: float = 0.95) -> bool:
    """True if the call used nearly all of the machine: its CPU figure is then a ceiling,
    not the demand, and the mode delivers fewer frames than it should."""
    return float(figures.get("cpu_percent_total") or 0.0) >= share * 100 * cores


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
