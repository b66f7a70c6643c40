"""Canonical ``sales`` rows for the customer-analytics tests, built without the importer.

The analytics are tested against the warehouse contract, not the importer, so the rows are
written straight through ``Warehouse.insert_arrow`` the way the importer will write them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa

from salescope.engine.warehouse import Warehouse

MONEY = pa.decimal128(18, 4)

# (customer_id or None, order_id, order date, amount[, product_id])
Line = tuple[str | None, str, dt.date, str | Decimal | int] | tuple[str | None, str, dt.date, str | Decimal | int, str]


def sales_table(lines: list[Line], batch_id: str = "b1") -> pa.Table:
    line_no: dict[str, int] = {}
    numbers = []
    for line in lines:
        line_no[line[1]] = line_no.get(line[1], 0) + 1
        numbers.append(line_no[line[1]])
    return pa.table(
        {
            "order_id": [line[1] for line in lines],
            "line_no": pa.array(numbers, pa.int64()),
            "order_date": pa.array([line[2] for line in lines], pa.date32()),
            "customer_id": pa.array([line[0] for line in lines], pa.string()),
            "product_id": [line[4] if len(line) > 4 else "P1" for line in lines],  # type: ignore[misc]
            "amount": pa.array([Decimal(str(line[3])) for line in lines], MONEY),
            "batch_id": [batch_id] * len(lines),
            "source_row": pa.array(range(1, len(lines) + 1), pa.int64()),
        }
    )


def load(wh: Warehouse, lines: list[Line], batch_id: str = "b1") -> None:
    wh.insert_arrow("sales", sales_table(lines, batch_id))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def online_retail(shared_data: Path) -> pd.DataFrame:
    """December 2010 of UCI Online Retail as lines: amount = Quantity x UnitPrice, exact."""
    raw = pd.read_csv(
        shared_data / "online_retail_2010-12.csv",
        dtype={"InvoiceNo": str, "StockCode": str, "UnitPrice": str, "CustomerID": str, "Quantity": "int64"},
    )
    raw["customer_id"] = raw["CustomerID"].str.removesuffix(".0")
    raw["order_date"] = pd.to_datetime(raw["InvoiceDate"]).dt.date
    raw["amount"] = [Decimal(p) * q for p, q in zip(raw["UnitPrice"], raw["Quantity"], strict=True)]
    return raw


def online_retail_sales(raw: pd.DataFrame) -> pa.Table:
    lines: list[Line] = [
        (c if isinstance(c, str) else None, o, day, a, p)
        for c, o, day, a, p in zip(
            raw["customer_id"], raw["InvoiceNo"], raw["order_date"], raw["amount"], raw["StockCode"], strict=True
        )
    ]
    return sales_table(lines, batch_id="online-retail")


def superstore(shared_data: Path) -> pd.DataFrame:
    """Tableau's Superstore (2016-2019): latin-1 behind a UTF-8 byte-order mark, M/D/YYYY dates."""
    raw = pd.read_csv(shared_data / "superstore.csv", encoding="latin-1", dtype={"Sales": str})
    raw.columns = [c.removeprefix("ï»¿") for c in raw.columns]
    raw["order_date"] = pd.to_datetime(raw["Order Date"], format="%m/%d/%Y").dt.date
    raw["amount"] = [Decimal(s) for s in raw["Sales"]]
    return raw


def superstore_tables(raw: pd.DataFrame) -> tuple[pa.Table, pa.Table]:
    """``sales`` and ``products`` rows for Superstore (a product's category from its first line)."""
    lines: list[Line] = list(
        zip(raw["Customer ID"], raw["Order ID"], raw["order_date"], raw["amount"], raw["Product ID"], strict=True)
    )
    first = raw.drop_duplicates("Product ID")
    products = pa.table(
        {"product_id": first["Product ID"], "category": first["Category"], "batch_id": ["superstore"] * len(first)}
    )
    return sales_table(lines, batch_id="superstore"), products
