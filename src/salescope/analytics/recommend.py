"""Next best product per customer, from association rules and item-to-item co-occurrence.

Three sources of candidates, each an Ibis expression over purchase lines (not returns):

* **rules** — product-level association rules (:mod:`salescope.analytics.basket`) whose whole
  antecedent is among the customer's products; the candidate's score is the best such rule's
  confidence. The reason shown to a salesperson is the rule ("bought A and B, 62 % of such
  orders also hold C").
* **co-occurrence** — "customers who bought X also bought Y": cosine similarity of products over
  customers (``buyers(X and Y) / sqrt(buyers(X) * buyers(Y))``), each product keeping its
  nearest neighbours; a candidate's score sums its similarity to the customer's products.
  Unlike rules it needs no minimum support, so it still speaks for rare products.
* **popular** — products with the most buyers in the recent past; fills lists when the
  customer's history says little.

A product is not recommended while the customer is inside its repurchase cycle: bought
before and either not a product people buy again (no repurchase interval) or bought more
recently than its median repurchase interval. Products whose cycle has run out may come back.

The blend ranks candidates by ``0.5 x rule confidence + co-occurrence (scaled to the
customer's best) + 0.2 x popularity (scaled to the best seller)``. :func:`evaluate` measures
hit rate@k on a time split for the blend, each source alone and the popularity baseline;
those numbers chose the weights. On Online Retail (December 2010; customers who bought in
both halves; cutoffs 12 and 8 December) hit rate@5 / @10 was: blend 0.48 / 0.61 and
0.40 / 0.51, co-occurrence alone 0.47 / 0.59 and 0.39 / 0.53, rules alone 0.36 / 0.48 and
0.27 / 0.40, popularity 0.33 / 0.41 and 0.31 / 0.38. The blend leads at @5 on both splits
and at @10 on the first; co-occurrence alone is 2 points ahead at @10 on the second (a few
customers). Both beat popularity by 10-20 points.
Implicit-feedback ALS is not a source yet. A dense reference (``bench/bench_next_best.py``)
ties the blend on the first split (0.48 / 0.61) and beats it on the second (0.47 / 0.57), so it
has earned a place; it needs a sparse, batched implementation in ``models/`` before it can run
on a real customer base.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import ibis
import numpy as np
import pyarrow as pa

from salescope.analytics.basket import Itemsets, RuleParams, Runner, Stager, basket_items, mine_itemsets, mine_rules
from salescope.analytics.cohorts import repurchase_intervals
from salescope.errors import InputError

Method = Literal["blend", "rules", "cooccurrence", "popular"]
METHODS: tuple[Method, ...] = ("blend", "rules", "cooccurrence", "popular")
REASONS = ("rule", "co-occurrence", "popular")


@dataclass(frozen=True)
class NextBestParams:
    """Knobs of the recommender; the defaults are what :func:`evaluate` was tuned with."""

    k: int = 10
    min_confidence: float = 0.1
    min_rule_orders: int = 5
    """A rule needs this many orders (or ``min_support`` of all orders, whichever is more)."""
    min_support: float = 0.0005
    max_rule_len: int = 3
    max_rule_pairs: int = 20_000
    rules_per_product: int = 20
    """Most confident rules kept per recommended product; more add join cost, rarely hits."""
    min_co_buyers: int = 2
    neighbours: int = 30
    history_cap: int = 100
    """Co-occurrence uses each customer's most recent products only, bounding the pair count."""
    popular_days: int = 90
    method: Method = "blend"
    rule_weight: float = 0.5
    cooc_weight: float = 1.0
    popular_weight: float = 0.2

    def __post_init__(self) -> None:
        if self.k < 1:
            raise InputError("at least one recommendation is needed", column="k", value=self.k, expected=">= 1")
        if self.method not in METHODS:
            raise InputError("unknown recommendation method", column="method", value=self.method, expected=str(METHODS))

    def rule_params(self, orders: int) -> RuleParams:
        support = max(self.min_support, self.min_rule_orders / max(orders, 1))
        return RuleParams(
            min(support, 1.0),
            self.min_confidence,
            self.max_rule_len,
            max_pairs=self.max_rule_pairs,
            max_candidates=50 * self.max_rule_pairs,
        )


