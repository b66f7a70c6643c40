"""The sales aggregates stay equal to a full rebuild, however ``sales`` changes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "analytics"))
from sales_rows import d, load  # the analytics tests' row builder

from salescope.engine import aggregates
from salescope.engine.warehouse import Warehouse

FIRST = [
    ("a", "O1", d("2024-01-10"), "100"),
    ("a", "O2", d("2024-02-10"), "50"),
    ("b", "O3", d("2024-01-05"), "70"),
    (None, "O4", d("2024-01-06"), "9"),
]
SECOND = [
    ("a", "O1", d("2024-01-08"), "-20"),  # a later file adds an (earlier-dated) return line to O1
    ("c", "O5", d("2024-03-01"), "30"),
    ("b", "O6", d("2024-03-02"), "40"),
]


@pytest.fixture
def wh(tmp_path: Path) -> Any:
    with Warehouse(tmp_path / "w.duckdb") as w:
        yield w


def _facts(wh: Warehouse) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    orders = wh.rows("SELECT * FROM order_facts ORDER BY customer_id NULLS FIRST, order_id")
    customers = wh.rows("SELECT * FROM customer_facts ORDER BY customer_id")
    return orders, customers


def _rebuilt(wh: Warehouse) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    aggregates.rebuild(wh)
    return _facts(wh)


def test_incremental_refresh_equals_a_rebuild(wh: Warehouse) -> None:
    load(wh, FIRST, batch_id="b1")
    aggregates.refresh(wh, "b1")
    load(wh, SECOND, batch_id="b2")
    with wh.transaction():  # as the importer does: the batch and its aggregates commit together
        aggregates.refresh(wh, "b2")
    incremental = _facts(wh)
    orders, customers = incremental
    o1 = next(r for r in orders if r[1] == "O1")
    assert o1[2:] == (d("2024-01-08"), 80, 2)  # earliest date, net amount, lines from both files
    a = next(r for r in customers if r[0] == "a")
    assert a[1:] == (d("2024-01-08"), d("2024-02-10"), 2, 130)
    assert [r[0] for r in customers] == ["a", "b", "c"]  # anonymous orders make no customer
    assert incremental == _rebuilt(wh)
    assert aggregates.ensure_fresh(wh).rebuilt is False


def test_a_batch_refreshed_on_stale_aggregates_rebuilds(wh: Warehouse) -> None:
    load(wh, FIRST, batch_id="b1")  # never refreshed
    load(wh, SECOND, batch_id="b2")
    aggregates.refresh(wh, "b2")
    assert _facts(wh) == _rebuilt(wh)
    assert len(_facts(wh)[1]) == 3


def test_changes_behind_the_aggregates_back_are_noticed(wh: Warehouse) -> None:
    load(wh, FIRST, batch_id="b1")
    load(wh, SECOND, batch_id="b2")
    first = aggregates.ensure_fresh(wh)
    assert first.rebuilt and (first.first_order, first.last_order) == (d("2024-01-05"), d("2024-03-02"))
    assert aggregates.ensure_fresh(wh).rebuilt is False

    wh.execute("DELETE FROM sales WHERE batch_id = 'b2'")  # an undone batch
    state = aggregates.ensure_fresh(wh)
    assert state.rebuilt and state.last_order == d("2024-02-10")
    assert [r[0] for r in _facts(wh)[1]] == ["a", "b"]

    # merged customers: counts, totals and dates unchanged, only the ids move
    wh.execute("UPDATE sales SET customer_id = 'a' WHERE customer_id = 'b'")
    assert aggregates.ensure_fresh(wh).rebuilt
    assert wh.rows("SELECT customer_id, frequency, monetary FROM customer_facts") == [("a", 3, 220)]
