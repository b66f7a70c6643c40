"""Next-best-product building blocks on small hand-computed histories."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import pyarrow as pa
import pytest

from salescope.analytics import recommend
from salescope.analytics.recommend import NextBestParams
from salescope.engine.warehouse import memory_backend
from salescope.errors import InputError

D = dt.date
AS_OF = D(2024, 3, 31)


def _rows(expr: ibis.Expr) -> list[dict[str, Any]]:
    return memory_backend().to_pyarrow(expr).to_pylist()


def _history(rows: list[tuple[str, str, dt.date]]) -> ibis.Table:
    c, p, d = zip(*rows, strict=True)
    return ibis.memtable(
        pa.table({"customer_id": list(c), "product_id": list(p), "last_date": pa.array(d, pa.date32())})
    )


def test_blocked_inside_the_repurchase_cycle_only() -> None:
    history = _history(
        [
            ("c1", "weekly", D(2024, 3, 26)),  # 5 days ago, cycle 10: blocked
            ("c2", "weekly", D(2024, 3, 19)),  # 12 days ago, cycle 10: due again
            ("c3", "weekly", D(2024, 3, 21)),  # exactly 10 days ago: due again (the cycle has run)
            ("c1", "once", D(2023, 1, 1)),  # nobody buys it twice: blocked however old
        ]
    )
    cycles = ibis.memtable(
        pa.table({"product_id": ["weekly", "once"], "cycle_days": pa.array([10.0, None], pa.float64())})
    )
    got = {(r["customer_id"], r["product_id"]) for r in _rows(recommend.blocked(history, cycles, AS_OF))}
    assert got == {("c1", "weekly"), ("c1", "once")}


def test_cycles_are_median_gaps_between_purchase_days() -> None:
    lines = ibis.memtable(
        pa.table(
            {
                "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
                "product_id": ["p"] * 6 + ["q"],
                "order_id": ["1", "2", "2", "3", "4", "5", "6"],
                "order_date": pa.array(
                    [
                        D(2024, 1, 1),
                        D(2024, 1, 11),
                        D(2024, 1, 11),
                        D(2024, 1, 31),
                        D(2024, 1, 1),
                        D(2024, 1, 4),
                        D(2024, 1, 1),
                    ],
                    pa.date32(),
                ),
            }
        )
    )
    got = {r["product_id"]: r["cycle_days"] for r in _rows(recommend.repurchase_cycles(lines))}
    # p: a's days 1, 11, 31 -> gaps 10, 20; b's 1, 4 -> 3. Median of (3, 10, 20) = 10. q: one day only.
    assert got["p"] == pytest.approx(10.0)
    assert got["q"] is None


def test_cosine_similarity_over_customers() -> None:
    history = _history(
        [
            ("c1", "A", D(2024, 1, 1)),
            ("c1", "B", D(2024, 1, 2)),
            ("c2", "A", D(2024, 1, 1)),
            ("c2", "B", D(2024, 1, 2)),
            ("c3", "A", D(2024, 1, 1)),
            ("c3", "C", D(2024, 1, 2)),
        ]
    )
    sims = {(r["p1"], r["p2"]): r["sim"] for r in _rows(recommend.similar_products(history, NextBestParams()))}
    # A has 3 buyers, B 2, both 2: 2 / sqrt(3 * 2). A-C has one co-buyer, under min_co_buyers = 2.
    assert sims == {("A", "B"): pytest.approx(2 / math.sqrt(6)), ("B", "A"): pytest.approx(2 / math.sqrt(6))}
    cands = {
        (r["customer_id"], r["product_id"]): r
        for r in _rows(recommend.cooccurrence_candidates(history, sims_table(sims)))
    }
    assert cands[("c3", "B")]["cooc_score"] == pytest.approx(1.0)
    assert cands[("c3", "B")]["cooc_evidence"] == '["A"]'


def sims_table(sims: dict[tuple[str, str], float]) -> ibis.Table:
    return ibis.memtable(
        pa.table({"p1": [k[0] for k in sims], "p2": [k[1] for k in sims], "sim": [float(v) for v in sims.values()]})
    )


def test_a_rule_fires_only_on_its_whole_antecedent() -> None:
    history = _history([("both", "A", AS_OF), ("both", "B", AS_OF), ("half", "A", AS_OF)])
    items = ibis.memtable(pa.table({"rule_id": [1, 1, 2], "product_id": ["A", "B", "A"]}))
    heads = ibis.memtable(
        pa.table(
            {
                "rule_id": [1, 2],
                "product_id": ["C", "C"],
                "antecedent_size": [2, 1],
                "confidence": [0.9, 0.4],
                "lift": [3.0, 1.5],
                "evidence": ['["A", "B"]', '["A"]'],
            }
        )
    )
    got = {r["customer_id"]: r for r in _rows(recommend.rule_candidates(history, items, heads))}
    # "both" fires rules 1 and 2 and keeps the more confident; "half" only rule 2.
    assert (got["both"]["rule_confidence"], got["both"]["rule_evidence"]) == (0.9, '["A", "B"]')
    assert (got["half"]["rule_confidence"], got["half"]["rule_evidence"]) == (0.4, '["A"]')


def _blend_inputs() -> tuple[ibis.Table, ibis.Table, ibis.Table, ibis.Table, ibis.Table]:
    history = _history([("c1", "A", AS_OF), ("c2", "B", AS_OF)])
    excluded = ibis.memtable(pa.table({"customer_id": ["c1"], "product_id": ["A"]}))
    rules = ibis.memtable(
        pa.table(
            {
                "customer_id": ["c1"],
                "product_id": ["R"],
                "rule_score": [0.8],
                "rule_confidence": [0.8],
                "rule_lift": [4.0],
                "rule_evidence": ['["A"]'],
            }
        )
    )
    cooc = ibis.memtable(
        pa.table(
            {
                "customer_id": ["c1", "c1"],
                "product_id": ["K", "R"],
                "cooc_score": [1.0, 0.5],
                "cooc_evidence": ['["A"]', '["A"]'],
            }
        )
    )
    popular = ibis.memtable(
        pa.table({"product_id": ["A", "P", "K"], "buyers": [9, 6, 3], "popularity": [1.0, 2 / 3, 1 / 3]})
    )
    return history, excluded, rules, cooc, popular


def test_blend_scores_reasons_and_exclusions() -> None:
    history, excluded, rules, cooc, popular = _blend_inputs()
    got = _rows(recommend.recommend(history, excluded, rules, cooc, popular, k=3).order_by(["customer_id", "rank"]))
    by = {(r["customer_id"], r["product_id"]): r for r in got}
    # Default weights 0.5 / 1 / 0.2. c1: R = 0.5*0.8 + 0.5 = 0.9 (rule), K = 1.0 + 0.2/3 (co-occurrence),
    # P = 0.2*2/3 (popular);
    # A is excluded (bought inside its cycle). c2: popular products only, A first.
    assert [(r["customer_id"], r["product_id"]) for r in got] == [
        ("c1", "K"),
        ("c1", "R"),
        ("c1", "P"),
        ("c2", "A"),
        ("c2", "P"),
        ("c2", "K"),
    ]
    assert by[("c1", "R")]["score"] == pytest.approx(0.9)
    assert by[("c1", "K")]["score"] == pytest.approx(1.0 + 0.2 / 3)
    assert by[("c1", "P")]["score"] == pytest.approx(0.2 * 2 / 3)
    assert (by[("c1", "R")]["reason"], by[("c1", "R")]["confidence"], by[("c1", "R")]["lift"]) == ("rule", 0.8, 4.0)
    assert (by[("c1", "K")]["reason"], by[("c1", "K")]["confidence"]) == ("co-occurrence", None)
    assert (by[("c1", "P")]["reason"], by[("c1", "P")]["evidence"]) == ("popular", None)


def test_single_source_methods() -> None:
    history, excluded, rules, cooc, popular = _blend_inputs()
    only_popular = _rows(recommend.recommend(history, excluded, rules, cooc, popular, k=2, method="popular"))
    assert {r["reason"] for r in only_popular} == {"popular"}
    only_rules = _rows(recommend.recommend(history, excluded, rules, cooc, popular, k=1, method="rules"))
    assert [(r["customer_id"], r["product_id"], r["reason"]) for r in only_rules] == [
        ("c1", "R", "rule"),
        ("c2", "A", "popular"),
    ]


def test_hit_rate_counts_customers_with_any_hit() -> None:
    recs = ibis.memtable(
        pa.table(
            {
                "customer_id": ["c1", "c1", "c2", "c2"],
                "rank": [1, 2, 1, 2],
                "product_id": ["A", "B", "C", "D"],
            }
        )
    )
    # c1 bought B (rank 2), c2 bought E (miss), c3 has no recommendations (miss).
    actual = ibis.memtable(pa.table({"customer_id": ["c1", "c2", "c3"], "product_id": ["B", "E", "A"]}))
    at2 = _rows(recommend.hit_rate(recs, actual, 2))[0]
    at1 = _rows(recommend.hit_rate(recs, actual, 1))[0]
    assert (at2["customers"], at2["hits"], at2["rate"]) == (3, 1, pytest.approx(1 / 3))
    assert at1["hits"] == 0


def test_params_are_checked() -> None:
    with pytest.raises(InputError, match="'k'"):
        NextBestParams(k=0)
    with pytest.raises(InputError, match="method"):
        NextBestParams(method="als")  # type: ignore[arg-type]
    # The rule support is never below min_rule_orders orders.
    assert NextBestParams().rule_params(1000).min_count(1000) == 5


def test_expressions_compile_for_spark() -> None:
    """Ibis' ``databricks`` compiler is its Spark SQL one; an operation Spark lacks raises here."""
    sales = ibis.table(
        {
            "customer_id": "string",
            "product_id": "string",
            "order_id": "string",
            "order_date": "date",
            "amount": "decimal(18, 4)",
        },
        name="sales",
    )
    lines = recommend.purchase_lines(sales, AS_OF)
    history = recommend.purchase_history(lines)
    sims = recommend.similar_products(history, NextBestParams())
    exprs = [
        recommend.blocked(history, recommend.repurchase_cycles(lines), AS_OF),
        recommend.recommend(
            history,
            recommend.blocked(history, recommend.repurchase_cycles(lines), AS_OF),
            None,
            recommend.cooccurrence_candidates(history, sims),
            recommend.popularity(lines, AS_OF, 90),
            k=10,
        ),
    ]
    for expr in exprs:
        assert "SELECT" in str(ibis.to_sql(expr, dialect="databricks"))