# -- inputs ---------------------------------------------------------------------------------


def purchase_lines(sales: ibis.Table, as_of: dt.date, *, identified: bool = True) -> ibis.Table:
    """Purchases (not returns) of known products up to ``as_of``; of identified customers unless told otherwise."""
    s = sales.filter(
        (sales.order_date <= as_of) & (sales.amount > 0) & sales.product_id.notnull() & (sales.product_id != "UNKNOWN")
    )
    if identified:
        s = s.filter(s.customer_id.notnull())
    return s.select("customer_id", "product_id", "order_id", "order_date")


def purchase_history(lines: ibis.Table) -> ibis.Table:
    """One row per (customer, product): last purchase date and distinct purchase days."""
    return lines.group_by(["customer_id", "product_id"]).aggregate(
        last_date=lines.order_date.max(), days=lines.order_date.nunique()
    )


def repurchase_cycles(lines: ibis.Table) -> ibis.Table:
    """Median days between a customer's purchase days of a product; NULL where nobody bought twice."""
    r = repurchase_intervals(lines)
    r = r.filter(r.scope == "product")
    return r.select(product_id=r.key, cycle_days=r.median_days)


def blocked(history: ibis.Table, cycles: ibis.Table, as_of: dt.date) -> ibis.Table:
    """(customer, product) pairs inside the product's repurchase cycle, which are not recommended."""
    h = history.left_join(cycles, "product_id")
    since = ibis.literal(as_of).delta(h.last_date, unit="day").cast("float64")
    inside = h.cycle_days.isnull() | (since < h.cycle_days)
    return h.filter(inside).select("customer_id", "product_id")


def popularity(lines: ibis.Table, as_of: dt.date, days: int) -> ibis.Table:
    """Buyers per product over the last ``days`` days, scaled so the best seller is 1."""
    recent = lines.filter(lines.order_date > as_of - dt.timedelta(days=days))
    counts = recent.group_by("product_id").aggregate(buyers=recent.customer_id.nunique())
    return counts.mutate(popularity=counts.buyers.cast("float64") / counts.buyers.max().over())


# -- rules ----------------------------------------------------------------------------------


@dataclass
class RuleTables:
    """Product rules in long form: antecedent items, and heads (consequent + measures)."""

    items: pa.Table  # rule_id, product_id
    heads: pa.Table  # rule_id, product_id, antecedent_size, confidence, lift, evidence


def empty_rule_tables() -> RuleTables:
    return RuleTables(
        pa.table({"rule_id": pa.array([], pa.int64()), "product_id": pa.array([], pa.string())}),
        pa.table(
            {
                "rule_id": pa.array([], pa.int64()),
                "product_id": pa.array([], pa.string()),
                "antecedent_size": pa.array([], pa.int64()),
                "confidence": pa.array([], pa.float64()),
                "lift": pa.array([], pa.float64()),
                "evidence": pa.array([], pa.string()),
            }
        ),
    )


