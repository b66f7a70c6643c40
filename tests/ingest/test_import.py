"""The import service on real warehouse files: buckets, duplicates, conflicts, quarantine round trip, undo."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from salescope.errors import InputError, NotFoundError
from salescope.services.importing import (
    export_quarantine,
    import_file,
    list_batches,
    preview,
    quarantine_rows,
    undo_batch,
)
from salescope.services.workspace import Workspace

MESSY_SALES = """销售明细导出
订单编号,下单日期,客户编号,客户名称,联系电话,产品编码,产品名称,数量,单价,金额,销售员,区域
SO1,2024-03-05,C1,北京甲商贸有限公司,138 0013 8000,P1,打印纸 A4,2,25.50,51.00,王芳,华北
SO1,2024/3/5,C1,北京甲商贸有限公司,+86 13800138000,P2,订书机,1,￥1，200.00,"￥1,200.00",王芳,华北
SO2,2024年3月6日,,,,P1,打印纸 A4,3,25.50,,李雷,华东
SO3,20240307,C2,上海乙科技有限公司,,,,1,,(300.00),王芳,华东
SO4,2024.03.08,C2,上海乙科技有限公司,,P3,墨盒,1,99,abc,王芳,华东
SO5,2024-03-09,C3,Ｃａｆé Ｌｔｄ,,P1,打印纸 A4,4,25.5,1.2万,李雷,华南
SO5,2024-03-09,C3,Ｃａｆé Ｌｔｄ,,P1,打印纸 A4,4,25.5,1.2万,李雷,华南
,,,,,,,,,,,
合计,,,,,,,,,"13,052.50",,
"""
# What each data row should become (row numbers count data rows under the header):
# 1, 2 load; 3 loads with amount 3 x 25.50 computed; 4 is a return with no product (amount -300, UNKNOWN product);
# 5 has an unreadable amount: quarantined; 6 and 7 are the same line twice with no line number column: both load;
# 8 is blank and 9 is the totals row: skipped.
EXPECTED_AMOUNTS = [
    Decimal("51.00"),
    Decimal("1200.00"),
    Decimal("76.50"),
    Decimal("-300.00"),
    Decimal("12000"),
    Decimal("12000"),
]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_every_row_ends_in_one_bucket(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "messy.csv", MESSY_SALES)
    r = import_file(workspace, path)
    assert r.kind == "sales"
    assert (r.rows, r.loaded, r.duplicates, r.quarantined, r.skipped) == (9, 6, 0, 1, 2)
    assert r.rows == r.loaded + r.duplicates + r.quarantined + r.skipped
    wh = workspace.warehouse
    amounts = [a for (a,) in wh.rows("SELECT amount FROM sales ORDER BY source_row")]
    assert amounts == EXPECTED_AMOUNTS
    assert wh.scalar("SELECT sum(amount) FROM sales") == sum(EXPECTED_AMOUNTS)
    assert wh.scalar("SELECT count(*) FROM order_facts") == wh.scalar(
        "SELECT count(*) FROM (SELECT DISTINCT customer_id, order_id FROM sales)"
    )
    lines = wh.rows("SELECT order_id, line_no, source_row FROM sales WHERE order_id IN ('SO1', 'SO5') ORDER BY 1, 2")
    assert lines == [("SO1", 1, 1), ("SO1", 2, 2), ("SO5", 1, 6), ("SO5", 2, 7)]
    # Anonymous line, unknown product, one customer for two phone spellings, NFKC names.
    assert wh.scalar("SELECT customer_id FROM sales WHERE order_id = 'SO2'") is None
    assert wh.scalar("SELECT product_id FROM sales WHERE order_id = 'SO3'") == "UNKNOWN"
    assert wh.rows("SELECT count(DISTINCT customer_id) FROM sales WHERE order_id = 'SO1'") == [(1,)]
    assert wh.scalar("SELECT phone FROM customers WHERE name = '北京甲商贸有限公司'") == "+8613800138000"
    assert wh.scalar("SELECT count(*) FROM customers WHERE name = 'Café Ltd'") == 1
    quarantine = {
        row: (bucket, column, value, reason)
        for row, bucket, column, value, reason in wh.rows(
            "SELECT source_row, bucket, column_name, value, reason FROM quarantine"
        )
    }
    assert quarantine[5][:3] == ("quarantined", "金额", "abc") and "expected an amount" in quarantine[5][3]
    assert quarantine[8][0] == "skipped" and quarantine[8][3] == "blank row"
    assert quarantine[9][0] == "skipped" and quarantine[9][3].startswith("totals row")
    assert any("computed as quantity x unit price for 1 row" in n for n in r.notes)
    batch = list_batches(workspace)[0]
    assert batch["batch_id"] == r.batch_id and batch["loaded"] == 6 and batch["status"] == "loaded"
    stored = json.loads(wh.scalar("SELECT mapping FROM import_batches"))
    assert stored["下单日期"] == "order_date" and stored["金额"] == "amount"


def test_reimport_loads_nothing_and_stores_the_file_once(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "messy.csv", MESSY_SALES)
    first = import_file(workspace, path)
    again = import_file(workspace, path)
    assert (again.rows, again.loaded, again.duplicates, again.quarantined, again.skipped) == (9, 0, 6, 1, 2)
    assert workspace.warehouse.scalar("SELECT count(*) FROM sales") == first.loaded
    stored = list(workspace.imports_dir.rglob("*.csv"))
    assert len(stored) == 1 and stored[0].read_bytes() == path.read_bytes()
    assert stored[0].stem == workspace.warehouse.scalar("SELECT DISTINCT file_sha256 FROM import_batches")


def test_explicit_line_numbers_duplicates_and_conflicts(workspace: Workspace, tmp_path: Path) -> None:
    header = "Order ID,Line,Order Date,Customer ID,Product ID,Amount\n"
    path = write(
        tmp_path / "a.csv",
        header + "A,1,2024-01-02,C1,P1,10\nA,1,2024-01-02,C1,P1,10\nA,2,2024-01-02,C1,P2,5\nA,2,2024-01-02,C1,P2,6\n",
    )
    r = import_file(workspace, path)
    # Row 2 repeats row 1 exactly (a duplicate); row 4 reuses line 2 with another amount (a conflict).
    assert (r.loaded, r.duplicates, r.quarantined) == (2, 1, 1)
    reason = workspace.warehouse.scalar("SELECT reason FROM quarantine WHERE source_row = 4")
    assert reason == "key A/2 repeats row 3 of this file with different values"
    changed = write(tmp_path / "b.csv", header + "A,1,2024-01-02,C1,P1,10\nA,2,2024-01-02,C1,P2,7\n")
    r2 = import_file(workspace, changed)
    assert (r2.loaded, r2.duplicates, r2.quarantined) == (0, 1, 1)
    reason = workspace.warehouse.scalar(f"SELECT reason FROM quarantine WHERE batch_id = '{r2.batch_id}'")
    assert reason.startswith(f"key A/2 was already loaded by batch {r.batch_id} with different values")


def test_quarantine_export_correct_and_reimport(workspace: Workspace, tmp_path: Path) -> None:
    r = import_file(workspace, write(tmp_path / "messy.csv", MESSY_SALES))
    out = tmp_path / "q.csv"
    assert export_quarantine(workspace, r.batch_id or "", out) == 1
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["金额"] == "abc" and rows[0]["订单编号"] == "SO4" and rows[0]["source_row"] == "5"
    rows[0]["金额"] = "99.00"
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    fixed = import_file(workspace, out, kind="sales")
    assert (fixed.rows, fixed.loaded) == (1, 1)
    assert workspace.warehouse.scalar("SELECT amount FROM sales WHERE order_id = 'SO4'") == Decimal("99")
    page = quarantine_rows(workspace, r.batch_id or "")
    assert page["total"] == 3 and page["items"][0]["raw"]["金额"] == "abc"


def test_undo_removes_the_batch_and_only_its_identities(workspace: Workspace, tmp_path: Path) -> None:
    wh = workspace.warehouse
    first = import_file(workspace, write(tmp_path / "messy.csv", MESSY_SALES))
    before = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in ("sales", "customers", "products", "customer_sources")}
    header = "Order ID,Order Date,Customer ID,Customer Name,Product ID,Amount\n"
    second = import_file(
        workspace,
        write(
            tmp_path / "more.csv",
            header + "B1,2024-04-01,C1,北京甲商贸有限公司,P1,5\nB2,2024-04-02,C9,新客户有限公司,P9,6\n",
        ),
    )
    assert second.loaded == 2
    result = undo_batch(workspace, second.batch_id or "", user="tester")
    assert result["sales"] == 2 and result["customers_removed"] == 1 and result["products_removed"] == 1
    after = {t: wh.scalar(f"SELECT count(*) FROM {t}") for t in before}
    assert after == before
    # The order aggregates follow the sales table through the import and the undo.
    assert wh.scalar("SELECT sum(amount) FROM order_facts") == wh.scalar("SELECT sum(amount) FROM sales")
    assert wh.scalar("SELECT status FROM import_batches WHERE batch_id = ?", [second.batch_id]) == "undone"
    with pytest.raises(InputError, match="already undone"):
        undo_batch(workspace, second.batch_id or "")
    with pytest.raises(NotFoundError):
        undo_batch(workspace, "no-such-batch")
    # Customers the first batch introduced but a later batch also uses stay, handed to that batch.
    third = import_file(workspace, write(tmp_path / "later.csv", header + "B3,2024-05-01,C2,上海乙科技有限公司,P1,8\n"))
    undo_batch(workspace, first.batch_id or "")
    assert wh.scalar("SELECT count(*) FROM sales") == 1
    c2 = wh.rows("SELECT customer_id, batch_id FROM customers")
    assert len(c2) == 1 and c2[0][1] == third.batch_id


def test_master_data_then_sales_share_identities_and_undo_restores_updates(
    workspace: Workspace, tmp_path: Path
) -> None:
    wh = workspace.warehouse
    customers = write(
        tmp_path / "customers.csv",
        "客户编号,客户名称,联系电话,所属行业,客户类型\n"
        "KH1,杭州丙贸易有限公司,13900001111,零售,企业\nKH2,张伟,13900002222,,个人\n"
        "KH2,张伟,13900002222,,个人\n",
    )
    r = import_file(workspace, customers)
    assert (r.kind, r.loaded, r.duplicates) == ("customers", 2, 1)
    kinds = dict(wh.rows("SELECT name, kind FROM customers"))
    assert kinds == {"杭州丙贸易有限公司": "company", "张伟": "person"}
    sales = write(
        tmp_path / "sales.csv", "订单编号,下单日期,客户编号,金额\nS1,2024-01-01,KH1,10\nS2,2024-01-02,KH2,20\n"
    )
    import_file(workspace, sales)
    assert wh.scalar("SELECT count(*) FROM customers") == 2
    assert wh.scalar("SELECT count(DISTINCT s.customer_id) FROM sales s JOIN customers c USING (customer_id)") == 2
    update = write(
        tmp_path / "customers2.csv", "客户编号,客户名称,联系电话,所属行业\nKH1,杭州丙贸易有限公司,13900009999,批发\n"
    )
    u = import_file(workspace, update, kind="customers")
    assert u.loaded == 1 and any("updated" in n for n in u.notes)
    assert wh.rows("SELECT phone, industry FROM customers WHERE name = '杭州丙贸易有限公司'") == [
        ("+8613900009999", "批发")
    ]
    undo_batch(workspace, u.batch_id or "")
    assert wh.rows("SELECT phone, industry FROM customers WHERE name = '杭州丙贸易有限公司'") == [
        ("+8613900001111", "零售")
    ]


def test_excel_workbook_import_reconciles(workspace: Workspace, tmp_path: Path) -> None:
    from test_readers import write_erp_workbook

    path = tmp_path / "erp.xlsx"
    write_erp_workbook(path)
    r = import_file(workspace, path)
    assert (r.rows, r.loaded, r.skipped) == (3, 2, 1)
    wh = workspace.warehouse
    assert wh.rows("SELECT order_id, order_date, amount FROM sales ORDER BY 1") == [
        ("1001", __import__("datetime").date(2024, 3, 5), Decimal("1234.5")),
        ("1002", __import__("datetime").date(2024, 3, 5), Decimal("99.9")),
    ]
    returns = import_file(workspace, path, sheet="Returns")
    assert returns.loaded == 1 and wh.scalar("SELECT amount FROM sales WHERE order_id = 'R1'") == Decimal("-50")


def test_other_kinds(workspace: Workspace, tmp_path: Path) -> None:
    wh = workspace.warehouse
    inv = import_file(
        workspace,
        write(
            tmp_path / "inv.csv",
            "盘点日期,产品编码,仓库,库存数量,库存金额\n"
            "2024-03-31,P1,总仓,10,100\n2024-03-31,P1,总仓,10,100\n2024-03-31,P2,,5件,\n",
        ),
    )
    assert (inv.kind, inv.loaded, inv.duplicates) == ("inventory", 2, 1)
    fb = import_file(
        workspace,
        write(
            tmp_path / "fb.csv",
            "反馈编号,客户名称,反馈日期,评分,评价\nF1,甲公司,2024-03-01,9,很好\nF2,乙公司,2024-03-02,3,一般\n",
        ),
    )
    assert fb.loaded == 2 and wh.rows("SELECT DISTINCT kind FROM feedback") == [("nps",)]
    tg = import_file(
        workspace, write(tmp_path / "t.csv", "月份,销售员,目标金额\n2024年3月,王芳,1.5万\n2024-Q2,,50000\n")
    )
    assert sorted(wh.rows("SELECT period, scope, metric, value FROM targets")) == [
        ("2024-03", "salesperson=王芳", "revenue", Decimal("15000")),
        ("2024-Q2", "total", "revenue", Decimal("50000")),
    ]
    assert tg.kind == "targets"
    opp = import_file(
        workspace, write(tmp_path / "o.csv", "商机编号,客户名称,阶段,金额\nO1,甲公司,赢单,100\nO2,乙公司,谈判,\n")
    )
    assert opp.loaded == 2
    assert dict(wh.rows("SELECT opportunity_id, status FROM opportunities")) == {"O1": "won", "O2": "open"}


def test_preview_shows_what_an_import_would_read(tmp_path: Path) -> None:
    path = write(tmp_path / "gbk.csv", MESSY_SALES.replace("￥1，200.00", "1200"), encoding="gb18030")
    info = preview(None, path, rows=3)
    assert info["kind"] == "sales" and info["encoding"] == "gb18030" and info["header_row"] == 2
    assert info["mapping"]["订单编号"] == "order_id" and len(info["sample"]) == 3
    assert info["sample"][0]["客户名称"] == "北京甲商贸有限公司"
    assert info["parsed"][0]["order_date"] == "2024-03-05"


def test_bad_input_leaves_nothing_behind(workspace: Workspace, tmp_path: Path) -> None:
    wh = workspace.warehouse
    header_only = write(tmp_path / "header.csv", "订单编号,下单日期,金额\n")
    with pytest.raises(InputError, match="header but no data rows"):
        import_file(workspace, header_only)
    junk = tmp_path / "random.xlsx"
    junk.write_bytes(bytes((i * 2654435761) % 256 for i in range(5000)))
    with pytest.raises(InputError, match="not a readable Excel workbook"):
        import_file(workspace, junk)
    with pytest.raises(InputError, match="empty"):
        import_file(workspace, write(tmp_path / "empty.csv", ""))
    noise = tmp_path / "noise.csv"
    noise.write_bytes(bytes((i * 7919) % 251 + 1 for i in range(4000)))
    with pytest.raises(InputError, match="cannot tell the text encoding"):
        import_file(workspace, noise)
    with pytest.raises(InputError, match="unknown kind"):
        import_file(workspace, write(tmp_path / "x.csv", "a,b\n1,2\n"), kind="nonsense")
    assert wh.scalar("SELECT count(*) FROM import_batches") == 0
    assert wh.scalar("SELECT count(*) FROM sales") == 0
    assert not [p for p in workspace.imports_dir.rglob("*") if p.is_file()]


def test_lines_with_the_wrong_field_count_are_quarantined_in_place(workspace: Workspace, tmp_path: Path) -> None:
    text = '订单编号,下单日期,金额\nA1,2024-01-02,5\nA2,2024-01-02\nA3,2024-01-03,7,9\n"A4","2024-01-04","8"\n'
    r = import_file(workspace, write(tmp_path / "ragged.csv", text))
    assert (r.rows, r.loaded, r.quarantined) == (4, 2, 2)
    wh = workspace.warehouse
    assert wh.rows("SELECT order_id, source_row FROM sales ORDER BY 2") == [("A1", 1), ("A4", 4)]
    assert wh.rows("SELECT source_row, reason, raw FROM quarantine ORDER BY 1") == [
        (2, "the line has 2 fields where the header has 3", '{"_line": "A2,2024-01-02"}'),
        (3, "the line has 4 fields where the header has 3", '{"_line": "A3,2024-01-03,7,9"}'),
    ]


def test_corrected_line_returns_to_its_place_in_the_order(workspace: Workspace, tmp_path: Path) -> None:
    original = write(
        tmp_path / "m.csv", "订单编号,下单日期,金额\nM1,2024-01-01,10\nM1,2024-01-01,abc\nM1,2024-01-01,30\n"
    )
    r = import_file(workspace, original)
    assert (r.loaded, r.quarantined) == (2, 1)
    wh = workspace.warehouse
    # Lines are numbered in file order, the unreadable one included: the good ones are lines 1 and 3.
    assert wh.rows("SELECT line_no, amount FROM sales ORDER BY 1") == [(1, Decimal("10")), (3, Decimal("30"))]
    out = tmp_path / "q.csv"
    export_quarantine(workspace, r.batch_id or "", out)
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "订单编号,下单日期,金额,line_no,source_row,quarantine_reason"
    out.write_text(text.replace(",abc,", ",20,"), encoding="utf-8")
    fixed = import_file(workspace, out, kind="sales")
    assert (fixed.loaded, fixed.quarantined) == (1, 0)
    assert [n for (n,) in wh.rows("SELECT line_no FROM sales ORDER BY 1")] == [1, 2, 3]
    again = import_file(workspace, original)
    assert (again.loaded, again.duplicates, again.quarantined) == (0, 2, 1)


def test_suppliers_are_found_again_by_code_or_name(workspace: Workspace, tmp_path: Path) -> None:
    wh = workspace.warehouse
    header = "采购单号,采购日期,供应商编号,供应商名称,产品编码,数量,单价\n"
    first = import_file(
        workspace, write(tmp_path / "p1.csv", header + "PO1,2024-01-02,GYS1,上海信川文具有限公司,P1,10,2.5\n")
    )
    assert (first.kind, first.loaded) == ("purchases", 1)
    assert wh.rows("SELECT supplier_id, name FROM suppliers") == [("GYS1", "上海信川文具有限公司")]
    keys = {k for (k,) in wh.rows("SELECT source_key FROM supplier_sources")}
    assert any(k.startswith("code:") for k in keys) and any(k.startswith("name:") for k in keys)
    # A later file names the supplier without its code and without the legal suffix.
    later = import_file(
        workspace, write(tmp_path / "p2.csv", "采购单号,采购日期,供应商,金额\nPO2,2024-02-03,上海信川文具,99\n")
    )
    assert later.loaded == 1
    assert wh.rows("SELECT DISTINCT supplier_id FROM purchases") == [("GYS1",)]
    assert wh.scalar("SELECT count(*) FROM suppliers") == 1
    undo_batch(workspace, later.batch_id or "")
    undo_batch(workspace, first.batch_id or "")
    assert wh.scalar("SELECT count(*) FROM suppliers") == 0
    assert wh.scalar("SELECT count(*) FROM supplier_sources") == 0
