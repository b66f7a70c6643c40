"""Frequent itemsets and association rules, counted in the engine.

Why not mlxtend: it wants a one-hot basket x item matrix, which at a million orders and
thousands of products is gigabytes of mostly zeros. Here baskets stay in long form
``(order_id, item_id)`` and each Apriori level is one grouped self-join in the engine, so
memory follows the number of *frequent* itemsets, and the same Ibis code runs on DuckDB
or Spark.

The algorithm, level by level:

1. count orders per item; keep items with ``count >= min_count`` and number them
   ``1..n`` from the rarest up (the first column of a candidate is then its rarest item,
   which keeps the first join of candidate counting small);
2. pairs: join the encoded baskets with themselves on ``order_id`` with
   ``item_id < item_id`` and count; keep the frequent ones;
3. level ``k >= 3``: Apriori-gen (join two frequent ``k-1`` itemsets sharing their first
   ``k-2`` items), prune candidates with an infrequent ``k-1`` subset, shrink the baskets to
   the candidates' items, count the survivors (pairs of their first two items, then one
   semi-join per further item), keep the frequent ones.

Each level's frequent itemsets (small) come back as Arrow so the size of the next level
can be decided; the baskets themselves never leave the engine.

Conventions follow R ``arules`` (the reference the tests pin): support is a share of
all orders, an itemset is frequent when ``support >= min_support`` (so the count must be at
least ``ceil(min_support * orders)``), a rule is kept when ``confidence >= min_confidence``,
rules have a non-empty antecedent and, by default, a one-item consequent.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from salescope.errors import InputError

Runner = Callable[[ibis.Expr], pa.Table]
"""Executes an expression on the engine that owns its tables and returns the rows."""

Stager = Callable[[ibis.Table], ibis.Table]
"""Stores a large intermediate result in the engine and returns a table reading it."""

RULE_COLUMNS = (
    "antecedent",
    "consequent",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "count",
    "antecedent_support",
    "consequent_support",
)
_CONFIDENCE_SLACK = 1e-12
"""Float tolerance so that e.g. 3/10 passes ``confidence >= 0.3`` as it does in arules."""


@dataclass(frozen=True)
class RuleParams:
    """Thresholds for one rule-mining run; ``max_len`` counts antecedent plus consequent items."""

    min_support: float
    min_confidence: float
    max_len: int | None = None
    max_consequent_len: int = 1
    max_pairs: int | None = None
    """Raise the support count until at most this many pairs are frequent (None: never).

    Baskets of dozens of lines (wholesale invoices) make almost every pair frequent at a
    low support; the warehouse steps cap the pairs instead of guessing a support per dataset.
    """
    max_candidates: int | None = None
    """Stop before a level with more candidates than this (None: never); larger itemsets are skipped."""

    def __post_init__(self) -> None:
        if not 0 < self.min_support <= 1:
            raise InputError(
                "min_support must be a share of orders",
                column="min_support",
                value=self.min_support,
                expected="0 < x <= 1",
            )
        if not 0 <= self.min_confidence <= 1:
            raise InputError(
                "min_confidence must be a probability",
                column="min_confidence",
                value=self.min_confidence,
                expected="0 <= x <= 1",
            )
        if self.max_len is not None and self.max_len < 2:
            raise InputError(
                "a rule needs at least two items", column="max_len", value=self.max_len, expected="None or >= 2"
            )
        if self.max_consequent_len < 1:
            raise InputError(
                "a rule needs a consequent",
                column="max_consequent_len",
                value=self.max_consequent_len,
                expected=">= 1",
            )

    def min_count(self, orders: int) -> int:
        """The smallest order count with ``count / orders >= min_support`` (arules' comparison)."""
        return max(1, math.ceil(self.min_support * orders - 1e-9))


@dataclass
class Itemsets:
    """Frequent itemsets by size: ``levels[k]`` has item-id columns ``i1..ik`` (ascending) and ``n``."""

    orders: int
    min_count: int
    items: pa.Table
    """``item`` (the caller's value), ``item_id`` (1 = rarest frequent item) and ``n``."""
    levels: dict[int, pa.Table] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What the caps changed: a raised support count, a level not mined."""


def _ids(k: int, prefix: str = "i") -> list[str]:
    return [f"{prefix}{j}" for j in range(1, k + 1)]


# -- expression builders ------------------------------------------------------------------


def basket_items(table: ibis.Table, order_col: str = "order_id", item_col: str = "item") -> ibis.Table:
    """One row per (order, item) present: repeated lines of one item count once, as in a basket."""
    t = table.select(order_id=table[order_col], item=table[item_col])
    return t.filter(t.order_id.notnull() & t.item.notnull()).distinct()


def item_frequencies(pairs: ibis.Table) -> ibis.Table:
    return pairs.group_by("item").aggregate(n=pairs.order_id.count())


def frequent_item_ids(frequencies: ibis.Table, min_count: int) -> ibis.Table:
    """Number the frequent items from the rarest up; ties in order of the item value."""
    f = frequencies.filter(frequencies.n >= min_count)
    return f.mutate(item_id=ibis.row_number().over(order_by=[f.n, f.item]) + 1)


def encoded_baskets(pairs: ibis.Table, items: ibis.Table) -> ibis.Table:
    """Baskets as ``(order_id, item_id)`` over frequent items only."""
    j = pairs.join(items.select("item", "item_id"), "item")
    # 32-bit ids halve the item keys of every join and grouping that follows.
    return j.select("order_id", item_id=j.item_id.cast("int32"))


def multi_item_baskets(tx: ibis.Table, k: int) -> ibis.Table:
    """Drop orders with fewer than ``k`` frequent items: they cannot hold a k-itemset."""
    other = tx.view()  # a self semi-join: Ibis needs the two sides to be distinct relations
    sizes = other.group_by("order_id").aggregate(size=other.item_id.count())
    keep = sizes.filter(sizes.size >= k).select("order_id")
    return tx.semi_join(keep, "order_id")


def pair_counts(tx: ibis.Table, min_count: int) -> ibis.Table:
    a = tx.rename(i1="item_id")
    b = tx.rename(i2="item_id")
    j = a.join(b, ["order_id", a.i1 < b.i2])
    counts = j.group_by(["i1", "i2"]).aggregate(n=j.i1.count())
    return counts.filter(counts.n >= min_count)


def candidates(previous: ibis.Table, k: int) -> ibis.Table:
    """Apriori-gen: k-itemsets whose every (k-1)-subset is frequent, from the frequent (k-1)-itemsets."""
    prefix = _ids(k - 2)
    last = f"i{k - 1}"
    p = previous.select(*_ids(k - 1))
    other = previous.view()
    q = other.select(*prefix, **{f"i{k}": other[last]})
    c = p.join(q, [*prefix, p[last] < q[f"i{k}"]]).select(*_ids(k))
    for drop in range(1, k - 1):
        kept = [name for name in _ids(k) if name != f"i{drop}"]
        other = previous.view()
        subset = other.select(**{f"s{j}": other[f"i{j}"] for j in range(1, k)})
        c = c.semi_join(subset, [c[name] == subset[f"s{j}"] for j, name in enumerate(kept, start=1)])
    return c


def candidate_baskets(tx: ibis.Table, cands: ibis.Table, k: int) -> ibis.Table:
    """Shrink the baskets to the items of some candidate, in orders holding at least ``k`` of them.

    Each level works on a smaller table than the one before, which is what keeps the
    counting joins' hash tables small.
    """
    ids = ibis.union(*[cands.select(item_id=cands[f"i{j}"]) for j in range(1, k + 1)], distinct=True)
    base = tx.view()  # tx may itself end in a join on these columns; a view keeps the relations apart
    return multi_item_baskets(base.semi_join(ids, base.item_id == ids.item_id), k)


def candidate_counts(tx: ibis.Table, cands: ibis.Table, k: int, min_count: int) -> ibis.Table:
    """Support counts of candidate k-itemsets.

    Occurrences start from the candidates' first two items found together in an order (a
    self-join of the shrunken baskets, kept only for pairs that begin a candidate), so the
    rows carried along are bounded by pair supports rather than by single-item supports;
    each further item is one semi-join.
    """
    a = tx.rename(i1="item_id")
    b = tx.rename(i2="item_id")
    prefixes = cands.select("i1", "i2").distinct()
    occ = a.join(b, ["order_id", a.i1 < b.i2]).semi_join(prefixes, ["i1", "i2"])
    occ = occ.join(cands, ["i1", "i2"])
    for j in range(3, k + 1):
        occ = occ.semi_join(tx.rename(**{f"i{j}": "item_id"}), ["order_id", f"i{j}"])
    counts = occ.group_by(_ids(k)).aggregate(n=occ.order_id.count())
    return counts.filter(counts.n >= min_count)


def rules_from_levels(
    levels: dict[int, ibis.Table],
    orders: int,
    min_confidence: float,
    max_consequent_len: int = 1,
) -> ibis.Table | None:
    """Rules X -> Y for every frequent itemset and every split with ``1 <= |Y| <= max_consequent_len``.

    Antecedent and consequent are padded to fixed widths (``a1..``, ``c1..``; NULL past the
    end) so the splits of all sizes union into one table. None when there are no itemsets
    of two or more items.
    """
    sizes = sorted(k for k in levels if k >= 2)
    if not sizes:
        return None
    width_a = max(sizes) - 1
    width_c = min(max_consequent_len, width_a)
    n = float(orders)
    parts: list[ibis.Table] = []
    for k in sizes:
        whole = levels[k]
        for m in range(1, min(max_consequent_len, k - 1) + 1):
            if k - m not in levels or m not in levels:
                continue
            ante_counts = levels[k - m].rename(**{f"a{j}": f"i{j}" for j in range(1, k - m + 1)}, n_x="n")
            cons_counts = levels[m].rename(**{f"c{j}": f"i{j}" for j in range(1, m + 1)}, n_y="n")
            for cons in itertools.combinations(range(1, k + 1), m):
                ante = [p for p in range(1, k + 1) if p not in cons]
                r = whole.select(
                    **{f"a{j}": whole[f"i{p}"] for j, p in enumerate(ante, start=1)},
                    **{f"c{j}": whole[f"i{p}"] for j, p in enumerate(cons, start=1)},
                    n_xy=whole.n,
                )
                r = r.join(ante_counts, _ids(k - m, "a")).join(cons_counts, _ids(m, "c"))
                r = r.filter(r.n_xy.cast("float64") / r.n_x >= min_confidence - _CONFIDENCE_SLACK)
                pad = {f"a{j}": ibis.null().cast("int64") for j in range(k - m + 1, width_a + 1)}
                pad |= {f"c{j}": ibis.null().cast("int64") for j in range(m + 1, width_c + 1)}
                r = r.mutate(**pad) if pad else r
                parts.append(
                    r.select(
                        *[r[c].cast("int64").name(c) for c in _ids(width_a, "a")],
                        *[r[c].cast("int64").name(c) for c in _ids(width_c, "c")],
                        size=ibis.literal(k, "int64"),
                        n_xy=r.n_xy.cast("int64"),
                        n_x=r.n_x.cast("int64"),
                        n_y=r.n_y.cast("int64"),
                    )
                )
    rules = ibis.union(*parts) if len(parts) > 1 else parts[0]
    support = rules.n_xy.cast("float64") / n
    confidence = rules.n_xy.cast("float64") / rules.n_x
    sx = rules.n_x.cast("float64") / n
    sy = rules.n_y.cast("float64") / n
    return rules.mutate(
        support=support,
        confidence=confidence,
        lift=confidence / sy,
        leverage=support - sx * sy,
        conviction=ibis.ifelse(confidence < 1.0, (1.0 - sy) / (1.0 - confidence), ibis.literal(math.inf)),
        antecedent_support=sx,
        consequent_support=sy,
    )


# -- execution ----------------------------------------------------------------------------


def mine_itemsets(
    pairs: ibis.Table,
    params: RuleParams,
    run: Runner,
    stage: Stager | None = None,
    orders: int | None = None,
) -> Itemsets:
    """Level-wise Apriori over ``pairs`` (from :func:`basket_items`).

    ``orders`` is the support denominator; by default the orders in ``pairs``. ``stage``
    stores the (distinct) baskets and each level's shrunken copy in the engine, so that the
    several queries reading them do not recompute them.
    """
    stage = stage or (lambda t: t)
    pairs = stage(pairs)
    if orders is None:
        orders = int(run(pairs.order_id.nunique().as_table()).column(0)[0].as_py() or 0)
    min_count = params.min_count(orders)
    freqs = frequent_item_ids(item_frequencies(pairs), min_count)
    items = run(freqs.order_by("item_id"))
    result = Itemsets(orders=orders, min_count=min_count, items=items)
    result.levels[1] = pa.table({"i1": items["item_id"].cast(pa.int64()), "n": items["n"].cast(pa.int64())})
    max_len = params.max_len or items.num_rows
    if items.num_rows < 2 or max_len < 2:
        return result
    tx = stage(encoded_baskets(pairs, ibis.memtable(items.select(["item", "item_id"]))))
    level = run(pair_counts(tx, min_count).order_by(["i1", "i2"]))
    if params.max_pairs is not None and level.num_rows > params.max_pairs:
        level = _raise_support(result, level, params.max_pairs)
    result.levels[2] = level
    k = 3
    while k <= max_len and level.num_rows >= k:
        found = run(candidates(ibis.memtable(level), k))
        if found.num_rows == 0:
            break
        if params.max_candidates is not None and found.num_rows > params.max_candidates:
            result.notes.append(f"{found.num_rows} candidate {k}-itemsets exceed the cap; larger itemsets not mined")
            break
        cands = ibis.memtable(found)
        tx = stage(candidate_baskets(tx, cands, k))
        level = run(candidate_counts(tx, cands, k, min_count).order_by(_ids(k)))
        if level.num_rows == 0:
            break
        result.levels[k] = level
        k += 1
    return result


def _raise_support(result: Itemsets, pairs: pa.Table, max_pairs: int) -> pa.Table:
    """Lift the support count just enough that at most ``max_pairs`` pairs stay frequent."""
    counts = np.sort(np.asarray(pairs["n"]))[::-1]
    new_min = int(counts[max_pairs]) + 1
    result.notes.append(f"support count raised from {result.min_count} to {new_min} to keep {max_pairs} pairs")
    result.min_count = new_min
    singles = result.levels[1]
    result.levels[1] = singles.filter(pa.array(np.asarray(singles["n"]) >= new_min))
    return pairs.filter(pa.array(np.asarray(pairs["n"]) >= new_min))


def strongest_per_consequent(rules: ibis.Table, keep: int) -> ibis.Table:
    """The ``keep`` most confident rules for each consequent (ties: higher lift, rarer antecedent, item ids)."""
    cons = [c for c in rules.columns if c[0] == "c" and c[1:].isdigit()]
    ante = [rules[c] for c in rules.columns if c[0] == "a" and c[1:].isdigit()]
    order = ibis.row_number().over(
        group_by=[rules[c] for c in cons],
        order_by=[ibis.desc(rules.confidence), ibis.desc(rules.lift), rules.n_x, *ante],
    )
    ranked = rules.mutate(_keep=order)
    return ranked.filter(ranked._keep < keep).drop("_keep")


def mine_rules(
    itemsets: Itemsets,
    params: RuleParams,
    run: Runner,
    *,
    min_lift: float | None = None,
    per_consequent: int | None = None,
) -> pa.Table:
    """Rules with item ids (``a1..``, ``c1..``) and their measures.

    ``min_lift`` keeps rules with a larger lift only; ``per_consequent`` keeps the most
    confident rules of each consequent, which bounds what a recommender has to join.
    """
    levels = {k: ibis.memtable(t) for k, t in itemsets.levels.items() if t.num_rows}
    expr = rules_from_levels(levels, itemsets.orders, params.min_confidence, params.max_consequent_len)
    if expr is None:
        return pa.table({})
    if min_lift is not None:
        expr = expr.filter(expr.lift > min_lift)
    if per_consequent is not None:
        expr = strongest_per_consequent(expr, per_consequent)
    return run(expr)


def decode_rules(rules: pa.Table, items: pa.Table) -> pd.DataFrame:
    """Item ids back to the caller's item values, as sorted tuples (the arules display order)."""
    if rules.num_rows == 0:
        empty = {c: pd.Series(dtype=object if c in ("antecedent", "consequent") else float) for c in RULE_COLUMNS}
        return pd.DataFrame(empty)
    lookup = np.empty(items.num_rows + 1, dtype=object)
    lookup[np.asarray(items["item_id"], dtype=np.int64)] = items["item"].to_pylist()

    def itemsets(prefix: str) -> list[tuple[Any, ...]]:
        cols = [c for c in rules.column_names if c.startswith(prefix) and c[len(prefix) :].isdigit()]
        ids = [rules[c].to_numpy(zero_copy_only=False) for c in cols]
        out = []
        for row in zip(*ids, strict=True):
            out.append(tuple(sorted((lookup[int(i)] for i in row if i is not None and not np.isnan(i)), key=str)))
        return out

    frame = pd.DataFrame(
        {
            "antecedent": itemsets("a"),
            "consequent": itemsets("c"),
            "support": rules["support"].to_numpy(),
            "confidence": rules["confidence"].to_numpy(),
            "lift": rules["lift"].to_numpy(),
            "leverage": rules["leverage"].to_numpy(),
            "conviction": rules["conviction"].to_numpy(),
            "count": rules["n_xy"].to_numpy(),
            "antecedent_support": rules["antecedent_support"].to_numpy(),
            "consequent_support": rules["consequent_support"].to_numpy(),
        }
    )
    frame["_a"] = frame["antecedent"].map(lambda t: tuple(map(str, t)))
    frame["_c"] = frame["consequent"].map(lambda t: tuple(map(str, t)))
    order = ["lift", "confidence", "support", "_a", "_c"]
    frame = frame.sort_values(order, ascending=[False, False, False, True, True])
    return frame.drop(columns=["_a", "_c"]).reset_index(drop=True)


