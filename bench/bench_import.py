"""Import benchmarks: CSV import vs pandas.read_csv -> DuckDB, and xlsx reading vs openpyxl.

Run: ``.venv/bin/python -m bench.bench_import [--rows 1000000] [--xlsx-rows 100000] [--record]``.

The CSV peer only reads and stores (no parsing of Chinese dates or money, no identities,
no duplicate checks), so it is the floor a full import is measured against; both sides end
with the same rows in a DuckDB file and the check confirms the same sum of amounts.
The xlsx side compares reading a sheet into columns: python-calamine (through Salescope's
reader, header detection included) against openpyxl's read-only mode.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.harness import compare, record


def sales_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """Order lines as an ERP exports them: three lines an order, 20k customers, 2k products, Chinese names."""
    rng = np.random.default_rng(seed)
    orders = np.arange(rows) // 3
    n_orders = int(orders[-1]) + 1
    customer = rng.integers(0, 20_000, n_orders)[orders]
    product = rng.integers(0, 2_000, rows)
    day = (np.datetime64("2023-01-01") + rng.integers(0, 730, n_orders))[orders]
    qty = rng.integers(1, 20, rows)
    cents = rng.integers(100, 50_000, rows)
    return pd.DataFrame(
        {
            "订单编号": np.char.add("SO", orders.astype(str)),
            "下单日期": np.datetime_as_string(day, unit="D"),
            "客户编号": np.char.add("C", customer.astype(str)),
            "客户名称": np.char.add(np.char.add("客户", customer.astype(str)), "有限公司"),
            "产品编码": np.char.add("P", product.astype(str)),
            "数量": qty,
            "单价": cents / 100,
            "金额": (qty * cents) / 100,
            "区域": np.array(["华东", "华南", "华北", "西南"])[customer % 4],
        }
    )


def bench_csv(rows: int, repeats: int, work: Path) -> Any:
    from salescope.services.importing import import_file
    from salescope.services.workspace import Workspace

    path = work / "sales.csv"
    sales_frame(rows).to_csv(path, index=False)
    runs = iter(range(1000))

    def ours() -> tuple[int, Decimal]:
        root = work / f"ws{next(runs)}"
        with Workspace(root) as ws:
            r = import_file(ws, path, kind="sales")
            total = ws.warehouse.scalar("SELECT sum(amount) FROM sales")
        shutil.rmtree(root)
        return r.loaded, Decimal(total)

    def peer() -> tuple[int, Decimal]:
        import duckdb

        db = work / f"peer{next(runs)}.duckdb"
        df = pd.read_csv(path)
        con = duckdb.connect(str(db))
        con.register("df", df)
        con.execute("CREATE TABLE sales AS SELECT * FROM df")
        n, total = con.execute('SELECT count(*), sum(CAST("金额" AS DECIMAL(18,4))) FROM sales').fetchall()[0]
        con.close()
        db.unlink()
        return int(n), Decimal(total)

    def check(a: tuple[int, Decimal], b: tuple[int, Decimal]) -> str:
        return "same rows and sum(amount)" if a == b else f"MISMATCH {a} vs {b}"

    label = f"{rows / 1e6:g}M rows" if rows >= 1_000_000 else f"{rows // 1000}k rows"
    return compare(
        "CSV import (parse, identities, duplicates, load)",
        label,
        ours,
        peer,
        peer_label="pandas.read_csv -> DuckDB",
        repeats=repeats,
        goal=">= 1M rows/s",
        check=check,
    )


def bench_xlsx(rows: int, repeats: int, work: Path) -> Any:
    import xlsxwriter

    from salescope.ingest.readers import ExcelReader

    path = work / "sales.xlsx"
    frame = sales_frame(rows)
    wb = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = wb.add_worksheet("销售")
    ws.write(0, 0, "2024年销售明细")
    ws.write_row(1, 0, list(frame.columns))
    for i, rec in enumerate(frame.itertuples(index=False), start=2):
        ws.write_row(i, 0, rec)
    wb.close()

    def ours() -> int:
        reader = ExcelReader(path)
        return sum(chunk.table.num_rows for chunk in reader.chunks(200_000))

    def peer() -> int:
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        n = sum(1 for _ in sheet.iter_rows(min_row=3, values_only=True))
        book.close()
        return n

    def check(a: int, b: int) -> str:
        return "same row count" if a == b == rows else f"MISMATCH {a} vs {b}"

    return compare(
        "xlsx read",
        f"{rows // 1000}k rows x {frame.shape[1]} cols",
        ours,
        peer,
        peer_label="openpyxl read-only",
        repeats=repeats,
        goal=">= 5x",
        check=check,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["csv", "xlsx"], help="run one of the two benchmarks")
    parser.add_argument("--record", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="salescope-bench-import-"))
    try:
        results = []
        if args.only in (None, "csv"):
            results.append(bench_csv(args.rows, args.repeats, work))
        if args.only in (None, "xlsx"):
            results.append(bench_xlsx(args.xlsx_rows, args.repeats, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.record:
        import duckdb
        import openpyxl
        import pyarrow
        import python_calamine

        versions = {
            "duckdb": duckdb.__version__,
            "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__,
            "openpyxl": openpyxl.__version__,
            "python-calamine": getattr(python_calamine, "__version__", "?"),
        }
        record("Import", results, versions)


if __name__ == "__main__":
    main()
