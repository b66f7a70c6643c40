"""The quality report finds the planted problems, and only those."""

from __future__ import annotations

from pathlib import Path

import pytest

from salescope.errors import InputError
from salescope.services.importing import import_file
from salescope.services.quality import quality_report
from salescope.services.workspace import Workspace


def planted_sales(path: Path) -> Path:
    lines = ["订单编号,下单日期,客户编号,联系电话,产品编码,数量,单价,金额"]
    # 40 ordinary lines: product P1 at 10.00, amounts 100..490; every other line without a phone.
    for i in range(40):
        phone = "13800138000" if i % 2 else ""
        lines.append(f"O{i},2024-01-{1 + i % 28:02d},C{i % 7},{phone},P1,{10 + i},10.00,{(10 + i) * 10}.00")
    lines.append("BIG,2024-02-01,C1,,P2,1,5000000,5000000")  # an amount no ordinary line comes near
    lines.append("PRICE,2024-02-02,C2,,P1,2,100.00,200.00")  # ten times P1's usual price
    lines.append("DUP-A,2024-02-03,C3,,P3,2,100.00,200.00")  # the same line keyed twice under two order numbers
    lines.append("DUP-B,2024-02-03,C3,,P3,2,100.00,200.00")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_quality_report_finds_planted_problems(workspace: Workspace, tmp_path: Path) -> None:
    r = import_file(workspace, planted_sales(tmp_path / "s.csv"))
    assert r.loaded == 44
    report = quality_report(workspace, batch_id=r.batch_id)
    assert report["table"] == "sales" and report["rows"] == 44
    amounts = report["outliers"]["amount"]
    assert [row["order_id"] for row in amounts["rows"]] == ["BIG"]
    prices = report["outliers"]["unit_price"]
    assert [(row["order_id"], row["ratio"]) for row in prices["rows"]] == [("PRICE", 10.0)]
    dups = report["suspected_duplicates"]
    assert dups["count"] == 1 and dups["rows"][0]["order_ids"] == ["DUP-A", "DUP-B"]
    filled = {c["column"]: c["filled"] for c in report["completeness"]}
    assert filled["amount"] == 44 and filled["discount"] == 0
    # The same findings are summarised in the import's notes.
    assert any("1 amount outliers" in n for n in r.notes)
    assert any("1 suspected duplicate" in n for n in r.notes)
    table_report = quality_report(workspace, table="customers")
    phones = {c["column"]: c["filled"] for c in table_report["completeness"]}["phone"]
    # C1, C3 and C5 appear with a phone on odd lines (i % 7 for odd i covers every customer code).
    assert phones == len({i % 7 for i in range(40) if i % 2})


def test_quality_report_needs_a_scope(workspace: Workspace) -> None:
    with pytest.raises(InputError, match="which batch or table"):
        quality_report(workspace)
    with pytest.raises(InputError, match="no such import batch"):
        quality_report(workspace, batch_id="nope")
