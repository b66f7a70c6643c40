"""Product analyze steps on a hand-computed workspace, and on Online Retail against raw-file counts."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from salescope.errors import NotFoundError
from salescope.services import products
from salescope.services.access import ALL_ROWS, RowScope
from salescope.services.workspace import Workspace

D = dt.date
AS_OF = D(2024, 6, 30)


def _load(ws: Workspace, lines: list[dict[str, Any]], products_rows: list[dict[str, Any]] | None = None) -> None:
    n = len(lines)
    sales = pa.table(
        {
            "order_id": [r["order_id"] for r in lines],
            "line_no": list(range(1, n + 1)),
            "order_date": pa.array([r["order_date"] for r in lines], pa.date32()),
            "customer_id": pa.array([r["customer_id"] for r in lines], pa.string()),
            "product_id": [r["product_id"] for r in lines],
            "quantity": pa.array([float(r["quantity"]) for r in lines], pa.float64()),
            "amount": pa.array([float(r["amount"]) for r in lines], pa.float64()),
            "batch_id": ["b1"] * n,
            "source_row": list(range(1, n + 1)),
        }
    )
    ws.warehouse.insert_arrow("sales", sales)
    if products_rows:
        ws.warehouse.insert_arrow("products", pa.Table.from_pylist(products_rows))


def _line(order: str, day: dt.date, customer: str | None, product: str, qty: float, amount: float) -> dict[str, Any]:
    return {
        "order_id": order,
        "order_date": day,
        "customer_id": customer,
        "product_id": product,
        "quantity": qty,
        "amount": amount,
    }


def _hand_case() -> list[dict[str, Any]]:
    """21 orders, first half of 2024 (a leap year).

    O1..O12: P1 (10) + P3 (5) + an UNKNOWN line (1), on the 5th and 20th of Jan..Jun;
    customer C1 for Jan-Mar, C2 for Apr-Jun. O13..O16: C3 buys P1 on the 10th of Jan..Apr.
    O17..O20: anonymous buyers of P5 (50) on the 15th of Jan..Apr. O21: C1 on 25 Jun buys
    P1 and returns one P3.
    """
    lines = []
    for i in range(1, 13):
        day = D(2024, 1 + (i - 1) // 2, 5 if i % 2 else 20)
        customer = "C1" if i <= 6 else "C2"
        lines += [
            _line(f"O{i}", day, customer, "P1", 1, 10),
            _line(f"O{i}", day, customer, "P3", 1, 5),
            _line(f"O{i}", day, customer, "UNKNOWN", 1, 1),
        ]
    for i, month in zip(range(13, 17), range(1, 5), strict=True):
        lines.append(_line(f"O{i}", D(2024, month, 10), "C3", "P1", 1, 10))
    for i, month in zip(range(17, 21), range(1, 5), strict=True):
        lines.append(_line(f"O{i}", D(2024, month, 15), None, "P5", 1, 50))
    lines += [_line("O21", D(2024, 6, 25), "C1", "P1", 1, 10), _line("O21", D(2024, 6, 25), "C1", "P3", -1, -5)]
    return lines


HAND_PRODUCTS = [
    {"product_id": "P1", "name": "龙井茶", "category": "Tea"},
    {"product_id": "P2", "name": "普洱茶", "category": "Tea"},
    {"product_id": "P3", "name": "茶杯", "category": "Cups"},
    {"product_id": "P5", "name": "瓜子", "category": "Snacks"},
]


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Analysed once for the module; the tests only read it."""
    ws = Workspace(tmp_path_factory.mktemp("hand") / "ws")
    _load(ws, _hand_case(), HAND_PRODUCTS)
    for _, step in products.PRODUCT_STEPS:
        step(ws, AS_OF)
    yield ws
    ws.close()


