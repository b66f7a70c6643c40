"""The forecast service on a real workspace: Superstore order lines inserted into the warehouse."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from salescope.errors import InputError
from salescope.services.forecast import load_series, run_forecast
from salescope.services.workspace import Workspace

FOUR = Decimal("0.0001")


def load_superstore(ws: Workspace, shared_data: Path) -> pd.DataFrame:
    """Superstore lines as canonical sales and products; returns the raw frame for independent checks."""
    df = pd.read_csv(shared_data / "superstore.csv", encoding="utf-8-sig")
    df["date"] = pd.to_datetime(df["Order Date"], format="%m/%d/%Y").dt.date
    sales = pa.table(
        {
            "order_id": df["Order ID"].astype(str).tolist(),
            "line_no": df["Row ID"].astype("int64").tolist(),
            "order_date": pa.array(df["date"].tolist(), pa.date32()),
            "customer_id": df["Customer ID"].astype(str).tolist(),
            "product_id": df["Product ID"].astype(str).tolist(),
            "quantity": pa.array([Decimal(int(q)) for q in df["Quantity"]], pa.decimal128(18, 4)),
            "amount": pa.array(
                [Decimal(str(a)).quantize(Decimal("0.0001")) for a in df["Sales"]], pa.decimal128(18, 4)
            ),
            "region": df["Region"].astype(str).tolist(),
            "batch_id": ["superstore"] * len(df),
            "source_row": (df.index + 1).astype("int64").tolist(),
        }
    )
    ws.warehouse.insert_arrow("sales", sales)
    products = df.drop_duplicates("Product ID")
    ws.warehouse.insert_arrow(
        "products",
        pa.table(
            {
                "product_id": products["Product ID"].astype(str).tolist(),
                "category": products["Category"].astype(str).tolist(),
            }
        ),
    )
    return df


def test_series_are_gap_filled_and_stop_before_the_partial_last_period(workspace: Workspace) -> None:
    rows = [
        ("o1", date(2024, 1, 3), "p1", "10.00"),
        ("o2", date(2024, 1, 4), "p1", "5.00"),
        ("o3", date(2024, 1, 17), "p1", "7.50"),  # nothing in the week of 2024-01-08: a zero week
        ("o4", date(2024, 1, 24), "p2", "3.00"),  # Wednesday: that week is incomplete and left out
    ]
    workspace.warehouse.insert_arrow(
        "sales",
        pa.table(
            {
                "order_id": [r[0] for r in rows],
                "line_no": [1] * len(rows),
                "order_date": pa.array([r[1] for r in rows], pa.date32()),
                "product_id": [r[2] for r in rows],
                "amount": pa.array([Decimal(r[3]) for r in rows], pa.decimal128(18, 4)),
                "batch_id": ["b"] * len(rows),
                "source_row": list(range(1, len(rows) + 1)),
            }
        ),
    )
    data, info = load_series(workspace.warehouse, by="product", freq="week")
    assert info["dropped_partial_period"] is True and info["last_period"] == "2024-01-15"
    p1 = data[data["unique_id"] == "p1"]
    assert p1["y"].tolist() == [15.0, 0.0, 7.5]
    assert "p2" not in set(data["unique_id"])  # its only week is the partial one

    with pytest.raises(InputError, match="--by"):
        run_forecast(workspace, by="planet")


@pytest.mark.slow
def test_weekly_forecast_by_category_on_superstore(workspace: Workspace, shared_data: Path) -> None:
    df = load_superstore(workspace, shared_data)
    out = run_forecast(workspace, by="category", freq="week", horizon=8)
    json.dumps(out)  # the --json output must serialise as is
    assert out["series"] == 3 and out["freq"] == "week" and out["horizon"] == 8
    assert set(out) >= {"series", "freq", "horizon", "models", "backtest"}
    assert out["backtest"]["baseline"] == "seasonal_naive"
    assert out["backtest"]["mase"] < out["backtest"]["baseline_mase"]
    assert sum(out["models"].values()) == 3
    assert len(out["forecasts"]) == 3 * 8
    # the history: the category totals of the raw file, to the cent
    data, _ = load_series(workspace.warehouse, by="category", freq="week")
    last_week = pd.Timestamp("2019-12-23")  # last order 2019-12-30 (Monday): that week is partial
    assert data["ds"].max() == last_week
    expected = df[pd.to_datetime(df["Order Date"], format="%m/%d/%Y") < "2019-12-30"].groupby("Category")["Sales"].sum()
    got = data.groupby("unique_id")["y"].sum()
    for cat, value in expected.items():
        assert got[cat] == pytest.approx(value, abs=0.01)
    stored = workspace.warehouse.df("SELECT * FROM forecasts WHERE \"by\" = 'category' AND freq = 'week'")
    assert len(stored) == 24 and (stored["forecast"] >= 0).all()
    assert (stored["lo80"] <= stored["forecast"]).all() and (stored["forecast"] <= stored["hi80"]).all()
    assert str(stored["ds"].min())[:10] == "2019-12-30"
    # a second run replaces the first instead of piling up rows
    run_forecast(workspace, by="category", freq="week", horizon=8)
    assert workspace.warehouse.scalar("SELECT count(*) FROM forecasts") == 24
