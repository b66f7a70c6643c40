"""Each real dataset imports and reconciles with figures computed here from the raw file (csv + Decimal).

The expected numbers never come from Salescope's parsers: each test reads the file with
the standard library, applies the one rule the dataset needs (a product, a regex for the
dates that exist), and compares counts and exact totals with what the warehouse holds.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from salescope.services.importing import ImportResult, import_file, list_batches
from salescope.services.workspace import Workspace


def raw_rows(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        return [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(fh)]


def reconciles(r: ImportResult, rows: int) -> None:
    assert r.rows == rows
    assert r.rows == r.loaded + r.duplicates + r.quarantined + r.skipped


def total(ws: Workspace, table: str, column: str = "amount") -> Decimal:
    value = ws.warehouse.scalar(f"SELECT sum({column}) FROM {table}")
    return Decimal(value or 0)


def test_superstore(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "superstore.csv"
    raw = raw_rows(path)
    r = import_file(workspace, path, kind="sales")
    reconciles(r, len(raw))
    assert r.loaded == len(raw) == 9994
    assert total(workspace, "sales") == sum(Decimal(x["Sales"]) for x in raw)
    # Profit, not cost, is given: cost = sales - profit, exactly.
    expected_cost = sum(Decimal(x["Sales"]) - Decimal(x["Profit"]) for x in raw)
    assert total(workspace, "sales", "cost") == expected_cost
    wh = workspace.warehouse
    assert wh.scalar("SELECT count(*) FROM customers") == len({x["Customer ID"] for x in raw})
    assert wh.scalar("SELECT count(DISTINCT product_id) FROM sales") == len({x["Product ID"] for x in raw})
    # M/D/YYYY dates: the latest order date in the file, read month-first.
    y, m, d = max((int(y), int(m), int(d)) for m, d, y in (x["Order Date"].split("/") for x in raw))
    assert str(wh.scalar("SELECT max(order_date) FROM sales")) == f"{y:04d}-{m:02d}-{d:02d}"
    again = import_file(workspace, path, kind="sales")
    assert (again.loaded, again.duplicates) == (0, len(raw))


def test_online_retail(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "online_retail_2010-12.csv"
    raw = raw_rows(path)
    r = import_file(workspace, path, kind="sales")
    reconciles(r, len(raw))
    assert r.loaded == len(raw)
    # No amount column: each line is quantity x unit price, returns (negative quantities) included.
    expected = sum(Decimal(x["Quantity"]) * Decimal(x["UnitPrice"]) for x in raw)
    assert total(workspace, "sales") == expected
    assert any("computed as quantity x unit price" in n for n in r.notes)
    wh = workspace.warehouse
    guests = sum(1 for x in raw if not x["CustomerID"].strip())
    assert wh.scalar("SELECT count(*) FROM sales WHERE customer_id IS NULL") == guests
    assert wh.scalar("SELECT count(*) FROM customers") == len({x["CustomerID"] for x in raw if x["CustomerID"].strip()})
    returns = sum(1 for x in raw if Decimal(x["Quantity"]) < 0)
    assert wh.scalar("SELECT count(*) FROM sales WHERE amount < 0 OR quantity < 0") == returns


def test_tmall_chinese_headers_with_mapping(workspace: Workspace, shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "tmall_order_report_cn.csv"
    raw = raw_rows(path)
    mapping = tmp_path / "tmall.yaml"
    mapping.write_text("kind: sales\ncolumns:\n  买家实际支付金额: amount\n", encoding="utf-8")
    r = import_file(workspace, path, mapping=mapping)
    reconciles(r, len(raw))
    assert r.kind == "sales" and r.loaded == len(raw)
    assert r.mapping["买家实际支付金额"] == "amount" and "总金额" not in r.mapping
    assert total(workspace, "sales") == sum(Decimal(x["买家实际支付金额"]) for x in raw)
    wh = workspace.warehouse
    # No buyer column: every order is an anonymous sale; no product column: the unknown product.
    assert wh.scalar("SELECT count(*) FROM sales WHERE customer_id IS NULL AND product_id = 'UNKNOWN'") == len(raw)
    assert wh.scalar("SELECT count(DISTINCT province) FROM sales") == len({x["收货地址"] for x in raw})
    stored = list_batches(workspace)[0]
    assert stored["rows"] == len(raw)


def test_crm_pipeline_opportunities(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "crm" / "sales_pipeline.csv"
    raw = raw_rows(path)
    r = import_file(workspace, path, kind="opportunities")
    reconciles(r, len(raw))
    assert r.loaded == len(raw)
    assert total(workspace, "opportunities") == sum(Decimal(x["close_value"]) for x in raw if x["close_value"])
    wh = workspace.warehouse
    stages = {"Won": "won", "Lost": "lost"}
    expected = {}
    for x in raw:
        status = stages.get(x["deal_stage"], "open")
        expected[status] = expected.get(status, 0) + 1
    assert dict(wh.rows("SELECT status, count(*) FROM opportunities GROUP BY 1")) == expected
    assert wh.scalar("SELECT count(*) FROM customers") == len({x["account"] for x in raw if x["account"]})


def test_procurement_kpi_purchases(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "procurement_kpi_cleaned.csv"
    raw = raw_rows(path)
    r = import_file(workspace, path, kind="purchases")
    reconciles(r, len(raw))
    assert r.loaded == len(raw)
    assert total(workspace, "purchases") == sum(Decimal(x["Quantity"]) * Decimal(x["Unit_Price"]) for x in raw)
    wh = workspace.warehouse
    assert wh.scalar("SELECT count(*) FROM suppliers") == len({x["Supplier"] for x in raw})
    assert wh.scalar("SELECT sum(rejected_qty) FROM purchases") == sum(Decimal(x["Defective_Units"] or 0) for x in raw)


def test_scms_deliveries(workspace: Workspace, shared_data: Path) -> None:
    path = shared_data / "scms_delivery_history.csv"
    raw = raw_rows(path)
    r = import_file(workspace, path, kind="purchases")
    reconciles(r, len(raw))
    # Only lines whose PO date is a date (M/D/YY or ISO) can load; "N/A - From RDC" and "Date Not Captured" cannot.
    dated = [x for x in raw if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}|\d{4}-\d{2}-\d{2}", x["PO Sent to Vendor Date"])]
    assert r.loaded == len(dated) and r.quarantined == len(raw) - len(dated)
    assert total(workspace, "purchases") == sum(Decimal(x["Line Item Value"]) for x in dated)
    reasons = workspace.warehouse.rows("SELECT DISTINCT column_name FROM quarantine")
    assert reasons == [("PO Sent to Vendor Date",)]
    wh = workspace.warehouse
    assert wh.scalar("SELECT count(*) FROM purchases WHERE received_date IS NULL") == sum(
        1 for x in dated if not re.fullmatch(r"\d{1,2}-[A-Za-z]{3}-\d{2}", x["Delivered to Client Date"])
    )


@pytest.mark.parametrize("name", ["crm/accounts.csv", "crm/products.csv"])
def test_crm_master_files(workspace: Workspace, shared_data: Path, name: str) -> None:
    path = shared_data / name
    raw = raw_rows(path)
    kind = "customers" if "accounts" in name else "products"
    r = import_file(workspace, path, kind=kind)
    reconciles(r, len(raw))
    assert r.loaded == len(raw)
    assert workspace.warehouse.scalar(f"SELECT count(*) FROM {kind}") == len(raw)
