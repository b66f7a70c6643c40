"""ABC / XYZ boundaries on hand-computed cases; the nine-cell matrix; the Pareto curve."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from salescope.analytics.abc import (
    STOCK_ADVICE,
    abc_classify,
    matrix_cell,
    pareto_curve,
    period_count,
    stock_advice,
    xyz_classify,
)
from salescope.engine.warehouse import memory_backend
from salescope.errors import InputError

D = dt.date


def _rows(expr: ibis.Expr) -> list[dict[str, Any]]:
    return memory_backend().to_pyarrow(expr).to_pylist()


def _abc(values: dict[str, Any], thresholds: tuple[float, float] = (0.8, 0.95)) -> dict[str, dict[str, Any]]:
    t = ibis.memtable(pa.table({"p": list(values), "v": list(values.values())}))
    return {r["p"]: r for r in _rows(abc_classify(t, "p", "v", thresholds))}


def test_abc_item_ending_exactly_at_80_percent_is_a_and_the_next_is_b() -> None:
    # Total 100. Cumulative share before each item: a 0, b .50, c .80, d .90, e .95.
    # Rule: A while the share before the item is < .80, B while < .95, else C.
    got = _abc({"a": 50, "b": 30, "c": 10, "d": 5, "e": 5})
    assert {k: r["abc_class"] for k, r in got.items()} == {"a": "A", "b": "A", "c": "B", "d": "B", "e": "C"}
    assert [got[k]["cum_share"] for k in "abcde"] == pytest.approx([0.5, 0.8, 0.9, 0.95, 1.0])
    assert [got[k]["share"] for k in "abcde"] == pytest.approx([0.5, 0.3, 0.1, 0.05, 0.05])
    assert [got[k]["rank"] for k in "abcde"] == [1, 2, 3, 4, 5]
    assert [got[k]["item_cum_share"] for k in "abcde"] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])


def test_abc_item_crossing_80_percent_is_a() -> None:
    # before: a 0, b .70 (< .80, so A although it ends at .85), c .85 (B), d .96 (C).
    got = _abc({"a": 70, "b": 15, "c": 11, "d": 4})
    assert {k: r["abc_class"] for k, r in got.items()} == {"a": "A", "b": "A", "c": "B", "d": "C"}


def test_abc_boundary_does_not_depend_on_float_rounding() -> None:
    # Total 0.300; sorted 0.141, 0.099, 0.042, 0.018; the share before 0.042 is 0.240 / 0.300 = 0.8
    # exactly in decimals, but a hair below 0.8 in binary floats. It must be B, as is 0.018
    # (before 0.282 / 0.300 = 0.94).
    got = _abc({"p1": Decimal("0.099"), "p2": Decimal("0.141"), "p3": Decimal("0.018"), "p4": Decimal("0.042")})
    assert {k: r["abc_class"] for k, r in got.items()} == {"p2": "A", "p1": "A", "p4": "B", "p3": "B"}


def test_abc_thresholds_are_configurable() -> None:
    got = _abc({"a": 50, "b": 30, "c": 10, "d": 5, "e": 5}, thresholds=(0.5, 0.9))
    # before: a 0 (A), b .5 (not < .5: B), c .8 (B), d .9 (not < .9: C), e .95 (C)
    assert [got[k]["abc_class"] for k in "abcde"] == ["A", "B", "B", "C", "C"]


def test_abc_non_positive_values_are_c_and_do_not_count() -> None:
    got = _abc({"a": 60, "b": 40, "loss": -10, "none": 0})
    assert {k: r["abc_class"] for k, r in got.items()} == {"a": "A", "b": "A", "loss": "C", "none": "C"}
    assert got["b"]["cum_share"] == pytest.approx(1.0)  # the total is 100, not 90
    assert got["loss"]["share"] == 0.0


def test_abc_sums_rows_and_breaks_ties_by_key() -> None:
    t = ibis.memtable(pa.table({"p": ["b", "a", "b", "c"], "v": [4, 10, 6, 1]}))
    got = {r["p"]: r for r in _rows(abc_classify(t, "p", "v"))}
    assert got["b"]["value"] == 10
    assert (got["a"]["rank"], got["b"]["rank"], got["c"]["rank"]) == (1, 2, 3)


@pytest.mark.parametrize("thresholds", [(0.95, 0.8), (0.0, 0.5), (0.8, 1.2)])
def test_abc_bad_thresholds(thresholds: tuple[float, float]) -> None:
    t = ibis.memtable(pa.table({"p": ["a"], "v": [1]}))
    with pytest.raises(InputError, match="thresholds"):
        abc_classify(t, "p", "v", thresholds)


def _demand() -> ibis.Table:
    rows = [
        # steady: 10 every month -> CV 0 (X)
        ("steady", D(2024, 1, 5), 10),
        ("steady", D(2024, 2, 5), 10),
        ("steady", D(2024, 3, 5), 10),
        ("steady", D(2024, 4, 5), 10),
        # 15, 5, 15, 5 -> mean 10, population std 5, CV exactly 0.5 (X: the bound is inclusive)
        ("half", D(2024, 1, 1), 15),
        ("half", D(2024, 2, 1), 5),
        ("half", D(2024, 3, 1), 10),
        ("half", D(2024, 3, 31), 5),
        ("half", D(2024, 4, 30), 5),
        # 10, 0, 10, 0 -> mean 5, std 5, CV exactly 1.0 (Y); the zero months have no rows at all
        ("alternate", D(2024, 1, 10), 10),
        ("alternate", D(2024, 3, 10), 10),
        # 20, 0, 0, 0 -> mean 5, std sqrt((15² + 3·5²)/4) = sqrt(75), CV sqrt(3) (Z)
        ("once", D(2024, 2, 1), 20),
        # sold and returned: no net demand -> CV undefined (Z)
        ("returned", D(2024, 2, 1), 3),
        ("returned", D(2024, 2, 9), -3),
        # outside the window: ignored
        ("steady", D(2023, 12, 31), 1000),
        ("steady", D(2024, 5, 1), 1000),
    ]
    p, d, q = zip(*rows, strict=True)
    return ibis.memtable(pa.table({"p": list(p), "d": pa.array(d, pa.date32()), "q": list(q)}))


def test_xyz_counts_zero_periods_and_pins_the_bounds() -> None:
    got = {r["p"]: r for r in _rows(xyz_classify(_demand(), "p", "d", "q", D(2024, 1, 1), D(2024, 4, 30)))}
    assert {k: r["xyz_class"] for k, r in got.items()} == {
        "steady": "X",
        "half": "X",
        "alternate": "Y",
        "once": "Z",
        "returned": "Z",
    }
    assert got["half"]["demand_cv"] == pytest.approx(0.5)
    assert got["alternate"]["demand_cv"] == pytest.approx(1.0)
    assert got["once"]["demand_cv"] == pytest.approx(math.sqrt(3))
    assert got["returned"]["demand_cv"] is None
    assert got["steady"]["demand_mean"] == pytest.approx(10.0)
    assert got["alternate"]["active_periods"] == 2
    assert all(r["periods"] == 4 for r in got.values())


def test_xyz_thresholds_are_configurable() -> None:
    expr = xyz_classify(_demand(), "p", "d", "q", D(2024, 1, 1), D(2024, 4, 30), thresholds=(0.25, 0.75))
    got = {r["p"]: r["xyz_class"] for r in _rows(expr)}
    assert (got["steady"], got["half"], got["alternate"]) == ("X", "Y", "Z")


def test_xyz_weeks_start_on_monday() -> None:
    # Mon 1 Jan and Sun 7 Jan are one week; Mon 8 Jan starts the next; Wed 3 .. Mon 15 spans 3 weeks.
    t = ibis.memtable(
        pa.table(
            {
                "p": ["w"] * 3,
                "d": pa.array([D(2024, 1, 1), D(2024, 1, 7), D(2024, 1, 8)], pa.date32()),
                "q": [4, 4, 8],
            }
        )
    )
    got = _rows(xyz_classify(t, "p", "d", "q", D(2024, 1, 1), D(2024, 1, 14), period="week"))[0]
    assert got["periods"] == 2 and got["demand_cv"] == pytest.approx(0.0)  # 8 and 8
    assert period_count(D(2024, 1, 3), D(2024, 1, 15), "week") == 3
    assert period_count(D(2024, 1, 31), D(2024, 3, 1), "month") == 3
    with pytest.raises(InputError):
        period_count(D(2024, 2, 1), D(2024, 1, 1), "month")


def test_matrix_has_nine_cells_with_advice_in_both_languages() -> None:
    assert sorted(STOCK_ADVICE) == [a + x for a in "ABC" for x in "XYZ"]
    assert all(zh and en and zh != en for zh, en in STOCK_ADVICE.values())
    t = ibis.memtable(pa.table({"abc": ["A", "C"], "xyz": pa.array(["Y", None], pa.string())}))
    cell = matrix_cell(t.abc, t.xyz)
    got = _rows(t.select(cell=cell, zh=stock_advice(cell, "zh"), en=stock_advice(cell, "en")))
    assert [r["cell"] for r in got] == ["AY", "CZ"]
    assert got[0]["zh"] == STOCK_ADVICE["AY"][0] and got[1]["en"] == STOCK_ADVICE["CZ"][1]


def test_pareto_curve_is_ordered_and_ends_at_one() -> None:
    t = ibis.memtable(pa.table({"p": list("abcd"), "v": [1, 7, 2, 10]}))
    got = _rows(pareto_curve(abc_classify(t, "p", "v")))
    assert [r["item_cum_share"] for r in got] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert [r["cum_share"] for r in got] == pytest.approx([0.5, 0.85, 0.95, 1.0])


def test_expressions_compile_for_spark() -> None:
    """Ibis' ``databricks`` compiler is its Spark SQL one; an operation Spark lacks raises here."""
    t = ibis.table({"p": "string", "d": "date", "q": "decimal(18, 4)"}, name="sales")
    classified = abc_classify(t, "p", "q")
    demand = xyz_classify(t, "p", "d", "q", D(2024, 1, 1), D(2024, 12, 31))
    j = classified.join(demand, "p")
    cell = matrix_cell(j.abc_class, j.xyz_class)
    for expr in (classified, demand, j.select(cell=cell, advice=stock_advice(cell, "zh"))):
        assert "SELECT" in str(ibis.to_sql(expr, dialect="databricks"))
