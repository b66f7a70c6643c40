"""Bad input through the real CLI: one sentence on stderr, a non-zero exit, no traceback, nothing loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from salescope.services.workspace import Workspace

CLI = Path(sys.executable).with_name("salescope")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.slow
def test_bad_files_fail_in_one_sentence(tmp_path: Path) -> None:
    if not CLI.exists():
        pytest.skip("the salescope command is not installed in this environment")
    ws = tmp_path / "ws"
    # Each launch costs seconds; the other bad inputs are covered through the service in test_import.py.
    cases = {
        "random.xlsx": (bytes((i * 2654435761) % 256 for i in range(5000)), "not a readable Excel workbook"),
        "header.csv": ("订单编号,下单日期,金额\n".encode(), "header but no data rows"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        done = run("import", str(path), "--workspace", str(ws), "--no-analyze")
        assert done.returncode != 0, name
        assert message in done.stderr and "Traceback" not in done.stderr, (name, done.stderr)
        assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1, done.stderr
    good = tmp_path / "good.csv"
    good.write_text("订单编号,下单日期,金额\nA1,2024-01-02,5\n", encoding="utf-8")
    done = run("import", str(good), "--workspace", str(ws), "--no-analyze", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {k: result[k] for k in ("rows", "loaded", "duplicates", "quarantined", "skipped")} == {
        "rows": 1,
        "loaded": 1,
        "duplicates": 0,
        "quarantined": 0,
        "skipped": 0,
    }
    with Workspace(ws) as opened:
        assert opened.warehouse.scalar("SELECT count(*) FROM import_batches") == 1
