"""Readers and mapping on files shaped like real exports: titles, merged headers, totals, sheets, encodings."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from salescope.errors import InputError
from salescope.ingest import mapping
from salescope.ingest.readers import CsvReader, ExcelReader, open_reader


def rows_of(reader: object) -> list[dict[str, object]]:
    out = []
    for chunk in reader.chunks(1000):  # type: ignore[attr-defined]
        for rec in chunk.table.to_pylist():
            out.append(dict(zip(reader.layout.headers, rec.values(), strict=True)))  # type: ignore[attr-defined]
    return out


def write_erp_workbook(path: Path) -> None:
    """An ERP-style workbook: two title rows, a two-row header with merged cells, a totals row, a second sheet."""
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("销售明细")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, 5, "2024年3月销售明细表")
    ws.write(1, 0, "导出日期：2024-04-01")
    ws.merge_range(2, 0, 3, 0, "订单编号")
    ws.merge_range(2, 1, 3, 1, "下单日期")
    ws.merge_range(2, 2, 2, 3, "客户")
    ws.write_row(3, 2, ["编号", "名称"])
    ws.merge_range(2, 4, 3, 4, "数量")
    ws.merge_range(2, 5, 3, 5, "金额")
    ws.write_row(4, 0, [1001])
    ws.write_datetime(4, 1, dt.datetime(2024, 3, 5), date_fmt)
    ws.write_row(4, 2, ["C001", "甲公司", 2, 1234.5])
    ws.write_row(5, 0, [1002, 45356, "C002", "乙公司", 1, 99.9])  # an Excel serial stored as a plain number
    ws.write_row(6, 0, ["合计", "", "", "", 3, 1334.4])
    other = wb.add_worksheet("Returns")
    other.write_row(0, 0, ["Order ID", "Order Date", "Amount"])
    other.write_row(1, 0, ["R1", "2024-03-09", -50])
    wb.close()


def test_excel_titles_merged_header_and_serials(tmp_path: Path) -> None:
    path = tmp_path / "erp.xlsx"
    write_erp_workbook(path)
    reader = ExcelReader(path)
    assert reader.layout.sheet == "销售明细"
    assert reader.layout.sheets == ["销售明细", "Returns"]
    # The two-row header under the merged 客户 reads 客户编号 / 客户名称, which map like any header.
    assert reader.layout.headers == ["订单编号", "下单日期", "客户编号", "客户名称", "数量", "金额"]
    rows = rows_of(reader)
    # A column of one cell type keeps it (numbers stay numbers); mixed columns read as the text shown.
    assert rows[0] == {
        "订单编号": "1001",
        "下单日期": "2024-03-05",
        "客户编号": "C001",
        "客户名称": "甲公司",
        "数量": 2.0,
        "金额": 1234.5,
    }
    assert rows[1]["下单日期"] == "45356" and rows[2]["订单编号"] == "合计"
    cmap = mapping.build(reader.layout.headers, "sales")
    assert cmap.fields == {
        "order_id": 0,
        "order_date": 1,
        "customer_code": 2,
        "customer_name": 3,
        "quantity": 4,
        "amount": 5,
    }


def test_excel_second_sheet_by_name_and_number(tmp_path: Path) -> None:
    path = tmp_path / "erp.xlsx"
    write_erp_workbook(path)
    for sheet in ("Returns", "2"):
        reader = ExcelReader(path, sheet=sheet)
        assert reader.layout.headers == ["Order ID", "Order Date", "Amount"]
        assert rows_of(reader) == [{"Order ID": "R1", "Order Date": "2024-03-09", "Amount": -50.0}]
    with pytest.raises(InputError, match=r"no such sheet.*销售明细, Returns"):
        ExcelReader(path, sheet="Nope")


def test_csv_title_rows_are_skipped_and_tsv_detected(tmp_path: Path) -> None:
    csv_path = tmp_path / "export.csv"
    csv_path.write_text("销售明细表\n导出时间,2024-04-01\n\n订单号,日期,金额\nA1,2024-03-05,10\n", encoding="utf-8")
    reader = CsvReader(csv_path)
    assert reader.layout.headers == ["订单号", "日期", "金额"] and reader.layout.header_row == 4
    assert rows_of(reader) == [{"订单号": "A1", "日期": "2024-03-05", "金额": "10"}]
    tsv = tmp_path / "export.tsv"
    tsv.write_text("Order ID\tOrder Date\tSales\nA1\t3/5/2024\t1,234.50\n", encoding="utf-8")
    reader = CsvReader(tsv)
    assert reader.layout.delimiter == "\t"
    assert rows_of(reader) == [{"Order ID": "A1", "Order Date": "3/5/2024", "Sales": "1,234.50"}]


def test_malformed_lines_keep_their_place(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n\n10,11,12\n", encoding="utf-8")
    reader = CsvReader(path)
    seen: dict[int, str] = {}
    broken: dict[int, str] = {}
    reader.exact_rows = True
    for chunk in reader.chunks(1000):
        for row, rec in zip(chunk.source_row.to_pylist(), chunk.table.to_pylist(), strict=True):
            seen[row] = rec["c0"]
        for row, text, reason in chunk.broken:
            broken[row] = f"{text}|{reason}"
    # Rows 2 and 3 have the wrong field count; row 4 is blank (one empty field): every row has its number.
    assert seen == {1: "1", 4: "", 5: "10"}
    assert broken == {
        2: "4,5|the line has 2 fields where the header has 3",
        3: "6,7,8,9|the line has 4 fields where the header has 3",
    }


def test_encodings_detected_and_overridable(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("客户名称,金额\n北京某某商贸有限公司,100\n上海分公司,200\n".encode("gbk"))
    assert CsvReader(gbk).layout.encoding == "gb18030"
    assert rows_of(CsvReader(gbk))[0] == {"客户名称": "北京某某商贸有限公司", "金额": "100"}
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Customer,City\nMüller GmbH,Zürich\n".encode("latin-1"))
    assert CsvReader(latin).layout.encoding == "latin-1"
    assert rows_of(CsvReader(latin)) == [{"Customer": "Müller GmbH", "City": "Zürich"}]
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffOrder ID,Amount\nX,1\n".encode())
    assert CsvReader(bom).layout.headers == ["Order ID", "Amount"]
    # The override wins even when detection would choose otherwise.
    assert rows_of(CsvReader(latin, encoding="cp1252")) == [{"Customer": "Müller GmbH", "City": "Zürich"}]
    with pytest.raises(InputError, match="unknown text encoding"):
        CsvReader(latin, encoding="klingon")


def test_parquet_and_sqlite_sources(tmp_path: Path) -> None:
    pq_path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table({"Order ID": ["A", "B"], "Order Date": [dt.date(2024, 1, 2)] * 2, "Sales": [1.5, 2.25]}), pq_path
    )
    reader = open_reader(pq_path)
    assert reader.layout.format == "parquet"
    assert [r["Sales"] for r in rows_of(reader)] == [1.5, 2.25]
    db = tmp_path / "erp.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE orders (order_id TEXT, order_date TEXT, amount REAL)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", [("A", "2024-01-02", 1.5), ("B", "2024-01-03", 2.0)])
    con.commit()
    con.close()
    for source in (f"sqlite:///{db}", f"sqlite:///{db}?table=orders", str(db)):
        reader = open_reader(source)
        assert reader.layout.headers == ["order_id", "order_date", "amount"]
        assert rows_of(reader) == [
            {"order_id": "A", "order_date": "2024-01-02", "amount": "1.5"},
            {"order_id": "B", "order_date": "2024-01-03", "amount": "2"},
        ]


def test_detect_kind_and_missing_required_column() -> None:
    assert mapping.detect_kind(["Order ID", "Order Date", "Customer Name", "Sales"]) == "sales"
    assert mapping.detect_kind(["PO_ID", "Supplier", "Order_Date", "Quantity", "Unit_Price"]) == "purchases"
    assert mapping.detect_kind(["opportunity_id", "account", "deal_stage", "close_value"]) == "opportunities"
    with pytest.raises(InputError, match="cannot tell which kind"):
        mapping.detect_kind(["foo", "bar"])
    with pytest.raises(InputError) as err:
        mapping.build(["订单编号", "客户名称", "金额"], "sales", file="x.csv")
    message = str(err.value)
    # One sentence that names what is missing, what would do, and the headers found.
    assert "missing required column for sales: order_date" in message
    assert "下单日期" in message and "found: 订单编号, 客户名称, 金额" in message


def test_mapping_overrides_in_both_directions_and_ignore() -> None:
    headers = ["单号", "日期", "总金额", "买家实际支付金额"]
    auto = mapping.build(headers, "sales")
    assert auto.header_of("amount") == "总金额"
    paid = mapping.build(headers, "sales", {"买家实际支付金额": "amount"})
    assert paid.header_of("amount") == "买家实际支付金额" and "总金额" in paid.ignored
    same = mapping.build(headers, "sales", {"columns": {"amount": "买家实际支付金额"}, "kind": "sales"})
    assert same.fields == paid.fields
    with pytest.raises(InputError, match="does not have"):
        mapping.build(headers, "sales", {"Nope": "amount"})
    with pytest.raises(InputError, match="unknown field"):
        mapping.build(headers, "sales", {"总金额": "revenue_total"})
    assert mapping.load_overrides("kind: sales\ncolumns:\n  总金额: ignore\n") == {
        "kind": "sales",
        "columns": {"总金额": "ignore"},
    }


def test_bad_files_raise_one_sentence(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        open_reader(junk)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        open_reader(empty)
    binary = tmp_path / "noise.csv"
    binary.write_bytes(bytes((i * 7919) % 251 + 1 for i in range(4000)))
    with pytest.raises(InputError, match="cannot tell the text encoding"):
        open_reader(binary)
    with pytest.raises(InputError, match="no such file"):
        open_reader(tmp_path / "missing.csv")


def test_utf16_tab_separated_text_from_excel(tmp_path: Path) -> None:
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab separated.
    path = tmp_path / "export.txt"
    path.write_bytes("订单编号\t下单日期\t金额\nA1\t2024-01-02\t5\n".encode("utf-16"))
    reader = open_reader(path)
    assert (reader.layout.encoding, reader.layout.delimiter) == ("utf-16", "\t")
    assert rows_of(reader) == [{"订单编号": "A1", "下单日期": "2024-01-02", "金额": "5"}]


def test_server_database_urls_fail_in_one_sentence_without_the_password() -> None:
    from salescope.errors import SalescopeError

    # Offline, DuckDB's postgres extension cannot be installed; online nothing listens on port 5.
    with pytest.raises(SalescopeError) as err:
        open_reader("postgresql://sales:s3cret@127.0.0.1:5/erp?table=orders")
    assert "s3cret" not in str(err.value)
    assert "postgres" in str(err.value)
