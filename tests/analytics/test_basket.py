"""Association rules: the arules Groceries result, a brute-force oracle, and the API's edges."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from pathlib import Path

import ibis
import pandas as pd
import pytest

from salescope.analytics import basket
from salescope.analytics.basket import association_rules
from salescope.errors import InputError


def _groceries(shared_data: Path) -> list[set[str]]:
    """One basket per line; the data README says two items carry a stray trailing space."""
    lines = (shared_data / "groceries.csv").read_text(encoding="utf-8").splitlines()
    return [{item.strip() for item in line.split(",")} for line in lines]


def _long(baskets: list[set[str]]) -> pd.DataFrame:
    rows = [(i, item) for i, b in enumerate(baskets) for item in sorted(b)]
    return pd.DataFrame(rows, columns=["order_id", "item"])


def _brute_force(baskets: list[set[str]], min_support: float, min_confidence: float, max_consequent: int = 1) -> dict:
    """Every itemset counted by scanning every basket: the slow, obviously right oracle."""
    n = len(baskets)
    min_count = math.ceil(min_support * n - 1e-9)
    items = sorted({i for b in baskets for i in b})
    frequent: dict[frozenset[str], int] = {}
    size = 1
    current = [frozenset([i]) for i in items]
    while current:
        counts = {s: sum(1 for b in baskets if s <= b) for s in current}
        kept = {s: c for s, c in counts.items() if c >= min_count}
        frequent |= kept
        size += 1
        members = sorted({i for s in kept for i in s})
        current = [frozenset(c) for c in itertools.combinations(members, size)]
        current = [c for c in current if all(frozenset(sub) in kept for sub in itertools.combinations(c, size - 1))]
    rules = {}
    for itemset, n_xy in frequent.items():
        for m in range(1, min(max_consequent, len(itemset) - 1) + 1):
            for cons in itertools.combinations(sorted(itemset), m):
                ante = itemset - frozenset(cons)
                conf = n_xy / frequent[ante]
                if conf >= min_confidence - 1e-12:
                    lift = conf / (frequent[frozenset(cons)] / n)
                    rules[(ante, frozenset(cons))] = (n_xy, conf, lift)
    return rules


def _as_dict(rules: pd.DataFrame) -> dict:
    return {
        (frozenset(a), frozenset(c)): (int(n), conf, lift)
        for a, c, n, conf, lift in zip(
            rules["antecedent"], rules["consequent"], rules["count"], rules["confidence"], rules["lift"], strict=True
        )
    }


# Published arules output for apriori(Groceries, parameter = list(supp = 0.001, conf = 0.5)):
# "set of 5668 rules", rule length distribution (lhs + rhs) 2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46,
# and inspect(head(sort(rules, by = "lift"))) — as printed in arules tutorials built on the
# Groceries data ("Machine Learning with R" / arules vignette style notebooks, found with the
# code search: "rules_lift <- sort(rules_1, by='lift')"; values below are arules' printout).
ARULES_TOP_BY_LIFT = [
    ({"Instant food products", "soda"}, "hamburger meat", 0.001220132, 0.6315789, 18.99565, 12),
    ({"popcorn", "soda"}, "salty snack", 0.001220132, 0.6315789, 16.69779, 12),
    ({"baking powder", "flour"}, "sugar", 0.001016777, 0.5555556, 16.40807, 10),
    ({"ham", "processed cheese"}, "white bread", 0.001931876, 0.6333333, 15.04549, 19),
    ({"Instant food products", "whole milk"}, "hamburger meat", 0.001525165, 0.5000000, 15.03823, 15),
    (
        {"curd", "other vegetables", "whipped/sour cream", "yogurt"},
        "cream cheese",
        0.001016777,
        0.5882353,
        14.83409,
        10,
    ),
]


def test_groceries_reproduces_arules(shared_data: Path) -> None:
    baskets = _groceries(shared_data)
    assert len(baskets) == 9835  # the data README's basket count
    rules = association_rules(_long(baskets), min_support=0.001, min_confidence=0.5)

    assert len(rules) == 5668
    sizes = Counter(len(a) + len(c) for a, c in zip(rules["antecedent"], rules["consequent"], strict=True))
    assert dict(sizes) == {2: 11, 3: 1461, 4: 3211, 5: 939, 6: 46}
    assert set(rules["consequent"].map(len)) == {1}
    assert rules["count"].min() == 10  # support 0.001 of 9,835 baskets needs 10 (arules' summary: min count 10)

    for row, (ante, cons, support, confidence, lift, count) in zip(
        rules.head(6).itertuples(), ARULES_TOP_BY_LIFT, strict=True
    ):
        assert set(row.antecedent) == ante and row.consequent == (cons,)
        assert row.support == pytest.approx(support, abs=1e-9)
        assert row.confidence == pytest.approx(confidence, abs=1e-7)
        assert row.lift == pytest.approx(lift, abs=1e-5)
        assert row.count == count
        # Independently of both arules and the engine: count the rule's items in the raw file.
        n_xy = sum(1 for b in baskets if ante | {cons} <= b)
        n_x = sum(1 for b in baskets if ante <= b)
        n_y = sum(1 for b in baskets if cons in b)
        assert row.count == n_xy
        assert row.confidence == pytest.approx(n_xy / n_x)
        assert row.lift == pytest.approx((n_xy / n_x) / (n_y / len(baskets)))


def _random_baskets(seed: int, orders: int, items: int) -> list[set[str]]:
    """Baskets with popular items and two planted pairs, so that rules of several sizes exist."""
    rng = random.Random(seed)
    names = [f"p{i:02d}" for i in range(items)]
    weights = [1 / (i + 1) for i in range(items)]
    out = []
    for _ in range(orders):
        b = set(rng.choices(names, weights, k=rng.randint(1, 6)))
        if rng.random() < 0.2:
            b |= {"p07", "p09"}
        if rng.random() < 0.1:
            b |= {"p03", "p10", "p11"}
        out.append(b)
    return out


@pytest.mark.parametrize(
    ("seed", "min_support", "min_confidence", "max_consequent"), [(1, 0.03, 0.3, 1), (2, 0.05, 0.2, 2)]
)
def test_rules_match_brute_force(seed: int, min_support: float, min_confidence: float, max_consequent: int) -> None:
    baskets = _random_baskets(seed, 400, 14)
    expected = _brute_force(baskets, min_support, min_confidence, max_consequent)
    got = _as_dict(association_rules(_long(baskets), min_support, min_confidence, max_consequent_len=max_consequent))
    assert got.keys() == expected.keys()
    assert any(len(a) >= 2 for a, _ in expected)  # the case exercises the level-wise part, not only pairs
    for key, (n_xy, conf, lift) in expected.items():
        assert got[key][0] == n_xy
        assert got[key][1] == pytest.approx(conf)
        assert got[key][2] == pytest.approx(lift)


def test_measures_follow_their_definitions() -> None:
    # 10 baskets: {a,b} x4, {a} x1, {b} x1, {c} x4. a:5, b:5, ab:4.
    baskets = [{"a", "b"}] * 4 + [{"a"}, {"b"}] + [{"c"}] * 4
    rules = association_rules(_long(baskets), min_support=0.3, min_confidence=0.5)
    a_to_b = rules[rules["antecedent"] == ("a",)].iloc[0]
    assert a_to_b["consequent"] == ("b",)
    assert a_to_b["support"] == pytest.approx(0.4)
    assert a_to_b["confidence"] == pytest.approx(0.8)  # 4 / 5
    assert a_to_b["lift"] == pytest.approx(1.6)  # 0.8 / 0.5
    assert a_to_b["leverage"] == pytest.approx(0.4 - 0.5 * 0.5)
    assert a_to_b["conviction"] == pytest.approx((1 - 0.5) / (1 - 0.8))
    assert len(rules) == 2  # a -> b and b -> a; c has no partner

    certain = association_rules(_long([{"x", "y"}] * 3 + [{"y"}]), min_support=0.5, min_confidence=0.9)
    x_to_y = certain[certain["antecedent"] == ("x",)].iloc[0]
    assert x_to_y["confidence"] == 1.0 and math.isinf(x_to_y["conviction"])


def test_repeated_lines_count_once_and_blank_items_are_ignored() -> None:
    frame = pd.DataFrame(
        {
            "order_id": [1, 1, 1, 2, 2, 3, 3, 3],
            "item": ["a", "a", "b", "a", "b", "a", None, "c"],
        }
    )
    rules = association_rules(frame, min_support=0.5, min_confidence=0.1)
    got = _as_dict(rules)
    # a in 3 orders, b in 2, ab in 2 (order 1 lists a twice): a->b conf 2/3, b->a conf 1.
    assert got[(frozenset({"a"}), frozenset({"b"}))][:2] == (2, pytest.approx(2 / 3))
    assert got[(frozenset({"b"}), frozenset({"a"}))][:2] == (2, pytest.approx(1.0))
    assert len(got) == 2


def test_max_len_limits_itemsets_and_custom_columns() -> None:
    baskets = [{"a", "b", "c"}] * 5 + [{"a"}] * 5
    frame = _long(baskets).rename(columns={"order_id": "invoice", "item": "sku"})
    full = association_rules(frame, 0.2, 0.5, order_col="invoice", item_col="sku")
    pairs_only = association_rules(frame, 0.2, 0.5, max_len=2, order_col="invoice", item_col="sku")
    assert full["antecedent"].map(len).max() == 2
    assert pairs_only["antecedent"].map(len).max() == 1
    assert len(pairs_only) == 6  # every ordered pair of a, b, c: conf(a->b) = 5/10 is still >= 0.5


def test_nothing_frequent_gives_an_empty_frame_with_the_columns() -> None:
    rules = association_rules(_long([{"a"}, {"b"}, {"c"}]), min_support=0.5, min_confidence=0.5)
    assert rules.empty
    assert tuple(rules.columns) == basket.RULE_COLUMNS


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"min_support": 0.0, "min_confidence": 0.5}, "min_support"),
        ({"min_support": 0.1, "min_confidence": 1.5}, "min_confidence"),
        ({"min_support": 0.1, "min_confidence": 0.5, "max_len": 1}, "max_len"),
    ],
)
def test_bad_thresholds_are_input_errors(kwargs: dict, column: str) -> None:
    with pytest.raises(InputError, match=column):
        association_rules(_long([{"a", "b"}]), **kwargs)


def test_missing_column_names_it() -> None:
    with pytest.raises(InputError, match="'item'"):
        association_rules(pd.DataFrame({"order_id": [1], "product": ["a"]}), 0.1, 0.1)


def test_expressions_compile_for_spark() -> None:
    """Portability: the counting and rule expressions use nothing DuckDB-only.

    Ibis' ``databricks`` compiler is its Spark SQL compiler (the ``pyspark`` one needs a live
    session); an operation Spark lacks raises while compiling.
    """
    tx = ibis.table({"order_id": "string", "item_id": "int64"}, name="tx")
    level2 = ibis.table({"i1": "int64", "i2": "int64", "n": "int64"}, name="l2")
    level1 = ibis.table({"i1": "int64", "n": "int64"}, name="l1")
    cands = basket.candidates(level2, 3)
    exprs = [
        basket.pair_counts(basket.multi_item_baskets(tx, 2), 10),
        basket.candidate_counts(basket.candidate_baskets(tx, cands, 3), cands, 3, 10),
        basket.rules_from_levels({1: level1, 2: level2}, 1000, 0.5),
    ]
    for expr in exprs:
        assert "SELECT" in str(ibis.to_sql(expr, dialect="databricks"))
