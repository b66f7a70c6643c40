"""Writing demo tables as the files people actually receive: CSV in several encodings, Excel sheets.

A table is planned once for dirt — exact repeated rows, a few unreadable values — and the same
plan applies to Arrow text columns (CSV) or Python rows (Excel). Workbooks pin their document
timestamp, so the same seed and end date give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import xlsxwriter

from salescope.demo import dirt, text


@dataclass(frozen=True)
class Spoil:
    """How to spoil a row: an impossible date or an unreadable number in ``header``."""

    header: str
    how: str
    reason: str
    also_blank: tuple[str, ...] = ()


@dataclass(frozen=True)
class DirtPlan:
    rows: np.ndarray
    """Original row indices that get a bad value."""
    spoils: tuple[Spoil, ...]
    values: tuple[str, ...]
    order: np.ndarray
    """Row order to write: every row once, repeated rows twice in a row."""


def plan_dirt(
    rng: np.random.Generator,
    ledger: dirt.Ledger,
    n: int,
    *,
    bad: int,
    spoils: Sequence[Spoil],
    year: int,
    amount_cents: np.ndarray | None = None,
    row_offset: int = 0,
) -> DirtPlan:
    """Choose the spoilt and repeated rows of a table and write them into its ledger."""
    rows = dirt.pick_rows(rng, n, bad if spoils else 0)
    repeats = dirt.pick_rows(rng, n, dirt.duplicate_count(n), exclude=rows)
    chosen = tuple(spoils[j % len(spoils)] for j in range(len(rows)))
    values = tuple(dirt.impossible_date(rng, year) if s.how == "date" else dirt.unreadable(rng) for s in chosen)
    position = row_offset + dirt.final_position(rows, repeats) + 1
    for s, value, pos in zip(chosen, values, position, strict=True):
        ledger.bad_rows.append({"row": int(pos), "column": s.header, "value": value, "reason": s.reason})
    order = dirt.with_repeats(n, repeats)
    ledger.rows += len(order)
    ledger.duplicates += len(repeats)
    ledger.quarantined += len(rows)
    if amount_cents is not None:
        clean = np.ones(n, dtype=bool)
        clean[rows] = False
        ledger.add_amount(int(np.asarray(amount_cents)[clean].sum()))
    return DirtPlan(rows, chosen, values, order)


def apply_to_columns(plan: DirtPlan, headers: Sequence[str], columns: list[pa.Array]) -> list[pa.Array]:
    out = list(columns)
    for row, s, value in zip(plan.rows, plan.spoils, plan.values, strict=True):
        k = headers.index(s.header)
        out[k] = text.patch(out[k], np.array([row]), [value])
        for other in s.also_blank:
            j = headers.index(other)
            out[j] = text.patch(out[j], np.array([row]), [""])
    return [c.take(pa.array(plan.order)) for c in out]


def apply_to_rows(plan: DirtPlan, headers: Sequence[str], rows: list[list[object]]) -> list[list[object]]:
    for row, s, value in zip(plan.rows, plan.spoils, plan.values, strict=True):
        rows[row][headers.index(s.header)] = value
        for other in s.also_blank:
            rows[row][headers.index(other)] = None
    return [rows[i] for i in plan.order]


def write_csv(
    path: Path, headers: Sequence[str], columns: list[pa.Array], *, encoding: str = "utf-8-sig", eol: str = "\r\n"
) -> None:
    body = text.csv_lines(columns, eol=eol)
    header = ",".join(headers) + eol
    if encoding == "utf-8-sig":
        data = "\ufeff".encode() + header.encode() + body
    elif encoding == "utf-8":
        data = header.encode() + body
    else:
        # A GBK export: every character the demo uses exists in GBK, so a failure here is a bug.
        data = (header + body.decode()).encode(encoding)
    path.write_bytes(data)


def write_xlsx(
    path: Path,
    *,
    sheet: str,
    headers: Sequence[str],
    rows: list[list[object]],
    created: dt.date,
    title: str | None = None,
    totals: list[object] | None = None,
    widths: Sequence[int] = (),
) -> None:
    """One sheet: optional merged title row, a bold header, the rows, an optional totals row.

    Dates are written as real Excel dates and numbers as numbers, as an ERP's Excel export
    does; strings stay strings even when they look numeric (codes, phones).
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": len(rows) > 50_000, "strings_to_numbers": False})
    wb.set_properties(
        {"author": "ERP", "company": "演示科技有限公司", "created": dt.datetime.combine(created, dt.time(18, 0))}
    )
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money_fmt = wb.add_format({"num_format": "#,##0.00"})
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    r = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title, wb.add_format({"bold": True, "font_size": 14}))
        r = 1
    ws.write_row(r, 0, list(headers), bold)
    for values in [*rows, *([totals] if totals else [])]:
        r += 1
        for c, v in enumerate(values):
            if v is None or v == "":
                continue
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date_fmt)
            elif isinstance(v, float):
                ws.write_number(r, c, v, money_fmt)
            elif isinstance(v, int):
                ws.write_number(r, c, v)
            else:
                ws.write_string(r, c, str(v))
    wb.close()