def association_rules(
    baskets: pd.DataFrame,
    min_support: float,
    min_confidence: float,
    max_len: int | None = None,
    *,
    max_consequent_len: int = 1,
    order_col: str = "order_id",
    item_col: str = "item",
) -> pd.DataFrame:
    """Association rules from a long basket table (``order_id``, ``item``), as in R ``arules``.

    Returns one row per rule: ``antecedent`` and ``consequent`` (tuples of items), ``support``,
    ``confidence``, ``lift``, ``leverage``, ``conviction`` (``inf`` when confidence is 1),
    ``count`` (orders holding all the rule's items), ``antecedent_support`` and
    ``consequent_support``; sorted by lift, strongest first.
    """
    from salescope.engine.aggregates import frame_table
    from salescope.engine.warehouse import memory_backend

    params = RuleParams(min_support, min_confidence, max_len, max_consequent_len)
    missing = [c for c in (order_col, item_col) if c not in baskets.columns]
    if missing:
        raise InputError(
            "the basket table lacks a column",
            column=missing[0],
            expected=f"columns {order_col!r} and {item_col!r} (one row per order line)",
        )
    con = memory_backend()
    frame = baskets[[order_col, item_col]].rename(columns={order_col: "order_id", item_col: "item"})
    source = frame_table(con, frame)
    names = itertools.count()

    def stage(t: ibis.Table) -> ibis.Table:
        return con.create_table(f"stage_{next(names)}", t, temp=True)

    itemsets = mine_itemsets(basket_items(source), params, con.to_pyarrow, stage)
    rules = mine_rules(itemsets, params, con.to_pyarrow)
    con.disconnect()
    return decode_rules(rules, itemsets.items)
