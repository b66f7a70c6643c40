"""Entity resolution: Salescope (normalised keys + Splink on DuckDB + vetoed clustering) vs a rapidfuzz baseline.

Records come from ``bench/data/er_records.py`` (seeded, labelled): people and companies with
typos, transpositions, missing fields, traditional characters, full-width digits, Chinese and
Latin names, and near-twins (same name and city, different ID number / tax id / phone). Quality
is pairwise precision / recall / F1 against the true clusters, plus the number of merged pairs
whose strong keys (ID number, tax id, as written in the records) contradict each other.

The peer is what a notebook user would write: one string per record (NFKC-folded lower-case
name, phone digits, birth date), ``rapidfuzz.process.cdist`` with ``token_sort_ratio``, pairs at
or above a cutoff linked, connected components as clusters. Its cutoff is tuned on a different seed, not on the
measured sample.

Run: ``.venv/bin/python -m bench.bench_er [--people 2000] [--companies 1000] [--record]``
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import unicodedata
from collections.abc import Callable
from itertools import combinations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from bench.data import er_records
from bench.harness import Comparison, compare, record
from salescope.resolve.api import resolve_customers

LABELS = ["record_id", "cluster", "strong"]
GOAL = "F1 >= 0.98; 0 conflicting merges"
ZERO = "0 conflicting merges"
CUTOFFS = (50, 55, 60, 65, 70, 75, 80, 85, 90, 95)


def pairwise(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    def pairs(x: pd.Series) -> float:
        return float((x * (x - 1) / 2).sum())

    both = pairs(pd.DataFrame({"p": pred, "t": truth}).value_counts())
    predicted, true = pairs(pd.Series(pred).value_counts()), pairs(pd.Series(truth).value_counts())
    precision = both / predicted if predicted else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def conflicting_merges(records: pd.DataFrame, pred: np.ndarray) -> int:
    bad = 0
    for _, group in records.assign(pred=pred).groupby("pred"):
        if len(group) < 2:
            continue
        for a, b in combinations(group.to_dict("records"), 2):
            for col in ("id_number", "tax_id"):
                x, y = a.get(col), b.get(col)
                if isinstance(x, str) and isinstance(y, str) and x.upper() != y.upper():
                    bad += 1
    return bad


def _record_text(row: pd.Series) -> str:
    parts = [unicodedata.normalize("NFKC", str(row.get("name") or "")).lower()]
    parts.append(re.sub(r"\D", "", unicodedata.normalize("NFKC", str(row.get("phone") or "")))[-11:])
    parts.append(str(row.get("birth_date") or "").replace("/", "-"))
    return " ".join(p for p in parts if p)


def rapidfuzz_scores(records: pd.DataFrame, cutoff: float) -> np.ndarray:
    strings = records.apply(_record_text, axis=1).tolist()
    return np.asarray(
        process.cdist(strings, strings, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, dtype=np.uint8)
    )


def _components(scores: np.ndarray, cutoff: float) -> np.ndarray:
    left, right = np.nonzero(np.triu(scores >= cutoff, k=1))
    n = len(scores)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1])


def rapidfuzz_clusters(records: pd.DataFrame, cutoff: float) -> np.ndarray:
    """The notebook baseline: fuzzy-match one string per record, link pairs over the cutoff."""
    return _components(rapidfuzz_scores(records, cutoff), cutoff)


def tuned_cutoff(make: Callable[[int], pd.DataFrame], seed: int) -> float:
    sample = make(seed)
    scores = rapidfuzz_scores(sample.drop(columns=LABELS), min(CUTOFFS))
    truth = sample["cluster"].to_numpy()
    scored = {c: pairwise(_components(scores, c), truth)[2] for c in CUTOFFS}
    return max(scored, key=lambda c: scored[c])


def run(label: str, make: Callable[[int], pd.DataFrame], seed: int, repeats: int, goal: str) -> Comparison:
    cutoff = tuned_cutoff(make, seed + 1000)
    sample = make(seed)
    inputs = sample.drop(columns=LABELS)
    truth = sample["cluster"].to_numpy()

    def check(ours: pd.Series, peer: np.ndarray) -> str:
        po, ro, fo = pairwise(ours.to_numpy(), truth)
        pp, rp, fp = pairwise(peer, truth)
        return (
            f"salescope P/R/F1 {po:.4f}/{ro:.4f}/{fo:.4f}, conflicting merges "
            f"{conflicting_merges(sample, ours.to_numpy())}; rapidfuzz (cutoff {cutoff:g}) P/R/F1 "
            f"{pp:.4f}/{rp:.4f}/{fp:.4f}, conflicting merges {conflicting_merges(sample, peer)}"
        )

    return compare(
        f"entity resolution, {label}",
        f"{len(sample):,} records, {sample['cluster'].nunique():,} entities",
        lambda: resolve_customers(inputs),
        lambda: rapidfuzz_clusters(inputs, cutoff),
        peer_label="rapidfuzz cdist",
        repeats=repeats,
        goal=goal,
        check=check,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Entity resolution benchmark (precision / recall / F1 and time)")
    parser.add_argument("--people", type=int, default=2000, help="person entities per sample")
    parser.add_argument("--companies", type=int, default=1000, help="company entities per sample")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    typos, hard, repeats = er_records.PROFILES["typos"], er_records.PROFILES["hard"], args.repeats
    n = args.people
    results = [
        run("people with typos", lambda s: er_records.people(n, seed=s, rates=typos), args.seed, repeats, GOAL),
        run("people, hard", lambda s: er_records.people(n, seed=s, rates=hard), args.seed, repeats, ZERO),
        run(
            "companies with typos",
            lambda s: er_records.companies(args.companies, seed=s, rates=typos),
            args.seed,
            repeats,
            ZERO,
        ),
    ]
    if args.record:
        versions = {p: md.version(p) for p in ("splink", "duckdb", "rapidfuzz", "pandas")}
        record("Entity resolution", results, versions)


if __name__ == "__main__":
    main()