def test_rules_step_counts_purchases_only(hand: Workspace) -> None:
    rows = hand.warehouse.df("SELECT * FROM rules ORDER BY level, rule_id").to_dict("records")
    # 21 orders have a purchase line (O21's return does not make P3 part of it). Supports:
    # P1 17 orders, P3 12, both 12; the UNKNOWN lines must not appear in any rule.
    # Count 10 is required (10 orders / 21). P3 -> P1: conf 12/12, lift 1 / (17/21);
    # P1 -> P3: conf 12/17, lift (12/17) / (12/21) = 21/17. Equal lifts: higher confidence first.
    product = [r for r in rows if r["level"] == "product"]
    assert [(json.loads(r["antecedent"]), json.loads(r["consequent"])) for r in product] == [
        (["P3"], ["P1"]),
        (["P1"], ["P3"]),
    ]
    first, second = product
    assert first["confidence"] == pytest.approx(1.0) and first["lift"] == pytest.approx(21 / 17)
    assert math.isnan(first["conviction"])  # NULL: infinite conviction at confidence 1
    assert second["confidence"] == pytest.approx(12 / 17) and second["lift"] == pytest.approx(21 / 17)
    assert second["conviction"] == pytest.approx((1 - 12 / 21) / (1 - 12 / 17))
    assert (second["support_count"], second["antecedent_count"], second["consequent_count"]) == (12, 17, 12)
    assert second["orders"] == 21 and second["support"] == pytest.approx(12 / 21)
    assert {r["as_of"] for r in rows} == {AS_OF}
    # The same baskets by category (P1 is Tea, P3 is Cups); P5's Snacks never reach 10 orders.
    category = [r for r in rows if r["level"] == "category"]
    assert [(json.loads(r["antecedent"]), json.loads(r["consequent"])) for r in category] == [
        (["Cups"], ["Tea"]),
        (["Tea"], ["Cups"]),
    ]


def test_abc_step_on_the_hand_case(hand: Workspace) -> None:
    got = {r["product_id"]: r for r in hand.warehouse.df("SELECT * FROM product_abc").to_dict("records")}
    # Revenue: P5 4x50 = 200 (anonymous sales count for products), P1 17x10 = 170, P3 12x5 - 5 = 55;
    # UNKNOWN is left out. Shares before: P5 0, P1 200/425 (A), P3 370/425 = 0.87 (B).
    assert set(got) == {"P1", "P3", "P5"}
    assert {p: (float(r["revenue"]), r["abc_class"]) for p, r in got.items()} == {
        "P5": (200.0, "A"),
        "P1": (170.0, "A"),
        "P3": (55.0, "B"),
    }
    # XYZ by month Jan..Jun (the window touches six months; 30 June closes June):
    # P1 [3,3,3,3,2,3], P3 [2,2,2,2,2,1] (June's return), P5 [1,1,1,1,0,0].
    for product, monthly, cls in (
        ("P1", [3, 3, 3, 3, 2, 3], "X"),
        ("P3", [2, 2, 2, 2, 2, 1], "X"),
        ("P5", [1, 1, 1, 1, 0, 0], "Y"),
    ):
        cv = statistics.pstdev(monthly) / statistics.fmean(monthly)
        assert got[product]["periods"] == 6
        assert got[product]["demand_cv"] == pytest.approx(cv)
        assert got[product]["xyz_class"] == cls
    assert {p: r["cell"] for p, r in got.items()} == {"P5": "AY", "P1": "AX", "P3": "BX"}
    assert got["P5"]["advice_en"].startswith("High value, variable demand")

    customers = {r["customer_id"]: r for r in hand.warehouse.df("SELECT * FROM customer_abc").to_dict("records")}
    # C1 6x16 + (10 - 5) = 101, C2 6x16 = 96, C3 4x10 = 40; anonymous buyers are not customers.
    # Before: C1 0 (A), C2 101/237 (A), C3 197/237 = 0.83 (B).
    assert {c: (float(r["revenue"]), r["abc_class"], r["orders"]) for c, r in customers.items()} == {
        "C1": (101.0, "A", 7),
        "C2": (96.0, "A", 6),
        "C3": (40.0, "B", 4),
    }


def test_abc_without_a_product_master(workspace: Workspace) -> None:
    """Sales only, no products file yet: the same classes as above.

    Guards a DuckDB 2.0 wrong result: after a LEFT JOIN to an empty table, a filter and an
    aggregate, ``value > 0`` came out false for every row and every product was C.
    """
    _load(workspace, _hand_case())
    products.abc_step(workspace, AS_OF)
    got = workspace.warehouse.df("SELECT product_id, abc_class, share FROM product_abc ORDER BY product_id")
    assert list(got["abc_class"]) == ["A", "B", "A"]  # P1, P3, P5
    assert got["share"].sum() == pytest.approx(1.0)


