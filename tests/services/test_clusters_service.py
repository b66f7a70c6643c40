"""The clusters step on real data (Online Retail, December 2010) through the real importer."""

from __future__ import annotations

import csv
from pathlib import Path

from salescope.services.analysis import ANALYSIS_STEPS, run_analysis
from salescope.services.importing import import_file
from salescope.services.workspace import Workspace


def test_every_scored_customer_gets_one_named_cluster(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "online_retail_2010-12.csv"
    import_file(workspace, path, kind="sales")
    steps = [s for s in ANALYSIS_STEPS if s[0] in ("aggregates", "rfm", "clusters")]
    run_analysis(workspace, steps=steps)
    with path.open(newline="", encoding="utf-8") as fh:
        buyers = {r["CustomerID"] for r in csv.DictReader(fh) if r["CustomerID"].strip()}
    wh = workspace.warehouse
    assert wh.scalar("SELECT count(*) FROM customer_scores") == len(buyers)
    assert wh.scalar("SELECT count(*) FROM customer_clusters") == len(buyers)
    assert wh.scalar("SELECT count(DISTINCT customer_id) FROM customer_clusters") == len(buyers)
    profiles = wh.rows("SELECT cluster, cluster_zh, cluster_en, customers, k FROM cluster_profiles ORDER BY cluster")
    k = profiles[0][4]
    assert 3 <= k <= 8 and len(profiles) == k
    assert sum(p[3] for p in profiles) == len(buyers)
    assert len({p[1] for p in profiles}) == k and len({p[2] for p in profiles}) == k
    spend = wh.rows("SELECT monetary FROM cluster_profiles ORDER BY cluster")
    assert [s[0] for s in spend] == sorted((s[0] for s in spend), reverse=True)
