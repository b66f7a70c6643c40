"""The CLI as a user meets it: a real process, a real workspace folder, one sentence on errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from salescope.cli.docs import render
from salescope.cli.main import app

BIN = Path(sys.executable).with_name("salescope")
COMMANDS = [
    ["demo"],
    ["import"],
    ["analyze"],
    ["sql"],
    ["clv"],
    ["forecast"],
    ["report"],
    ["serve"],
    ["user", "add"],
    ["user", "list"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
    ["quality"],
    ["customers", "candidates"],
    ["customers", "merge"],
    ["customers", "split"],
    ["customers", "resolve"],
]


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "SALESCOPE_WORKSPACE": str(cwd / "ws")}
    return subprocess.run([str(BIN), *args], cwd=cwd, capture_output=True, text=True, input=stdin, env=env, timeout=120)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_every_command_has_help(command: list[str]) -> None:
    res = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Usage" in res.output
    assert "--workspace" in res.output


def test_sql_refuses_writes_in_one_sentence(tmp_path: Path) -> None:
    assert run("report", "--out", str(tmp_path / "r.xlsx"), cwd=tmp_path).returncode == 0  # creates the workspace
    res = run("sql", "DELETE FROM sales", cwd=tmp_path)
    assert res.returncode == 1
    assert "read-only" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert len(res.stderr.strip().splitlines()) == 1


def test_sql_json_output(tmp_path: Path) -> None:
    run("report", "--out", str(tmp_path / "r.xlsx"), cwd=tmp_path)
    res = run("sql", "SELECT 1 AS one, 'x' AS two", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [{"one": 1, "two": "x"}]


def test_writing_while_served_gets_one_sentence(tmp_path: Path) -> None:
    """A live `serve` lock makes writers stop with a sentence naming the server, not a DuckDB lock error."""
    ws = tmp_path / "ws"
    ws.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (ws / "serve.lock").write_text(json.dumps({"pid": holder.pid, "url": "http://127.0.0.1:8123/"}))
        res = run("analyze", cwd=tmp_path)
        assert res.returncode == 1
        assert "salescope serve" in res.stderr and "8123" in res.stderr
        assert "Traceback" not in res.stderr
    finally:
        holder.kill()
        holder.wait()


def test_unknown_option_value_is_one_sentence(tmp_path: Path) -> None:
    res = run("clv", "--model", "nonsense", cwd=tmp_path)
    assert res.returncode == 1
    assert "expected bgnbd, pareto or mbgnbd" in res.stderr


def test_bad_date_is_one_sentence(tmp_path: Path) -> None:
    res = run("analyze", "--as-of", "2024-13-45", cwd=tmp_path)
    assert res.returncode == 1
    assert "expected YYYY-MM-DD" in res.stderr
    assert "Traceback" not in res.stderr


def test_cli_reference_is_current() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert doc.read_text(encoding="utf-8") == render(), "run: .venv/bin/python -m salescope.cli.docs > docs/cli.md"