def test_next_best_step_respects_repurchase_cycles(hand: Workspace) -> None:
    rows = hand.warehouse.df("SELECT * FROM next_best ORDER BY customer_id, rank").to_dict("records")
    got = [(r["customer_id"], r["rank"], r["product_id"], r["reason"]) for r in rows]
    # Median repurchase gap of P1 and of P3 is 15 days (gaps listed in the module's docs).
    # C1 bought P1 5 days ago (inside its cycle: not offered) and P3 102 days ago (due again);
    # C2 bought both 10 days ago: nothing to offer; C3 never bought P3 and the rule P1 -> P3
    # fires; C3's P1 is 81 days old, due again, offered on popularity alone.
    assert got == [("C1", 1, "P3", "rule"), ("C3", 1, "P3", "rule"), ("C3", 2, "P1", "popular")]
    c3_p3 = rows[1]
    assert json.loads(c3_p3["evidence"]) == ["P1"]
    assert c3_p3["confidence"] == pytest.approx(12 / 17)
    assert c3_p3["lift"] == pytest.approx(21 / 17)
    # 0.5 x confidence + co-occurrence (C3's only candidate, so scaled to 1) + 0.2 x popularity:
    # P3 has 1 identified buyer since 1 April against P1's 3.
    assert c3_p3["score"] == pytest.approx(0.5 * 12 / 17 + 1.0 + 0.2 * (1 / 3))
    assert rows[2]["score"] == pytest.approx(0.2)


def test_read_services(hand: Workspace) -> None:
    page = products.list_rules(hand, level="product", limit=1)
    assert page["total"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["antecedent"] == ["P3"]
    assert products.list_rules(hand, level="category", item="Tea")["total"] == 2
    assert products.list_rules(hand, level="product", item="P5")["total"] == 0

    matrix = products.abc_matrix(hand, ALL_ROWS)
    cells = {c["cell"]: c for c in matrix["cells"]}
    assert len(cells) == 9 and cells["AY"]["items"] == 1 and cells["CZ"]["items"] == 0
    assert sum(c["items"] for c in cells.values()) == 3

    curve = products.pareto_points(hand)
    assert [p["item_share"] for p in curve] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert [p["value_share"] for p in curve] == pytest.approx([200 / 425, 370 / 425, 1.0])

    recs = products.next_best_for(hand, ALL_ROWS, "C3")
    assert [(r["product_id"], r["name"]) for r in recs] == [("P3", "茶杯"), ("P1", "龙井茶")]
    assert recs[0]["evidence"] == ["P1"]
    with pytest.raises(NotFoundError):
        products.next_best_for(hand, RowScope(all_rows=False, salesperson="nobody"), "C3")


def test_steps_on_an_empty_warehouse(workspace: Workspace) -> None:
    for _, step in products.PRODUCT_STEPS:
        step(workspace, AS_OF)
    for table in ("rules", "product_abc", "customer_abc", "next_best"):
        assert workspace.warehouse.scalar(f"SELECT count(*) FROM {table}") == 0


def test_analysis_window_choices() -> None:
    w = products.analysis_window(D(2023, 1, 1), D(2024, 6, 16))
    assert (w.start, w.period, w.xyz_start, w.xyz_end) == (D(2023, 6, 18), "month", D(2023, 6, 1), D(2024, 5, 31))
    short = products.analysis_window(D(2010, 12, 1), D(2010, 12, 23))
    # Weeks start Monday: 29 Nov .. 19 Dec are complete; Thursday 23 Dec's week is not.
    assert (short.period, short.xyz_start, short.xyz_end) == ("week", D(2010, 11, 29), D(2010, 12, 19))
    fresh = products.analysis_window(D(2024, 6, 12), D(2024, 6, 13))
    assert (fresh.xyz_start, fresh.xyz_end) == (D(2024, 6, 12), D(2024, 6, 13))


# -- Online Retail (December 2010) ----------------------------------------------------------------


def _retail_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            customer = row["CustomerID"].removesuffix(".0") or None
            qty = float(row["Quantity"])
            out.append(
                _line(
                    row["InvoiceNo"],
                    dt.datetime.strptime(row["InvoiceDate"], "%Y-%m-%d %H:%M:%S").date(),
                    customer,
                    row["StockCode"],
                    qty,
                    round(qty * float(row["UnitPrice"]), 4),
                )
            )
    return out


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, list[dict[str, Any]]]]:
    data = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "online_retail_2010-12.csv"
    if not data.exists():
        pytest.skip(f"the shared datasets are not beside the project ({data})")
    lines = _retail_lines(data)
    ws = Workspace(tmp_path_factory.mktemp("retail") / "ws")
    _load(ws, lines)
    for _, step in products.PRODUCT_STEPS:
        step(ws, D(2010, 12, 23))
    yield ws, lines
    ws.close()


