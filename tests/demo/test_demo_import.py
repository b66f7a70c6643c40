"""The demo files through the real importer: its buckets and totals must match the manifest exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest
from demo_support import Demo

from salescope.services.importing import import_file
from salescope.services.workspace import Workspace

# Reference data first, so order lines meet the products and customers they name.
KINDS_IN_ORDER = (
    "products",
    "customers",
    "suppliers",
    "sales",
    "purchases",
    "inventory",
    "opportunities",
    "feedback",
    "targets",
)


@pytest.mark.slow
def test_importer_reconciles_with_the_manifest(small_demo: Demo, workspace: Workspace) -> None:
    files = sorted(small_demo.files, key=lambda f: KINDS_IN_ORDER.index(f.kind))
    for f in files:
        result = import_file(workspace, f.path, kind=f.kind, user="demo")
        ledger = small_demo.ledger(f.path.name)
        got = (result.rows, result.loaded, result.duplicates, result.quarantined, result.skipped)
        want = (
            ledger["rows"],
            ledger["expected_loaded"],
            ledger["duplicates"],
            ledger["quarantined"],
            ledger["skipped"],
        )
        assert got == want, f.path.name
    wh = workspace.warehouse
    for table in KINDS_IN_ORDER:
        assert wh.rows(f"SELECT count(*) FROM {table}")[0][0] > 0, table
    (sales_total,) = wh.rows("SELECT sum(amount) FROM sales")[0]
    assert Decimal(sales_total) == Decimal(small_demo.ledger("sales_orders.csv")["amount_total"])
    (purchase_total,) = wh.rows("SELECT sum(amount) FROM purchases")[0]
    assert Decimal(purchase_total) == Decimal(small_demo.ledger("purchases.xlsx")["amount_total"])
    # Anonymous walk-in sales load without a customer, as DESIGN §4 requires.
    (anonymous,) = wh.rows("SELECT count(*) FROM sales WHERE customer_id IS NULL")[0]
    assert anonymous == small_demo.ledger("sales_orders.csv")["injected"]["anonymous_lines"]