def rule_tables(rules: pa.Table, itemsets: Itemsets) -> RuleTables:
    """From mined rules with item ids (:func:`basket.mine_rules`) to long tables of product ids.

    Mine them with ``min_lift=1``: a rule whose consequent is no likelier after the
    antecedent than anyway says nothing about this customer.
    """
    if rules.num_rows == 0:
        return empty_rule_tables()
    lookup = np.empty(itemsets.items.num_rows + 1, dtype=object)
    lookup[np.asarray(itemsets.items["item_id"], dtype=np.int64)] = [str(v) for v in itemsets.items["item"].to_pylist()]
    ante_cols = sorted((c for c in rules.column_names if c[0] == "a" and c[1:].isdigit()), key=lambda c: int(c[1:]))
    ante = np.column_stack([rules[c].to_numpy(zero_copy_only=False) for c in ante_cols])
    rule_ids, products, evidence, sizes = [], [], [], []
    for rid, row in enumerate(ante, start=1):
        names = sorted(str(lookup[int(i)]) for i in row if not np.isnan(i))
        rule_ids += [rid] * len(names)
        products += names
        evidence.append(json.dumps(names, ensure_ascii=False))
        sizes.append(len(names))
    heads = pa.table(
        {
            "rule_id": pa.array(range(1, rules.num_rows + 1), pa.int64()),
            "product_id": pa.array([str(lookup[int(i)]) for i in rules["c1"].to_pylist()], pa.string()),
            "antecedent_size": pa.array(sizes, pa.int64()),
            "confidence": rules["confidence"].cast(pa.float64()),
            "lift": rules["lift"].cast(pa.float64()),
            "evidence": pa.array(evidence, pa.string()),
        }
    )
    return RuleTables(pa.table({"rule_id": pa.array(rule_ids, pa.int64()), "product_id": products}), heads)


def rule_candidates(history: ibis.Table, items: ibis.Table, heads: ibis.Table) -> ibis.Table:
    """Consequents of rules whose whole antecedent the customer has bought; best rule per product.

    ``items`` and ``heads`` are the two tables of :class:`RuleTables` as engine tables.
    """
    held = history.select("customer_id", "product_id").join(items, "product_id")
    fired = held.group_by(["customer_id", "rule_id"]).aggregate(matched=held.product_id.count())
    fired = fired.join(heads, "rule_id")
    fired = fired.filter(fired.matched == fired.antecedent_size)
    best = ibis.row_number().over(
        group_by=[fired.customer_id, fired.product_id],
        order_by=[ibis.desc(fired.confidence), ibis.desc(fired.lift), fired.rule_id],
    )
    ranked = fired.mutate(_best=best)
    top = ranked.filter(ranked._best == 0)
    return top.select(
        "customer_id",
        "product_id",
        rule_score=top.confidence,
        rule_confidence=top.confidence,
        rule_lift=top.lift,
        rule_evidence=top.evidence,
    )


# -- co-occurrence --------------------------------------------------------------------------


def similar_products(history: ibis.Table, params: NextBestParams) -> ibis.Table:
    """Each product's nearest neighbours by cosine similarity over customers."""
    recency = ibis.row_number().over(
        group_by=history.customer_id, order_by=[ibis.desc(history.last_date), history.product_id]
    )
    recent = history.mutate(_r=recency)
    recent = recent.filter(recent._r < params.history_cap).select("customer_id", "product_id")
    buyers = recent.group_by("product_id").aggregate(n=recent.customer_id.count())
    a = recent.rename(p1="product_id")
    b = recent.rename(p2="product_id")
    pairs = a.join(b, ["customer_id", a.p1 != b.p2])
    co = pairs.group_by(["p1", "p2"]).aggregate(both=pairs.customer_id.count())
    co = co.filter(co.both >= params.min_co_buyers)
    n1 = buyers.rename(p1="product_id", n1="n")
    n2 = buyers.rename(p2="product_id", n2="n")
    sims = co.join(n1, "p1").join(n2, "p2")
    sims = sims.mutate(sim=sims.both.cast("float64") / (sims.n1.cast("float64") * sims.n2.cast("float64")).sqrt())
    nearest = ibis.row_number().over(group_by=sims.p1, order_by=[ibis.desc(sims.sim), sims.p2])
    ranked = sims.mutate(_n=nearest)
    return ranked.filter(ranked._n < params.neighbours).select("p1", "p2", "sim")


