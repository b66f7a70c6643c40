"""`salescope demo`: generate a realistic 采销 dataset, import it through the real importer,
analyse it and write a report — the same path a user's own exports take (no back door)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from salescope.demo.generator import DemoFile, generate
from salescope.services.analysis import AnalysisResult, run_analysis
from salescope.services.importing import ImportResult, import_file
from salescope.services.progress import NoProgress, Progress
from salescope.services.reports import write_report
from salescope.services.summary import summary
from salescope.services.workspace import Workspace

# Reference data first, so order lines find their products and customers already known.
IMPORT_ORDER = (
    "products",
    "customers",
    "suppliers",
    "sales",
    "purchases",
    "inventory",
    "opportunities",
    "feedback",
    "targets",
)


@dataclass
class DemoResult:
    files: list[DemoFile]
    imports: list[ImportResult]
    analysis: AnalysisResult
    summary: dict[str, Any]
    report: Path


def run_demo(ws: Workspace, *, scale: str = "small", seed: int = 0, progress: Progress | None = None) -> DemoResult:
    progress = progress or NoProgress()
    out_dir = ws.root / "demo-files" / f"{scale}-seed{seed}"
    files = generate(out_dir, scale=scale, seed=seed, progress=progress)
    ordered = sorted(files, key=lambda f: (IMPORT_ORDER.index(f.kind), str(f.path)))
    progress.start("import", total=len(ordered))
    imports: list[ImportResult] = []
    for f in ordered:
        imports.append(import_file(ws, f.path, kind=f.kind, progress=progress, user="demo"))
        progress.advance("import")
    progress.finish("import")
    analysis = run_analysis(ws, progress=progress)
    report = write_report(ws, ws.reports_dir / "salescope-demo-report.xlsx")
    return DemoResult(files=ordered, imports=imports, analysis=analysis, summary=summary(ws), report=report)
