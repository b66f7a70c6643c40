"""Issue 2's 'done when', as a user runs it: demo from nothing, then serve, log in, use a token.

Everything is a real process: the `salescope` console script, a DuckDB file, uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from salescope.schema.tables import DATA_TABLES

BIN = Path(sys.executable).with_name("salescope")
CANONICAL = ("sales", "customers", "products", "purchases", "suppliers", "inventory", "opportunities", "feedback")

pytestmark = pytest.mark.slow


def _run(*args: str, ws: Path, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "SALESCOPE_WORKSPACE": str(ws)}
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, input=stdin, timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("demo") / "ws"
    res = _run("demo", "--no-serve", "--seed", "3", ws=ws, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "RFM" in res.stdout and "Excel" in res.stdout
    return ws


def test_demo_fills_every_canonical_table(demo_ws: Path) -> None:
    union = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in CANONICAL)
    res = _run("sql", union, "--format", "json", ws=demo_ws)
    assert res.returncode == 0, res.stderr
    counts = {r["t"]: r["n"] for r in json.loads(res.stdout)}
    assert set(counts) == set(CANONICAL)
    assert all(n > 0 for n in counts.values()), counts
    assert {t.name for t in DATA_TABLES} >= set(CANONICAL)


def test_demo_buckets_reconcile_and_reimport_loads_nothing(demo_ws: Path) -> None:
    res = _run("import", "--list", "--json", ws=demo_ws)
    assert res.returncode == 0, res.stderr
    batches = json.loads(res.stdout)
    assert batches
    for b in batches:
        assert b["rows"] == b["loaded"] + b["duplicates"] + b["quarantined"] + b["skipped"], b
    sales_file = next(demo_ws.glob("demo-files/*/sales*"))
    again = _run("import", str(sales_file), "--kind", "sales", "--json", "--no-analyze", ws=demo_ws)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout.splitlines()[0])
    assert result["loaded"] == 0
    assert result["rows"] == result["duplicates"] + result["quarantined"] + result["skipped"]


def test_demo_segments_cover_every_identified_buyer(demo_ws: Path) -> None:
    res = _run(
        "sql",
        "SELECT (SELECT count(*) FROM customer_scores) AS scored, "
        "(SELECT count(DISTINCT customer_id) FROM sales WHERE customer_id IS NOT NULL) AS buyers",
        "--format",
        "json",
        ws=demo_ws,
    )
    row = json.loads(res.stdout)[0]
    assert row["scored"] == row["buyers"] > 100


def test_twin_customer_codes_are_proposed_merged_and_split_back(demo_ws: Path) -> None:
    """The demo registers some companies under two codes (same tax id and phone, per its manifest):
    review must propose exactly those pairs; a merge moves the lines and a split restores them."""
    manifest = json.loads(next(demo_ws.glob("demo-files/*/manifest.json")).read_text(encoding="utf-8"))
    twins = {frozenset(p) for p in manifest["customers"]["second_codes"]}
    res = _run("customers", "candidates", "--limit", "200", "--json", ws=demo_ws)
    assert res.returncode == 0, res.stderr
    pairs = json.loads(res.stdout)
    codes = dict(
        (r["customer_id"], r["source_code"])
        for r in json.loads(
            _run(
                "sql",
                "SELECT DISTINCT customer_id, source_code FROM customer_sources WHERE source_key LIKE 'code:%'",
                "--format",
                "json",
                ws=demo_ws,
            ).stdout
        )
    )
    proposed = {frozenset((codes[p["keep_id"]], codes[p["merge_id"]])) for p in pairs if p["evidence"] == "tax_id"}
    assert twins <= proposed

    def lines(cid: str) -> int:
        q = f"SELECT count(*) AS n FROM sales WHERE customer_id = '{cid}'"
        return int(json.loads(_run("sql", q, "--format", "json", ws=demo_ws).stdout)[0]["n"])

    keep, gone = pairs[0]["keep_id"], pairs[0]["merge_id"]
    before = lines(keep), lines(gone)
    merged = _run("customers", "merge", keep, gone, "--json", ws=demo_ws)
    assert merged.returncode == 0, merged.stderr
    assert (lines(keep), lines(gone)) == (sum(before), 0)
    log_id = str(json.loads(merged.stdout)["log_id"])
    assert _run("customers", "split", log_id, ws=demo_ws).returncode == 0
    assert (lines(keep), lines(gone)) == before


@pytest.fixture(scope="module")
def server(demo_ws: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "SALESCOPE_WORKSPACE": str(demo_ws)}
    proc = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/login", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.3)
    else:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"server did not start: {err[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def test_login_gate_and_api_401_shape(server: str) -> None:
    r = httpx.get(f"{server}/", follow_redirects=False, timeout=30)
    assert r.status_code in (302, 303, 307)
    assert r.headers["location"].startswith("/login")
    api = httpx.get(f"{server}/api/v1/overview", timeout=30)
    assert api.status_code == 401
    body = api.json()
    assert body["ok"] is False and body["status"] == 401 and isinstance(body["error"], str) and "errors" in body
    spec = httpx.get(f"{server}/api/v1/openapi.json", timeout=30)
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")


def test_token_from_cli_opens_the_api_and_writers_are_told_why(server: str, demo_ws: Path) -> None:
    added = _run("user", "add", "ana", "--role", "analyst", "--password-stdin", ws=demo_ws, stdin="Analyst-pass-2026\n")
    assert added.returncode == 0, added.stderr
    tok = _run("token", "create", "ana", ws=demo_ws)
    assert tok.returncode == 0, tok.stderr
    token = tok.stdout.strip().splitlines()[-1]
    r = httpx.get(f"{server}/api/v1/overview", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    customers = httpx.get(
        f"{server}/api/v1/customers", params={"limit": 5}, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()
    assert customers["total"] > 100 and len(customers["items"]) == 5
    busy = _run("analyze", ws=demo_ws)
    assert busy.returncode == 1
    assert "salescope serve" in busy.stderr and "Traceback" not in busy.stderr
