"""Side-by-side benchmark harness: Salescope and the peer, same data, same process.

Peak memory is read from the kernel (VmHWM after resetting it through
``/proc/self/clear_refs``) because DuckDB and NumPy allocate outside Python's
allocator, where tracemalloc cannot see.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Measurement:
    label: str
    seconds: list[float] = field(default_factory=list)
    peak_mb: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(label: str, fn: Callable[[], Any], repeats: int = 3) -> tuple[Measurement, Any]:
    m = Measurement(label)
    result: Any = None
    for _ in range(repeats):
        result = None
        gc.collect()
        base = _rss_mb()
        _reset_peak()
        t0 = time.perf_counter()
        result = fn()
        m.seconds.append(time.perf_counter() - t0)
        m.peak_mb = max(m.peak_mb, _peak_mb() - base)
    return m, result


@dataclass
class Comparison:
    name: str
    size: str
    ours: Measurement
    peer: Measurement
    goal: str = ""
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.peer.median / self.ours.median if self.ours.median > 0 else float("inf")

    def line(self) -> str:
        return (
            f"{self.name} [{self.size}]: salescope {self.ours.median:.3f}s "
            f"(peak +{self.ours.peak_mb:.0f} MB) vs {self.peer.label} {self.peer.median:.3f}s "
            f"(peak +{self.peer.peak_mb:.0f} MB) -> {self.ratio:.1f}x faster"
            + (f"; goal {self.goal}" if self.goal else "")
            + (f"; {self.note}" if self.note else "")
        )


def compare(
    name: str,
    size: str,
    ours: Callable[[], Any],
    peer: Callable[[], Any],
    *,
    peer_label: str,
    repeats: int = 3,
    goal: str = "",
    check: Callable[[Any, Any], str] | None = None,
) -> Comparison:
    """Time both sides (median of ``repeats``), and let ``check`` confirm they agree."""
    m_ours, r_ours = measure("salescope", ours, repeats)
    m_peer, r_peer = measure(peer_label, peer, repeats)
    note = check(r_ours, r_peer) if check else ""
    c = Comparison(name, size, m_ours, m_peer, goal, note)
    print(c.line(), flush=True)
    return c


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem_gb:.0f} GiB, {cpu}, Python {platform.python_version()}"


def record(title: str, comparisons: list[Comparison], versions: dict[str, str]) -> None:
    """Append one run's table to RESULTS.md with machine, date and library versions."""
    lines = [
        "",
        f"## {title} — {date.today().isoformat()}",
        "",
        f"Machine: {machine()}  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        "",
        "| benchmark | size | salescope (median s) | peer | peer (median s) | ratio | peak MB ours / peer"
        " | goal | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        lines.append(
            f"| {c.name} | {c.size} | {c.ours.median:.3f} | {c.peer.label} | {c.peer.median:.3f} | "
            f"{c.ratio:.1f}x | {c.ours.peak_mb:.0f} / {c.peer.peak_mb:.0f} | {c.goal} | {c.note} |"
        )
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    raw = RESULTS.with_name("results.jsonl")
    with raw.open("a", encoding="utf-8") as fh:
        for c in comparisons:
            fh.write(
                json.dumps(
                    {
                        "date": date.today().isoformat(),
                        "title": title,
                        "name": c.name,
                        "size": c.size,
                        "ours": asdict(c.ours),
                        "peer": asdict(c.peer),
                        "ratio": c.ratio,
                        "goal": c.goal,
                        "note": c.note,
                        "versions": versions,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
