"""Association rules: Salescope (Apriori counted in DuckDB) vs mlxtend fpgrowth + association_rules.

Baskets are synthetic and seeded: basket sizes 1 + Poisson(3), items drawn with Zipf
popularity over the catalogue, and planted product groups (2-4 items bought together)
added to a small share of orders so that real multi-item rules exist beside the
popularity noise. Both sides get the same long table (order_id, item); mlxtend also has
to build its one-hot input, which is part of its cost. Rules are compared as sets of
(antecedent, consequent) with one-item consequents (what Salescope returns by default).

mlxtend gets a sparse one-hot frame, its cheapest input; it still densifies it (``df.values``
in its tree setup), which is where its gigabytes go at a million baskets.

Run: ``.venv/bin/python -m bench.bench_rules [--orders 100000,1000000] [--products 5000] [--repeats N]``
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import sys
from typing import Any

import numpy as np
import pandas as pd

from bench.harness import compare, record
from salescope.analytics.basket import association_rules

MIN_SUPPORT = 0.001
MIN_CONFIDENCE = 0.3


def synthetic_baskets(orders: int, products: int, seed: int = 7, zipf_a: float = 1.0, groups: int = 60) -> pd.DataFrame:
    """Long basket table (order_id, item) with Zipf item popularity and planted co-purchase groups."""
    rng = np.random.default_rng(seed)
    sizes = 1 + rng.poisson(3.0, orders)
    weights = 1.0 / np.arange(1, products + 1) ** zipf_a
    cdf = np.cumsum(weights / weights.sum())
    order_ids = np.repeat(np.arange(orders, dtype=np.int64), sizes)
    items = np.searchsorted(cdf, rng.random(order_ids.size)).astype(np.int64)
    # Planted groups use mid-popularity products so they are rules, not popularity artefacts.
    group_items = [rng.choice(np.arange(50, products), size=rng.integers(2, 5), replace=False) for _ in range(groups)]
    chosen = np.flatnonzero(rng.random(orders) < 0.15)
    which = rng.integers(0, groups, chosen.size)
    extra_orders = np.concatenate([np.full(group_items[g].size, o) for o, g in zip(chosen, which, strict=True)])
    extra_items = np.concatenate([group_items[g] for g in which])
    # Each planted item is dropped with probability 0.2 so the rules are strong but not certain.
    keep = rng.random(extra_items.size) >= 0.2
    frame = pd.DataFrame(
        {
            "order_id": np.concatenate([order_ids, extra_orders[keep]]),
            "item": np.concatenate([items, extra_items[keep]]),
        }
    )
    return frame.drop_duplicates(ignore_index=True)


def mlxtend_rules(baskets: pd.DataFrame, min_support: float, min_confidence: float) -> pd.DataFrame:
    """The peer's pipeline: one-hot (sparse) frame, fpgrowth, association_rules, one-item consequents."""
    from mlxtend.frequent_patterns import association_rules as mlx_rules
    from mlxtend.frequent_patterns import fpgrowth
    from scipy import sparse

    orders, order_idx = np.unique(baskets["order_id"].to_numpy(), return_inverse=True)
    items, item_idx = np.unique(baskets["item"].to_numpy(), return_inverse=True)
    matrix = sparse.csr_matrix(
        (np.ones(order_idx.size, dtype=bool), (order_idx, item_idx)), shape=(orders.size, items.size)
    )
    onehot = pd.DataFrame.sparse.from_spmatrix(matrix, columns=[str(i) for i in items])
    itemsets = fpgrowth(onehot, min_support=min_support, use_colnames=True)
    rules = mlx_rules(itemsets, num_itemsets=orders.size, metric="confidence", min_threshold=min_confidence)
    return rules[rules["consequents"].map(len) == 1].reset_index(drop=True)


def ours(baskets: pd.DataFrame, min_support: float, min_confidence: float) -> pd.DataFrame:
    return association_rules(baskets, min_support=min_support, min_confidence=min_confidence)


def _keys_ours(rules: pd.DataFrame) -> dict[tuple[frozenset[str], str], int]:
    return {
        (frozenset(map(str, a)), str(c[0])): int(n)
        for a, c, n in zip(rules["antecedent"], rules["consequent"], rules["count"], strict=True)
    }


def _keys_peer(rules: pd.DataFrame, orders: int) -> dict[tuple[frozenset[str], str], int]:
    return {
        (frozenset(a), next(iter(c))): round(s * orders)
        for a, c, s in zip(rules["antecedents"], rules["consequents"], rules["support"], strict=True)
    }


def check_same(ours_rules: pd.DataFrame, peer_rules: pd.DataFrame, orders: int) -> str:
    a = _keys_ours(ours_rules)
    b = _keys_peer(peer_rules, orders)
    if a != b:
        only_ours = len(a.keys() - b.keys())
        only_peer = len(b.keys() - a.keys())
        differ = sum(1 for k in a.keys() & b.keys() if a[k] != b[k])
        return f"RULES DIFFER: {only_ours} only ours, {only_peer} only mlxtend, {differ} with other counts"
    return f"identical {len(a)} rules (same support counts)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", default="100000,1000000", help="comma-separated basket counts")
    parser.add_argument("--products", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    comparisons = []
    for orders in (int(n) for n in args.orders.split(",")):
        baskets = synthetic_baskets(orders, args.products)
        size = f"{orders:,} orders x {args.products:,} products ({len(baskets):,} lines)"
        print(f"{size}: min_support {MIN_SUPPORT}, min_confidence {MIN_CONFIDENCE}", flush=True)

        def run_ours(b: pd.DataFrame = baskets) -> pd.DataFrame:
            return ours(b, MIN_SUPPORT, MIN_CONFIDENCE)

        def run_peer(b: pd.DataFrame = baskets) -> pd.DataFrame:
            return mlxtend_rules(b, MIN_SUPPORT, MIN_CONFIDENCE)

        def check(r_ours: Any, r_peer: Any, n: int = orders) -> str:
            return check_same(r_ours, r_peer, n)

        comparisons.append(
            compare(
                "association rules",
                size,
                run_ours,
                run_peer,
                peer_label="mlxtend fpgrowth",
                repeats=args.repeats,
                goal=">= 10x faster, <= 1/10 memory",
                check=check,
            )
        )
    if not args.no_record:
        versions = {p: md.version(p) for p in ("duckdb", "ibis-framework", "mlxtend", "pandas")}
        record("Association rules (bench_rules.py)", comparisons, versions)
    return 0 if all(c.note.startswith("identical") for c in comparisons) else 1


if __name__ == "__main__":
    sys.exit(main())