def cooccurrence_candidates(history: ibis.Table, sims: ibis.Table) -> ibis.Table:
    """Sum of similarities to the customer's products, scaled so the customer's best is 1."""
    h = history.select("customer_id", p1=history.product_id)
    j = h.join(sims, "p1")
    agg = j.group_by(["customer_id", j.p2.name("product_id")]).aggregate(raw=j.sim.sum(), because=j.p1.argmax(j.sim))
    scaled = agg.raw / agg.raw.max().over(group_by=agg.customer_id)
    quoted = agg.because.replace("\\", "\\\\").replace('"', '\\"')
    return agg.select(
        "customer_id",
        "product_id",
        cooc_score=scaled,
        cooc_evidence=ibis.literal('["') + quoted + ibis.literal('"]'),
    )


# -- the blend ------------------------------------------------------------------------------


def recommend(
    history: ibis.Table,
    excluded: ibis.Table,
    rules: ibis.Table | None,
    cooccurrence: ibis.Table | None,
    popular: ibis.Table,
    k: int,
    method: Method = "blend",
    weights: tuple[float, float, float] = (0.5, 1.0, 0.2),
) -> ibis.Table:
    """Top ``k`` products per customer in ``history``: rank, score, reason and evidence.

    ``weights`` multiply the rule confidence, the scaled co-occurrence score and the scaled
    popularity in the blended score.
    """
    if method not in ("blend", "rules"):
        rules = None
    if method not in ("blend", "cooccurrence"):
        cooccurrence = None
    keys = ["customer_id", "product_id"]
    customers = history.select("customer_id").distinct()
    top_popular = popular.order_by([ibis.desc(popular.popularity), popular.product_id]).limit(k + 50)
    parts = [customers.cross_join(top_popular.select("product_id")).select(*keys)]
    parts += [t.select(*keys) for t in (rules, cooccurrence) if t is not None]
    c = ibis.union(*parts, distinct=True).anti_join(excluded, keys)
    c = c.left_join(popular.select("product_id", "popularity"), "product_id").select(*keys, "popularity")
    j = c
    for extra in (rules, cooccurrence):
        if extra is not None:
            j = j.left_join(extra, keys).select(j, *[extra[n] for n in extra.columns if n not in keys])

    def col(name: str, dtype: str) -> ibis.Value:
        return j[name] if name in j.columns else ibis.null(dtype)

    w_rule, w_cooc, w_pop = weights
    rule_score = col("rule_score", "float64").fill_null(0.0)
    cooc_score = col("cooc_score", "float64").fill_null(0.0)
    fired = rule_score > 0
    scored = j.select(
        *keys,
        # Rounded so that float summation order (parallel aggregation) cannot reorder near-ties.
        score=(w_rule * rule_score + w_cooc * cooc_score + w_pop * j.popularity.fill_null(0.0)).round(9),
        reason=ibis.cases((fired, "rule"), (cooc_score > 0, "co-occurrence"), else_="popular"),
        evidence=ibis.cases(
            (fired, col("rule_evidence", "string")),
            (cooc_score > 0, col("cooc_evidence", "string")),
            else_=ibis.null("string"),
        ),
        confidence=ibis.ifelse(fired, col("rule_confidence", "float64"), ibis.null("float64")),
        lift=ibis.ifelse(fired, col("rule_lift", "float64"), ibis.null("float64")),
    )
    order = ibis.row_number().over(group_by=scored.customer_id, order_by=[ibis.desc(scored.score), scored.product_id])
    ranked = scored.mutate(rank=(order + 1).cast("int64"))
    return ranked.filter(ranked["rank"] <= k).select(
        "customer_id", "rank", "product_id", "score", "reason", "evidence", "confidence", "lift"
    )


# -- running it -----------------------------------------------------------------------------


@dataclass
class Recommender:
    """The expressions of one run, for the service to materialise or the evaluation to score."""

    recommendations: ibis.Table
    rules: RuleTables
    orders: int


Put = Callable[[pa.Table], ibis.Table]
"""Exposes a small Arrow table to the engine (default: an Ibis memtable)."""


