"""The demo files as an importer sees them: kinds, headers, row accounting, determinism, scales."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from demo_support import END, Demo, norm_header, parse_date, parse_money, read_table
from python_calamine import CalamineWorkbook

from salescope.demo import calendar
from salescope.demo.generator import SCALES, generate
from salescope.errors import InputError
from salescope.schema.kinds import KINDS

KEYS = {
    "sales": ("订单编号", "行号"),
    "customers": ("客户编号",),
    "products": ("产品编码",),
    "suppliers": ("供应商编号",),
    "purchases": ("采购单号", "行号"),
    "inventory": ("盘点日期", "产品编码", "仓库"),
    "opportunities": ("商机编号",),
    "feedback": ("反馈编号",),
    "targets": ("月份", "范围", "指标"),
}
# Required values a row cannot be loaded without (schema.kinds required fields with a type).
REQUIRED = {
    "sales": {"下单日期": "date", "金额": "money"},
    "purchases": {"采购日期": "date", "金额": "money"},
    "inventory": {"盘点日期": "date", "库存数量": "money"},
    "feedback": {"反馈日期": "date", "评分": "money"},
    "targets": {"目标金额": "money"},
}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_import_kind_has_a_file_and_a_manifest_entry(small_demo: Demo) -> None:
    assert {f.kind for f in small_demo.files} == set(KINDS)
    for f in small_demo.files:
        assert f.path.exists() and f.path.parent == small_demo.dir
        assert f.rows > 0 and "/" in f.description
    assert [f["file"] for f in small_demo.manifest["files"]] == [f.path.name for f in small_demo.files]
    # Masters first, so order lines meet customer codes the warehouse already knows.
    assert [f.kind for f in small_demo.files][:3] == ["customers", "products", "suppliers"]


def test_headers_map_to_exactly_one_field_of_their_kind(small_demo: Demo) -> None:
    for f in small_demo.files:
        kind = KINDS[f.kind]
        header, _ = read_table(f.path)
        mapped = []
        for h in header:
            fields = [fd.name for fd in kind.fields if norm_header(h) in {norm_header(s) for s in fd.synonyms}]
            assert len(fields) == 1, f"{f.path.name}: header {h!r} maps to {fields}"
            mapped.append(fields[0])
        assert len(set(mapped)) == len(mapped), f"{f.path.name}: two headers map to one field"
        for group in kind.required:
            assert set(group) & set(mapped), f"{f.path.name} lacks one of {group}"


def test_file_formats_are_the_ones_real_exports_use(small_demo: Demo) -> None:
    sales = small_demo.of_kind("sales")[0].path
    assert sales.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in sales.read_bytes()[:400]
    products = (small_demo.dir / "products.csv").read_bytes()
    products.decode("gbk")
    with pytest.raises(UnicodeDecodeError):
        products.decode("utf-8")
    customers = CalamineWorkbook.from_path(str(small_demo.dir / "customers.xlsx")).get_sheet_by_index(0).to_python()
    assert str(customers[0][0]).startswith("客户档案导出 2025-10-31")
    assert customers[1][0] == "客户编号"
    _, purchases = read_table(small_demo.dir / "purchases.xlsx")
    assert purchases[-1][0] == "合计"
    # The dirt the importer must cope with is actually there.
    _, rows = read_table(sales)
    dates = [r[2] for r in rows]
    amounts = [r[11] for r in rows]
    assert any("/" in d for d in dates) and any("年" in d for d in dates)
    assert any(a.startswith("¥") and "," in a for a in amounts)


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_manifest_accounts_for_every_row(small_demo: Demo, kind: str) -> None:
    for f in small_demo.of_kind(kind):
        ledger = small_demo.ledger(f.path.name)
        header, rows = read_table(f.path)
        assert len(rows) == f.rows == ledger["rows"]
        key_idx = [header.index(k) for k in KEYS[kind]]

        totals = [i for i, r in enumerate(rows) if r[0] == "合计"]
        seen: dict[tuple[object, ...], tuple[object, ...]] = {}
        repeats: set[int] = set()
        for i, r in enumerate(rows):
            if i in totals:
                continue
            key = tuple(r[k] for k in key_idx)
            if key in seen:
                assert seen[key] == tuple(r), f"{f.path.name} row {i + 1}: same key, different content"
                repeats.add(i)
            seen[key] = tuple(r)

        bad: dict[int, tuple[str, str]] = {}
        for i, r in enumerate(rows):
            if i in totals or i in repeats:
                continue
            for col, typ in REQUIRED.get(kind, {}).items():
                value = r[header.index(col)]
                ok = parse_date(value) is not None if typ == "date" else parse_money(value) is not None
                if not ok:
                    bad[i + 1] = (col, str(value))
        assert len(totals) == ledger["skipped"]
        assert len(repeats) == ledger["duplicates"]
        assert bad == {b["row"]: (b["column"], b["value"]) for b in ledger["bad_rows"]}
        assert len(bad) == ledger["quarantined"]
        assert ledger["expected_loaded"] == len(rows) - len(totals) - len(repeats) - len(bad)

        if "amount_total" in ledger:
            col = header.index("金额")
            total = sum(
                (parse_money(r[col]) or Decimal(0))
                for i, r in enumerate(rows)
                if i not in totals and i not in repeats and i + 1 not in bad
            )
            assert total == Decimal(ledger["amount_total"])


def test_dirt_is_present_in_the_amounts_documented(small_demo: Demo) -> None:
    sales = small_demo.ledger("sales_orders.csv")
    lines = sales["rows"] - sales["duplicates"]
    # About 0.3 % exact repeats and a handful of unreadable rows.
    assert 0.002 <= sales["duplicates"] / lines <= 0.004
    assert 3 <= sales["quarantined"] <= 10
    purchases = small_demo.ledger("purchases.xlsx")
    assert purchases["skipped"] == 1 and purchases["quarantined"] >= 1
    assert small_demo.manifest["value_maps"]["opportunities.状态"] == {"进行中": "open", "赢单": "won", "输单": "lost"}


def test_small_scale_writes_exactly_the_configured_order_lines(small_demo: Demo) -> None:
    cfg = SCALES["small"]
    assert 50_000 <= cfg.order_lines <= 80_000 and 2_000 <= cfg.customers <= 3_000 and cfg.products == 300
    (sales,) = small_demo.of_kind("sales")
    ledger = small_demo.ledger(sales.path.name)
    assert ledger["rows"] - ledger["duplicates"] == cfg.order_lines
    _, customers = read_table(small_demo.dir / "customers.xlsx")
    second_codes = len(small_demo.manifest["customers"]["second_codes"])
    assert len({r[0] for r in customers}) == cfg.customers + second_codes


@pytest.mark.parametrize("scale", ["medium", "large"])
def test_big_scales_split_sales_by_year_and_hit_their_line_count(tmp_path: Path, scale: str) -> None:
    assert SCALES["medium"].order_lines == 1_000_000 and SCALES["large"].order_lines == 10_000_000
    cfg = SCALES[scale].scaled(0.002 if scale == "medium" else 0.0004)
    files = generate(tmp_path, scale=cfg, seed=3, end=END)
    sales = [f for f in files if f.kind == "sales"]
    assert [f.path.name for f in sales] == [f"sales_orders_{y}.csv" for y in (2022, 2023, 2024, 2025)]
    written = 0
    for f in sales:
        ledger = next(x for x in _manifest(tmp_path)["files"] if x["file"] == f.path.name)
        written += ledger["rows"] - ledger["duplicates"]
        _, rows = read_table(f.path)
        years = {d.year for d in (parse_date(r[2]) for r in rows) if d}
        assert years == {int(f.path.stem[-4:])}
    assert written == cfg.order_lines == {"medium": 2_000, "large": 4_000}[scale]


def _manifest(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    return manifest


def test_same_seed_and_end_give_byte_identical_files(tmp_path: Path) -> None:
    cfg = dataclasses.replace(SCALES["medium"].scaled(0.003), customers=300)
    a = generate(tmp_path / "a", scale=cfg, seed=11, end=END)
    b = generate(tmp_path / "b", scale=cfg, seed=11, end=END)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "customers.xlsx" in names and "purchases.xlsx" in names and "manifest.json" in names
    for name in names:
        assert _sha(tmp_path / "a" / name) == _sha(tmp_path / "b" / name), name
    assert [(f.kind, f.rows) for f in a] == [(f.kind, f.rows) for f in b]
    c = generate(tmp_path / "c", scale=cfg, seed=12, end=END)
    assert _sha(c[3].path) != _sha(a[3].path)


def test_progress_hooks_see_the_whole_run(tmp_path: Path) -> None:
    events: list[tuple[str, float | None]] = []

    class Recorder:
        def start(self, task: str, total: float | None = None) -> None:
            events.append(("start", total))

        def advance(self, task: str, amount: float = 1.0) -> None:
            events.append(("advance", amount))

        def finish(self, task: str) -> None:
            events.append(("finish", None))

    generate(tmp_path, scale=SCALES["small"].scaled(0.02), seed=1, end=END, progress=Recorder())
    assert events[0][0] == "start" and events[-1] == ("finish", None)
    total = events[0][1]
    assert total == sum(a or 0 for kind, a in events if kind == "advance")


def test_period_and_bad_arguments() -> None:
    assert calendar.default_end(dt.date(2025, 11, 15)) == dt.date(2025, 10, 31)
    assert calendar.default_end(dt.date(2025, 1, 1)) == dt.date(2024, 12, 31)
    assert calendar.period(dt.date(2025, 10, 31)) == (dt.date(2022, 11, 1), dt.date(2025, 10, 31))
    assert calendar.period(dt.date(2027, 2, 28)) == (dt.date(2024, 3, 1), dt.date(2027, 2, 28))
    with pytest.raises(InputError, match="end date between"):
        calendar.period(dt.date(2035, 1, 31))
    with pytest.raises(InputError, match="unknown demo scale"):
        generate(Path("unused"), scale="huge")
