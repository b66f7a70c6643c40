"""Self-contained HTML reports: one file that opens offline (no scripts, no CDN), tables plus
inline SVG bar charts, so it can be mailed or archived as it is."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from salescope.i18n.numbers import format_money
from salescope.reports.excel import Section

_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Salescope report</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#1f2937}
table{border-collapse:collapse;margin:0.5rem 0 2rem}td,th{border:1px solid #d1d5db;padding:4px 8px}
th{background:#e8eef7;text-align:left}td.n{text-align:right}h2{margin-top:2rem}
</style></head><body>
<h1>Salescope 报告 / Report</h1><p>{{ subtitle }}</p>
{% for s in sections %}<h2>{{ s.title }}</h2>
{% if s.chart %}<svg width="720" height="{{ 24 * s.chart|length + 10 }}" role="img" aria-label="{{ s.title }}">
{% for label, width, text in s.chart %}<text x="0" y="{{ 24 * loop.index0 + 16 }}" font-size="12">{{ label }}</text>
<rect x="180" y="{{ 24 * loop.index0 + 4 }}" width="{{ width }}" height="16" fill="#5470c6"></rect>
<text x="{{ 186 + width }}" y="{{ 24 * loop.index0 + 16 }}" font-size="12">{{ text }}</text>{% endfor %}</svg>
{% endif %}
<table><tr>{% for c in s.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row in s.rows %}<tr>{% for v in row %}<td{% if v.numeric %} class="n"{% endif %}>{{ v.text }}</td>
{% endfor %}</tr>
{% endfor %}</table>{% endfor %}</body></html>
"""


def _fmt(value: Any, money: bool) -> dict[str, Any]:
    if value is None:
        return {"text": "", "numeric": False}
    if money and isinstance(value, Decimal | float | int):
        return {"text": format_money(Decimal(str(value)), locale="zh-CN"), "numeric": True}
    if isinstance(value, dt.date):
        return {"text": value.isoformat()[:10], "numeric": False}
    return {"text": str(value), "numeric": isinstance(value, Decimal | float | int)}


def _bars(section: Section) -> list[tuple[str, float, str]]:
    if not section.charts or not section.rows:
        return []
    spec = section.charts[0]
    col = spec.value_columns[0]
    values = [float(r[col] or 0) for r in section.rows]
    top = max((abs(v) for v in values), default=0.0) or 1.0
    money = col in section.money_columns
    out = []
    for r, v in zip(section.rows, values, strict=True):
        label = str(r[spec.category_column])[:24]
        text = format_money(Decimal(str(v)), locale="zh-CN") if money else f"{v:,.0f}"
        out.append((label, 480 * abs(v) / top, text))
    return out


def write_html(path: Path, sections: Sequence[Section], *, subtitle: str = "") -> Path:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    view = [
        {
            "title": s.title,
            "columns": s.columns,
            "rows": [[_fmt(v, j in s.money_columns) for j, v in enumerate(r)] for r in s.rows],
            "chart": _bars(s),
        }
        for s in sections
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(env.from_string(_TEMPLATE).render(sections=view, subtitle=subtitle), encoding="utf-8")
    return path
