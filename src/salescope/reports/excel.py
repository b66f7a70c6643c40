"""Excel reports with native charts, written by XlsxWriter.

Sections arrive as plain rows from services (already filtered for the user's role);
this module only lays them out, so the same report code serves CLI, web and schedules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import xlsxwriter

from salescope.reports.safety import neutralise

ChartKind = Literal["line", "column", "pie", "bar"]


@dataclass
class Chart:
    kind: ChartKind
    title: str
    category_column: int
    value_columns: Sequence[int]


@dataclass
class Section:
    """One worksheet: a title, a header row, data rows and optional charts over its columns."""

    name: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    money_columns: Sequence[int] = ()
    percent_columns: Sequence[int] = ()
    charts: Sequence[Chart] = field(default_factory=tuple)


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(value)


def write_workbook(path: Path, sections: Sequence[Section], *, subtitle: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "default_date_format": "yyyy-mm-dd"},
    )
    title_fmt = wb.add_format({"bold": True, "font_size": 14})
    head_fmt = wb.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    money_fmt = wb.add_format({"num_format": "¥#,##0.00"})
    pct_fmt = wb.add_format({"num_format": "0.0%"})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for section in sections:
        ws = wb.add_worksheet(section.name[:31])
        ws.write(0, 0, section.title, title_fmt)
        if subtitle:
            ws.write(1, 0, subtitle)
        header_row = 3
        for j, col in enumerate(section.columns):
            ws.write(header_row, j, _cell(col), head_fmt)
            width = max([len(str(col))] + [len(str(r[j])) for r in section.rows[:200]]) + 2
            ws.set_column(j, j, min(max(width, 10), 48))
        for i, row in enumerate(section.rows, start=header_row + 1):
            for j, value in enumerate(row):
                fmt = None
                if j in section.money_columns:
                    fmt = money_fmt
                elif j in section.percent_columns:
                    fmt = pct_fmt
                elif isinstance(value, dt.date):
                    fmt = date_fmt
                if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                    ws.write_datetime(i, j, dt.datetime.combine(value, dt.time()), fmt)
                elif value is None:
                    ws.write_blank(i, j, None, fmt)
                else:
                    ws.write(i, j, _cell(value), fmt)
        if section.rows:
            ws.autofilter(header_row, 0, header_row + len(section.rows), len(section.columns) - 1)
            ws.freeze_panes(header_row + 1, 0)
        last = header_row + len(section.rows)
        for k, chart_spec in enumerate(section.charts):
            if not section.rows:
                break
            chart = wb.add_chart({"type": chart_spec.kind})
            cat = chart_spec.category_column
            for vc in chart_spec.value_columns:
                chart.add_series(
                    {
                        "name": [ws.name, header_row, vc],
                        "categories": [ws.name, header_row + 1, cat, last, cat],
                        "values": [ws.name, header_row + 1, vc, last, vc],
                    }
                )
            chart.set_title({"name": chart_spec.title})
            chart.set_size({"width": 720, "height": 360})
            ws.insert_chart(header_row, len(section.columns) + 1, chart, {"y_offset": 380 * k})
    wb.close()
    return path
