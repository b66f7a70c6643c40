"""Every demo file other than the sales lines, each shaped like the system it would come from.

Customers come from a CRM as Excel with a title row; products from a GBK-encoded ERP export;
purchase orders as Excel with a 合计 row; stock, opportunities, surveys and targets as CSV.
Headers are the Chinese names those systems print, all of them known synonyms in
``schema.kinds``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from salescope.demo import catalog, crm, dirt, files, places, text
from salescope.demo.catalog import Catalog, Suppliers
from salescope.demo.population import Population
from salescope.demo.procurement import WAREHOUSES, PurchaseLines, StockSnapshots

CUSTOMER_HEADERS = (
    "客户编号",
    "客户名称",
    "客户类型",
    "联系电话",
    "邮箱",
    "地址",
    "城市",
    "省份",
    "区域",
    "所属行业",
    "统一社会信用代码",
    "业务员",
)
CUSTOMER_KINDS = {"company": "企业", "person": "个人"}
"""How the CRM spells the canonical customer kinds."""
PRODUCT_HEADERS = ("产品编码", "产品名称", "类别", "子类别", "成本价", "单价")
SUPPLIER_HEADERS = ("供应商编号", "供应商名称", "联系电话", "省份", "类别")
PURCHASE_HEADERS = (
    "采购单号",
    "行号",
    "采购日期",
    "供应商编号",
    "供应商名称",
    "产品编码",
    "产品名称",
    "数量",
    "单价",
    "金额",
    "约定交期",
    "到货日期",
    "到货数量",
    "不合格数量",
    "状态",
)
PURCHASE_STATUS = ("已入库", "部分到货", "在途")
INVENTORY_HEADERS = ("盘点日期", "产品编码", "产品名称", "仓库", "库存数量", "库存金额")
OPPORTUNITY_HEADERS = (
    "商机编号",
    "客户编号",
    "客户名称",
    "销售员",
    "产品编码",
    "创建日期",
    "阶段",
    "进入阶段日期",
    "商机金额",
    "预计成交日期",
    "成交日期",
    "状态",
    "输单原因",
    "线索来源",
)
FEEDBACK_HEADERS = ("反馈编号", "客户编号", "客户名称", "反馈日期", "问卷类型", "评分", "评价")
TARGET_HEADERS = ("月份", "范围", "指标", "目标金额")
TARGET_METRIC = "revenue"

BAD_ROWS = {"purchases": 3, "inventory": 3, "feedback": 3, "targets": 1}


def _day(start: dt.date, offset: int) -> dt.date:
    return start + dt.timedelta(days=int(offset))


def customers(path: Path, rng: np.random.Generator, pop: Population, end: dt.date) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "customers", "客户档案 / customer master")
    geo = places.geography()
    rows: list[list[object]] = []
    keys: list[str] = []
    for i in range(pop.n):
        prov = places.PROVINCES[pop.province[i]]
        base = [
            pop.phone[i],
            pop.email[i],
            pop.address[i],
            geo.cities[pop.city[i]].name,
            prov.name,
            prov.region,
            pop.industry[i],
            pop.tax_id[i],
            pop.salespeople[pop.salesperson[i]],
        ]
        kind = CUSTOMER_KINDS["company" if pop.company[i] else "person"]
        rows.append([pop.code[i], pop.slot_names[i][0], kind, *base])
        keys.append(pop.code[i])
        if pop.has_alt[i]:
            # The same company registered again later by another clerk: new code, bracketed name.
            rows.append([pop.alt_code[i], pop.slot_names[i][3], kind, *base])
            keys.append(pop.alt_code[i])
    order = np.argsort(np.asarray(keys), kind="stable")
    rows = [rows[i] for i in order]
    plan = files.plan_dirt(rng, ledger, len(rows), bad=0, spoils=(), year=end.year)
    rows = files.apply_to_rows(plan, CUSTOMER_HEADERS, rows)
    ledger.count("companies", int(pop.company.sum()))
    ledger.count("persons", int((~pop.company).sum()))
    ledger.count("companies_with_name_variants", int(pop.has_variants.sum()))
    ledger.count("companies_with_second_code", int(pop.has_alt.sum()))
    files.write_xlsx(
        path,
        sheet="客户档案",
        headers=CUSTOMER_HEADERS,
        rows=rows,
        created=end,
        title=f"客户档案导出 {end.isoformat()}",
        widths=(10, 30, 8, 16, 28, 44, 10, 16, 6, 10, 22, 8),
    )
    return ledger


def products(path: Path, rng: np.random.Generator, cat: Catalog, end: dt.date) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "products", "产品档案（GBK 编码）/ product master (GBK)")
    cols = [
        text.strings(cat.code),
        text.strings(cat.name),
        text.strings([catalog.CATEGORIES[c].name for c in cat.category]),
        text.strings(cat.item),
        text.money(cat.cost_cents),
        text.money(cat.price_cents),
    ]
    plan = files.plan_dirt(rng, ledger, len(cat.code), bad=0, spoils=(), year=end.year)
    files.write_csv(path, PRODUCT_HEADERS, files.apply_to_columns(plan, PRODUCT_HEADERS, cols), encoding="gbk")
    return ledger


def suppliers(path: Path, rng: np.random.Generator, sup: Suppliers, end: dt.date) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "suppliers", "供应商档案 / supplier master")
    cols = [
        text.strings(sup.code),
        text.strings(sup.name),
        text.strings(sup.phone),
        text.strings(sup.province),
        text.strings([catalog.CATEGORIES[c].name for c in sup.category]),
    ]
    plan = files.plan_dirt(rng, ledger, len(sup.code), bad=0, spoils=(), year=end.year)
    files.write_csv(path, SUPPLIER_HEADERS, files.apply_to_columns(plan, SUPPLIER_HEADERS, cols))
    return ledger


def _po_status(received_day: int, received_qty: int, quantity: int) -> str:
    if received_day < 0:
        return PURCHASE_STATUS[2]
    return PURCHASE_STATUS[1] if received_qty < quantity else PURCHASE_STATUS[0]


def purchases(
    path: Path,
    rng: np.random.Generator,
    po: PurchaseLines,
    cat: Catalog,
    sup: Suppliers,
    start: dt.date,
    end: dt.date,
) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "purchases", "采购订单明细（含合计行）/ purchase order lines (with totals row)")
    n = len(po.po_number)
    amount = po.quantity * po.price_cents
    text_date = rng.random(n) < 0.02
    text_amount = rng.random(n) < 0.02
    rows: list[list[object]] = []
    for i in range(n):
        ordered = _day(start, po.order_day[i])
        received = po.received_day[i]
        status = _po_status(int(received), int(po.received_qty[i]), int(po.quantity[i]))
        rows.append(
            [
                f"CG{ordered.year}{ordered.month:02d}-{po.po_number[i]:05d}",
                int(po.line_no[i]),
                f"{ordered.year}/{ordered.month}/{ordered.day}" if text_date[i] else ordered,
                sup.code[po.supplier[i]],
                sup.name[po.supplier[i]],
                cat.code[po.product[i]],
                cat.name[po.product[i]],
                int(po.quantity[i]),
                po.price_cents[i] / 100,
                f"¥{amount[i] / 100:,.2f}" if text_amount[i] else amount[i] / 100,
                _day(start, po.promised_day[i]),
                _day(start, received) if received >= 0 else None,
                int(po.received_qty[i]) if received >= 0 else None,
                int(po.rejected_qty[i]) if received >= 0 else None,
                status,
            ]
        )
    spoils = (
        files.Spoil("采购日期", "date", "impossible date"),
        files.Spoil("金额", "number", "unreadable amount (unit price blank)", also_blank=("单价",)),
    )
    plan = files.plan_dirt(rng, ledger, n, bad=BAD_ROWS["purchases"], spoils=spoils, year=end.year, amount_cents=amount)
    rows = files.apply_to_rows(plan, PURCHASE_HEADERS, rows)
    clean = np.ones(n, dtype=bool)
    clean[plan.rows] = False
    written = clean[plan.order]
    qty_total = int(po.quantity[plan.order].sum())
    amount_total = int(amount[plan.order][written].sum())
    totals: list[object] = ["合计", *[None] * 6, qty_total, None, amount_total / 100, *[None] * 5]
    ledger.rows += 1
    ledger.skipped += 1
    ledger.count("dates_as_text", int(text_date.sum()))
    ledger.count("amounts_as_text", int(text_amount.sum()))
    ledger.count("in_transit_lines", int((po.received_day < 0).sum()))
    files.write_xlsx(
        path,
        sheet="采购明细",
        headers=PURCHASE_HEADERS,
        rows=rows,
        created=end,
        totals=totals,
        widths=(18, 6, 12, 10, 26, 10, 30, 8, 10, 14, 12, 12, 10, 10, 8),
    )
    return ledger


def inventory(
    path: Path, rng: np.random.Generator, stock: StockSnapshots, cat: Catalog, start: dt.date, end: dt.date
) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "inventory", "月末库存快照 / month-end stock snapshots")
    cols = [
        text.dates(stock.day, start),
        text.strings(cat.code).take(pa.array(stock.product)),
        text.strings(cat.name).take(pa.array(stock.product)),
        text.strings(list(WAREHOUSES)).take(pa.array(stock.warehouse)),
        text.ints(stock.quantity),
        text.money(stock.value_cents),
    ]
    spoils = (
        files.Spoil("盘点日期", "date", "impossible date"),
        files.Spoil("库存数量", "number", "unreadable quantity"),
    )
    plan = files.plan_dirt(rng, ledger, len(stock.day), bad=BAD_ROWS["inventory"], spoils=spoils, year=end.year)
    files.write_csv(
        path, INVENTORY_HEADERS, files.apply_to_columns(plan, INVENTORY_HEADERS, cols), encoding="utf-8", eol="\n"
    )
    return ledger


def _customer_columns(pop: Population, customer: np.ndarray) -> tuple[pa.Array, pa.Array]:
    return text.strings(pop.code).take(pa.array(customer)), text.strings([s[0] for s in pop.slot_names]).take(
        pa.array(customer)
    )


def _optional_dates(days: np.ndarray, start: dt.date) -> pa.Array:
    return text.patch(text.dates(np.maximum(days, 0), start), np.flatnonzero(days < 0), [""] * int((days < 0).sum()))


def opportunities(
    path: Path,
    rng: np.random.Generator,
    opp: crm.Opportunities,
    pop: Population,
    cat: Catalog,
    start: dt.date,
    end: dt.date,
) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "opportunities", "CRM 商机 / CRM opportunities")
    n = len(opp.customer)
    code, name = _customer_columns(pop, opp.customer)
    created_year = (np.datetime64(start, "D") + opp.created).astype("datetime64[Y]").astype(np.int64) + 1970
    cols = [
        text.join("SJ", text.ints(created_year), text.ints(np.arange(1, n + 1), 5)),
        code,
        name,
        text.strings(pop.salespeople).take(pa.array(pop.salesperson[opp.customer])),
        text.strings(cat.code).take(pa.array(opp.product)),
        text.dates(opp.created, start),
        text.strings(opp.stage),
        text.dates(opp.stage_entered, start),
        text.money(opp.amount_cents),
        text.dates(opp.expected_close, start),
        _optional_dates(opp.close_day, start),
        text.strings(opp.status),
        text.strings(opp.lost_reason),
        text.strings(opp.source),
    ]
    plan = files.plan_dirt(rng, ledger, n, bad=0, spoils=(), year=end.year)
    files.write_csv(path, OPPORTUNITY_HEADERS, files.apply_to_columns(plan, OPPORTUNITY_HEADERS, cols))
    for status in crm.STATUS.values():
        ledger.count(f"status_{status}", sum(s == status for s in opp.status))
    return ledger


def feedback(
    path: Path, rng: np.random.Generator, fb: crm.Feedback, pop: Population, start: dt.date, end: dt.date
) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "feedback", "满意度调查 NPS/CSAT / satisfaction surveys")
    n = len(fb.customer)
    code, name = _customer_columns(pop, fb.customer)
    cols = [
        text.join("FB", text.ints(np.arange(1, n + 1), 7)),
        code,
        name,
        text.dates(fb.day, start),
        text.strings(fb.kind),
        text.ints(fb.score),
        text.strings(fb.comment),
    ]
    spoils = (
        files.Spoil("反馈日期", "date", "impossible date"),
        files.Spoil("评分", "number", "unreadable score"),
    )
    plan = files.plan_dirt(rng, ledger, n, bad=BAD_ROWS["feedback"], spoils=spoils, year=end.year)
    files.write_csv(path, FEEDBACK_HEADERS, files.apply_to_columns(plan, FEEDBACK_HEADERS, cols))
    for kind in crm.SURVEY_KINDS.values():
        ledger.count(f"kind_{kind}", sum(k == kind for k in fb.kind))
    return ledger


def targets(
    path: Path,
    rng: np.random.Generator,
    per_salesperson: np.ndarray,
    total: np.ndarray,
    pop: Population,
    start: dt.date,
    end: dt.date,
) -> dirt.Ledger:
    ledger = dirt.Ledger(path.name, "targets", "月度销售目标 / monthly revenue targets")
    n_sp, n_months = per_salesperson.shape
    first = dt.date(start.year, start.month, 1)
    periods = []
    for k in range(n_months):
        y, m = divmod(first.month - 1 + k, 12)
        periods.append(f"{first.year + y}-{m + 1:02d}")
    period_col: list[str] = []
    scope_col: list[str] = []
    cents: list[int] = []
    for k, period in enumerate(periods):
        period_col.append(period)
        scope_col.append("total")
        cents.append(int(total[k]))
        for s in range(n_sp):
            period_col.append(period)
            scope_col.append(f"salesperson={pop.salespeople[s]}")
            cents.append(int(per_salesperson[s, k]))
    cols = [
        text.strings(period_col),
        text.strings(scope_col),
        text.strings([TARGET_METRIC] * len(period_col)),
        text.money(np.asarray(cents)),
    ]
    spoils = (files.Spoil("目标金额", "number", "unreadable target"),)
    plan = files.plan_dirt(rng, ledger, len(period_col), bad=BAD_ROWS["targets"], spoils=spoils, year=end.year)
    files.write_csv(path, TARGET_HEADERS, files.apply_to_columns(plan, TARGET_HEADERS, cols))
    return ledger