def build(
    sales: ibis.Table,
    as_of: dt.date,
    params: NextBestParams,
    run: Runner,
    stage: Stager | None = None,
    put: Put = ibis.memtable,
) -> Recommender:
    """Mine product rules from the orders in ``sales`` up to ``as_of`` and build the recommendations.

    Rules come from every order, anonymous ones included (what sells together does not
    depend on who bought it); histories, cycles and popularity from identified customers.
    Executes the rule mining (level by level); the recommendations stay an expression.
    """
    orders_lines = purchase_lines(sales, as_of, identified=False)
    lines = purchase_lines(sales, as_of)
    orders = int(run(orders_lines.order_id.nunique().as_table()).column(0)[0].as_py() or 0)
    tables = empty_rule_tables()
    if orders and params.method in ("blend", "rules"):
        rp = params.rule_params(orders)
        itemsets = mine_itemsets(basket_items(orders_lines, "order_id", "product_id"), rp, run, stage, orders=orders)
        mined = mine_rules(itemsets, rp, run, min_lift=1.0, per_consequent=params.rules_per_product)
        tables = rule_tables(mined, itemsets)
    history = purchase_history(lines)
    if stage is not None:
        history = stage(history)
    excluded = blocked(history, repurchase_cycles(lines), as_of)
    rule_cands = rule_candidates(history, put(tables.items), put(tables.heads)) if tables.heads.num_rows else None
    cooc = None
    if params.method in ("blend", "cooccurrence"):
        cooc = cooccurrence_candidates(history, similar_products(history, params))
    recs = recommend(
        history,
        excluded,
        rule_cands,
        cooc,
        popularity(lines, as_of, params.popular_days),
        params.k,
        params.method,
        (params.rule_weight, params.cooc_weight, params.popular_weight),
    )
    return Recommender(recs, tables, orders)


# -- evaluation -----------------------------------------------------------------------------


def hit_rate(recommendations: ibis.Table, actual: ibis.Table, k: int) -> ibis.Table:
    """Share of evaluated customers with at least one top-``k`` recommendation bought later.

    ``actual`` holds (customer_id, product_id) bought in the test window by the customers
    being evaluated; a customer with no recommendations counts as a miss.
    """
    top = recommendations.filter(recommendations["rank"] <= k)
    hits = top.semi_join(actual, ["customer_id", "product_id"]).select("customer_id").distinct()
    evaluated = actual.select("customer_id").distinct()
    scored = evaluated.left_join(hits.mutate(hit=ibis.literal(1)), "customer_id")
    return scored.aggregate(
        customers=scored.customer_id.count(), hits=scored.hit.fill_null(0).sum(), rate=scored.hit.fill_null(0).mean()
    )


def evaluate(
    sales: ibis.Table,
    cutoff: dt.date,
    horizon_days: int,
    ks: tuple[int, ...],
    run: Runner,
    stage: Stager | None = None,
    params: NextBestParams | None = None,
    methods: tuple[Method, ...] = METHODS,
    put: Put = ibis.memtable,
) -> dict[str, dict[int, float]]:
    """Hit rate@k per method: train on purchases up to ``cutoff``, test on the next ``horizon_days``.

    Customers evaluated: those who bought before the cutoff and again in the test window.
    The same exclusion rule (inside a repurchase cycle) applies to every method.
    """
    base = params or NextBestParams()
    train = purchase_lines(sales, cutoff)
    test_all = purchase_lines(sales, cutoff + dt.timedelta(days=horizon_days))
    test = test_all.filter(test_all.order_date > cutoff)
    known = train.select("customer_id").distinct()
    actual = test.semi_join(known, "customer_id").select("customer_id", "product_id").distinct()
    out: dict[str, dict[int, float]] = {}
    for method in methods:
        p = NextBestParams(**{**base.__dict__, "method": method, "k": max(ks)})
        rec = build(sales, cutoff, p, run, stage, put)
        out[method] = {}
        for k in ks:
            row = run(hit_rate(rec.recommendations, actual, k)).to_pylist()[0]
            out[method][k] = float(row["rate"] or 0.0)
    return out