@pytest.mark.slow
def test_retail_rules_match_raw_counts(retail: tuple[Workspace, list[dict[str, Any]]]) -> None:
    ws, lines = retail
    baskets: dict[str, set[str]] = defaultdict(set)
    for r in lines:
        if r["amount"] > 0:
            baskets[r["order_id"]].add(r["product_id"])
    rules = ws.warehouse.df("SELECT * FROM rules WHERE level = 'product' ORDER BY rule_id").to_dict("records")
    assert rules and all(r["lift"] > 1 for r in rules)
    assert [r["rule_id"] for r in rules] == list(range(1, len(rules) + 1))
    assert all(a["lift"] >= b["lift"] for a, b in itertools.pairwise(rules))
    assert rules[0]["orders"] == len(baskets)
    for r in rules[:5] + rules[-5:]:
        ante, cons = set(json.loads(r["antecedent"])), set(json.loads(r["consequent"]))
        assert r["support_count"] == sum(1 for b in baskets.values() if ante | cons <= b)
        assert r["antecedent_count"] == sum(1 for b in baskets.values() if ante <= b)


@pytest.mark.slow
def test_retail_abc_matches_raw_revenue(retail: tuple[Workspace, list[dict[str, Any]]]) -> None:
    ws, lines = retail
    revenue: dict[str, float] = defaultdict(float)
    for r in lines:
        if r["product_id"] != "UNKNOWN":
            revenue[r["product_id"]] += r["amount"]
    got = {r["product_id"]: r for r in ws.warehouse.df("SELECT * FROM product_abc").to_dict("records")}
    assert set(got) == set(revenue)
    # Classes recomputed from the raw file with the documented rule (share before the item).
    ordered = sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0]))
    total = sum(v for _, v in ordered if v > 0)
    before = 0.0
    for product, value in ordered:
        expected = (
            "C" if value <= 0 else "A" if before / total < 0.8 - 1e-9 else "B" if before / total < 0.95 - 1e-9 else "C"
        )
        assert got[product]["abc_class"] == expected, product
        before += max(value, 0.0)
    assert float(got[ordered[0][0]]["revenue"]) == pytest.approx(ordered[0][1])


@pytest.mark.slow
def test_retail_next_best_excludes_recent_purchases(retail: tuple[Workspace, list[dict[str, Any]]]) -> None:
    ws, lines = retail
    recs = ws.warehouse.df("SELECT * FROM next_best").to_dict("records")
    assert recs and {r["reason"] for r in recs} <= {"rule", "co-occurrence", "popular"}
    days: dict[tuple[str, str], set[dt.date]] = defaultdict(set)
    for r in lines:
        if r["customer_id"] and r["amount"] > 0 and r["product_id"] != "UNKNOWN":
            days[(r["customer_id"], r["product_id"])].add(r["order_date"])
    gaps: dict[str, list[int]] = defaultdict(list)
    for (_, product), ds in days.items():
        s = sorted(ds)
        gaps[product] += [(b - a).days for a, b in itertools.pairwise(s)]
    as_of = D(2010, 12, 23)
    for r in recs:
        bought = days.get((r["customer_id"], r["product_id"]))
        if bought:  # offered again only when its median repurchase gap has passed
            assert gaps[r["product_id"]], r
            assert (as_of - max(bought)).days >= statistics.median(gaps[r["product_id"]]), r
    per_customer: dict[str, list[int]] = defaultdict(list)
    for r in recs:
        per_customer[r["customer_id"]].append(r["rank"])
    assert all(sorted(v) == list(range(1, len(v) + 1)) and len(v) <= 10 for v in per_customer.values())


@pytest.mark.slow
def test_retail_blend_beats_popularity_on_a_time_split(retail: tuple[Workspace, list[dict[str, Any]]]) -> None:
    ws, _ = retail
    result = products.evaluate_next_best(ws, cutoff=D(2010, 12, 12), horizon_days=11, ks=(10,))
    rates = {m: r[10] for m, r in result["hit_rate"].items()}
    # Measured when the blend was tuned: blend 0.61, co-occurrence 0.59, rules 0.48, popularity 0.41
    # over the customers who bought in both halves. The claim tested: the blend beats the baseline.
    assert rates["blend"] > rates["popular"] + 0.1
    assert all(0.0 <= v <= 1.0 for v in rates.values())
