"""`salescope report`: the workspace's headline analyses as an Excel workbook (with charts) or HTML page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import ibis

from salescope.errors import InputError
from salescope.reports.excel import Chart, Section, write_workbook
from salescope.reports.html import write_html
from salescope.services.summary import summary
from salescope.services.workspace import Workspace


def _monthly_revenue(ws: Workspace) -> list[list[Any]]:
    wh = ws.warehouse
    s = wh.table("sales")
    month = s.order_date.truncate("M")
    expr = (
        s.group_by(month=month)
        .aggregate(revenue=s.amount.sum(), orders=s.order_id.nunique(), customers=s.customer_id.nunique())
        .order_by("month")
    )
    return [[r["month"], r["revenue"], r["orders"], r["customers"]] for r in wh.to_arrow(expr).to_pylist()]


def _top_customers(ws: Workspace, limit: int = 200) -> list[list[Any]]:
    wh = ws.warehouse
    sc = wh.table("customer_scores")
    cu = wh.table("customers")
    j = sc.left_join(cu, sc.customer_id == cu.customer_id)
    expr = (
        j.select(
            sc.customer_id,
            name=cu.name,
            salesperson=cu.salesperson,
            segment_zh=sc.segment_zh,
            segment_en=sc.segment_en,
            recency_days=sc.recency_days,
            frequency=sc.frequency,
            monetary=sc.monetary,
            rfm_code=sc.rfm_code,
        )
        .order_by(ibis.desc("monetary"))
        .limit(limit)
    )
    return [list(r.values()) for r in wh.to_arrow(expr).to_pylist()]


def build_sections(ws: Workspace) -> list[Section]:
    s = summary(ws)
    overview_rows: list[list[Any]] = [
        ["销售额 Revenue", s["revenue"]],
        ["订单数 Orders", s["orders"]],
        ["订单行 Order lines", s["order_lines"]],
        ["客户数 Customers", s["customers"]],
        ["客单价 Average order value", (s["revenue"] / s["orders"]) if s["orders"] else None],
        ["首单日期 First order", s["first_date"]],
        ["末单日期 Last order", s["last_date"]],
    ]
    segments = [[r["segment_zh"], r["segment_en"], r["customers"], r["revenue"]] for r in s["segments"]]
    return [
        Section("概览 Overview", "销售概览 Sales overview", ["指标 Metric", "值 Value"], overview_rows),
        Section(
            "月度 Monthly",
            "月度销售 Monthly revenue",
            ["月份 Month", "销售额 Revenue", "订单数 Orders", "客户数 Customers"],
            _monthly_revenue(ws),
            money_columns=(1,),
            charts=(Chart("line", "月度销售额 Monthly revenue", 0, (1,)),),
        ),
        Section(
            "客户分群 Segments",
            "RFM 客户分群 RFM segments",
            ["分群", "Segment", "客户数 Customers", "销售额 Revenue"],
            segments,
            money_columns=(3,),
            charts=(Chart("pie", "客户分群 Segments", 0, (2,)),),
        ),
        Section(
            "重点客户 Top customers",
            "重点客户 Top customers by value",
            ["客户编号 ID", "客户名称 Name", "销售员 Salesperson", "分群", "Segment", "R (天 days)", "F", "M", "RFM"],
            _top_customers(ws),
            money_columns=(7,),
        ),
    ]


def write_report(ws: Workspace, out: Path) -> Path:
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".html", ".htm"):
        raise InputError("the report format is not supported", file=str(out), expected="a .xlsx or .html file name")
    sections = build_sections(ws)
    subtitle = f"Salescope · {ws.root} · {dt.datetime.now():%Y-%m-%d %H:%M}"
    if suffix == ".xlsx":
        return write_workbook(out, sections, subtitle=subtitle)
    return write_html(out, sections, subtitle=subtitle)
