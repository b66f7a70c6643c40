"""Raw chunks to typed staged rows: every value parsed, every row given a bucket or a field set.

The staged table carries, per data row: its ``source_row``, the raw cells ``c0..cN``
(so a quarantined row can be exported exactly as it came), the parsed fields of the
kind, and — for rows that cannot load — ``bucket`` (quarantined | skipped) with the
column, value and reason. Rows left without a bucket go on to the set-based checks
(duplicates, conflicts) in the warehouse.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salescope.ingest import dates, numbers
from salescope.ingest.mapping import ColumnMap
from salescope.ingest.phones import phone_array
from salescope.ingest.readers import RawChunk
from salescope.ingest.text import clean_array, to_text
from salescope.schema.kinds import KINDS

# Totals rows: a Chinese marker may lead a longer cell (合计：, 总计(元)); an English one must be the whole cell.
_TOTALS = (
    r"(?i)^\s*(?:(?:合\s*计|总\s*计|小\s*计|共\s*计|总合计|本页合计|本页小计|累\s*计).*"
    r"|(?:grand\s*)?(?:sub-?\s*)?totals?\s*[:：]?|sum\s*[:：]?)\s*$"
)


_WON = re.compile(r"(?i)^(won|closed\s*won|win|赢单|成交|已成交|签约|已签约|赢)$")
_LOST = re.compile(r"(?i)^(lost|closed\s*lost|lose|输单|丢单|失败|已丢单|流失)$")


@dataclass
class Plan:
    """Decisions made once per file: the mapping, each date column's day order, and running notes."""

    cmap: ColumnMap
    file_tag: str
    day_order: dict[str, dates.DayOrder] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.cmap.kind


def plan(cmap: ColumnMap, first: RawChunk, file_tag: str) -> Plan:
    """Decide per date column whether 03/05/2024 is March or May, from that column's own values."""
    p = Plan(cmap, file_tag)
    kind = KINDS[cmap.kind]
    for f in kind.fields:
        if f.type != "date" or f.name not in cmap.fields:
            continue
        col = first.table.column(cmap.fields[f.name])
        if not pa.types.is_string(col.type):
            continue
        evidence = dates.day_order_evidence(col)
        p.day_order[f.name] = evidence.order
        header = cmap.header_of(f.name)
        if evidence.month_first and evidence.day_first:
            p.notes.append(
                f"column {header!r} mixes month-first and day-first dates; read as "
                f"{'day/month' if evidence.order == 'dmy' else 'month/day'}/year (the majority)"
            )
        elif evidence.day_first:
            p.notes.append(f"column {header!r} read as day/month/year (values like 13/5 show the day comes first)")
    return p


class _Rows:
    """Per-row outcomes for one chunk: the first problem found in a row wins.

    Outcomes are rare, so they live in a dict by position and a boolean mask; a clean
    chunk of a million rows never builds a Python object per row.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.flagged = np.zeros(n, bool)
        self.skipped = np.zeros(n, bool)
        self.outcome: dict[int, tuple[str, str | None, str | None, str]] = {}

    def set(self, i: int, bucket: str, column: str | None, value: object, reason: str) -> None:
        if not self.flagged[i]:
            self.flagged[i] = True
            self.skipped[i] = bucket == "skipped"
            self.outcome[i] = (bucket, column, None if value is None else str(value), reason)

    def flag(self, mask: np.ndarray, bucket: str, column: str | None, values: list[Any] | None, reason: str) -> None:
        for i in np.flatnonzero(mask & ~self.flagged):
            self.set(int(i), bucket, column, values[i] if values is not None else None, reason)

    def open_mask(self) -> np.ndarray:
        return ~self.flagged

    def columns(self) -> dict[str, pa.Array]:
        """The meta columns of the staged table (all null when nothing was flagged)."""
        if not self.outcome:
            return {name: pa.nulls(self.n, pa.string()) for name in ("_bucket", "_column", "_value", "_reason")}
        parts: list[list[str | None]] = [[None] * self.n for _ in range(4)]
        for i, outcome in self.outcome.items():
            for part, item in zip(parts, outcome, strict=True):
                part[i] = item
        return {
            name: pa.array(part, pa.string())
            for name, part in zip(("_bucket", "_column", "_value", "_reason"), parts, strict=True)
        }


def _text_col(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return clean_array(values)


def _code_col(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Codes (order ids, SKUs, customer ids): text, with Excel's ``17850.0`` restored to ``17850``."""
    out = _text_col(values)
    if not pc.any(pc.match_substring(out, ".0")).as_py():
        return out
    return pc.replace_substring_regex(out, r"^(\d+)\.0+$", r"\1")


def parse_chunk(p: Plan, chunk: RawChunk) -> pa.Table:
    """One raw chunk to the staged rows of the plan's kind (see the module docstring)."""
    table = chunk.table
    n = table.num_rows
    rows = _Rows(n)
    cmap = p.cmap
    kind = KINDS[p.kind]

    raw_cells = [_as_string(table.column(i)) for i in range(table.num_columns)]
    blanks = [_blank_mask(c) for c in raw_cells]
    blank = np.logical_and.reduce(blanks) if blanks else np.ones(n, bool)
    rows.flag(blank, "skipped", None, None, "blank row")
    for i, cell in _totals(raw_cells, blanks):
        rows.set(i, "skipped", None, cell, f"totals row ({cell})")
        p.counts["totals"] += 1

    out: dict[str, pa.Array] = {}
    for f in kind.fields:
        if f.name not in cmap.fields:
            continue
        pos = cmap.fields[f.name]
        header = cmap.headers[pos]
        col = table.column(pos)
        if f.type == "date":
            parsed = dates.parse_date_array(col, p.day_order.get(f.name, "mdy"))
            out[f.name] = parsed.values
            _flag_bad(rows, parsed.bad, header, col, dates.EXPECTED)
        elif f.type in ("money", "decimal"):
            parsed = numbers.parse_decimal_array(col, "money" if f.type == "money" else "decimal")
            out[f.name] = parsed.values
            _flag_bad(rows, parsed.bad, header, col, numbers.EXPECTED[f.type])
        elif f.type == "int":
            parsed = numbers.parse_int_array(col)
            out[f.name] = parsed.values
            _flag_bad(rows, parsed.bad, header, col, "a whole number such as 1, 2, 3")
        elif f.name == "phone":
            phones, _bad = phone_array(col)
            out[f.name] = phones
        elif f.name in (
            "order_id",
            "po_id",
            "opportunity_id",
            "feedback_id",
            "customer_code",
            "product_code",
            "supplier_code",
        ):
            out[f.name] = _code_col(col)
        else:
            out[f.name] = _text_col(col)

    shaped = _shape(p, out, rows, n, chunk)
    not_skipped = ~rows.skipped
    # Skipped rows carry no parsed values: a totals row must not feed identities or products.
    for name, arr in list(shaped.items()):
        if not not_skipped.all():
            shaped[name] = pc.if_else(pa.array(not_skipped), arr, pa.scalar(None, arr.type))

    cols: dict[str, pa.Array] = {
        "source_row": chunk.source_row,
        **rows.columns(),
        "_raw": _raw_json(raw_cells, cmap.headers, rows),
    }
    cols.update(shaped)
    staged = pa.table(cols)
    if chunk.broken:
        staged = pa.concat_tables([staged, _broken_rows(staged.schema, chunk.broken)])
    return staged


def _as_string(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    return to_text(values)


def _blank_mask(values: pa.Array) -> np.ndarray:
    """Empty, whitespace-only or null cells (no string is copied: these kernels only read)."""
    blank = pc.or_kleene(pc.equal(values, ""), pc.utf8_is_space(values))
    return np.asarray(pc.fill_null(blank, True).to_numpy(zero_copy_only=False))


def _totals(cells: list[pa.Array], blanks: list[np.ndarray]) -> list[tuple[int, str]]:
    """Rows whose first non-blank cell is a totals marker (合计, 小计, Total ...), with that cell."""
    found: list[tuple[int, str]] = []
    if not cells:
        return found
    todo = np.arange(len(cells[0]))
    for cell, blank in zip(cells, blanks, strict=True):
        if len(todo) == 0:
            break
        here = todo[~blank[todo]]
        if len(here):
            values = cell.take(pa.array(here))
            hit = np.asarray(
                pc.fill_null(pc.match_substring_regex(values, _TOTALS), False).to_numpy(zero_copy_only=False)
            )
            if hit.any():
                texts = values.filter(pa.array(hit)).to_pylist()
                found += [(int(i), str(t).strip()) for i, t in zip(here[hit], texts, strict=True)]
        todo = todo[blank[todo]]
    return found


def _raw_json(cells: list[pa.Array], headers: list[str], rows: _Rows) -> pa.Array:
    """The source row as JSON, kept only for rows that will not load (the quarantine shows them as they came)."""
    flagged = sorted(rows.outcome)
    if not flagged:
        return pa.nulls(rows.n, pa.string())
    out: list[str | None] = [None] * rows.n
    idx = pa.array(flagged)
    columns = [c.take(idx).to_pylist() for c in cells]
    for k, i in enumerate(flagged):
        out[i] = json.dumps({h: col[k] for h, col in zip(headers, columns, strict=True)}, ensure_ascii=False)
    return pa.array(out, pa.string())


def _flag_bad(rows: _Rows, bad: np.ndarray, header: str, col: pa.ChunkedArray | pa.Array, expected: str) -> None:
    if not bad.any():
        return
    idx = np.flatnonzero(bad)
    values = col.take(pa.array(idx)).to_pylist()
    for i, v in zip(idx, values, strict=True):
        rows.set(int(i), "quarantined", header, v, f"column {header!r} has {v!r}: expected {expected}")


def _require(rows: _Rows, present: pa.Array, label: str, header: str | None) -> None:
    missing = np.asarray(pc.invert(pc.is_valid(present)).to_numpy(zero_copy_only=False))
    where = f"column {header!r} is empty" if header else "no column gives it"
    rows.flag(missing, "quarantined", header, None, f"missing {label}: {where}")


def _synth_ids(p: Plan, prefix: str, source_row: pa.Array) -> pa.Array:
    """Ids for files without an id column: stable per file and row, so re-importing finds them again."""
    tag = pa.scalar(f"{prefix}{p.file_tag}-")
    return pc.binary_join_element_wise(tag, pc.cast(source_row, pa.string()), "")


def _null(n: int, type_: pa.DataType) -> pa.Array:
    return pa.nulls(n, type_)


def _shape(p: Plan, out: dict[str, pa.Array], rows: _Rows, n: int, chunk: RawChunk) -> dict[str, pa.Array]:
    """Kind-specific fields: computed amounts, derived statuses, synthesised ids, required checks."""
    cmap = p.cmap

    def header(name: str) -> str | None:
        return cmap.header_of(name) if cmap.has(name) else None

    kind = p.kind
    if kind in ("sales", "purchases"):
        id_field = "order_id" if kind == "sales" else "po_id"
        if cmap.has(id_field):
            _require(rows, out[id_field], "order id" if kind == "sales" else "purchase order id", header(id_field))
        else:
            out[id_field] = _synth_ids(p, "R" if kind == "sales" else "PO", chunk.source_row)
        _require(rows, out["order_date"], "order date", header("order_date"))
        _amounts(p, out, rows, n)
        if kind == "sales":
            _sales_cost(p, out)
    elif kind == "inventory":
        _require(rows, out["snapshot_date"], "snapshot date", header("snapshot_date"))
        _require(rows, out["on_hand_qty"], "quantity on hand", header("on_hand_qty"))
    elif kind == "opportunities":
        _require(rows, out["opportunity_id"], "opportunity id", header("opportunity_id"))
        out["status"] = _opportunity_status(out, n)
    elif kind == "feedback":
        _require(rows, out["date"], "date", header("date"))
        _require(rows, out["score"], "score", header("score"))
        if not cmap.has("feedback_id"):
            out["feedback_id"] = _synth_ids(p, "F", chunk.source_row)
        else:
            _require(rows, out["feedback_id"], "feedback id", header("feedback_id"))
        out["kind"] = _feedback_kind(p, out, rows, n)
    elif kind == "targets":
        out["period"] = _periods(out["period"], rows, header("period") or "period")
        _require(rows, out["value"], "target value", header("value"))
        out["scope"] = _scopes(out, n)
        if "metric" not in out:
            out["metric"] = pa.array(["revenue"] * n, pa.string())
        else:
            out["metric"] = pc.coalesce(out["metric"], pa.scalar("revenue"))
    elif kind in ("customers",):
        _require_any(rows, out, ("customer_code", "customer_name"), cmap, "customer code or name")
    elif kind == "products":
        _require_any(rows, out, ("product_code", "product_name"), cmap, "product code or name")
    elif kind == "suppliers":
        _require_any(rows, out, ("supplier_code", "supplier_name"), cmap, "supplier code or name")
    if kind == "purchases":
        _require_any(rows, out, ("supplier_code", "supplier_name"), cmap, "supplier")
    return out


def _require_any(rows: _Rows, out: dict[str, pa.Array], names: tuple[str, ...], cmap: ColumnMap, label: str) -> None:
    present = [out[nm] for nm in names if nm in out]
    if not present:
        return
    any_present = pc.coalesce(*present) if len(present) > 1 else present[0]
    headers = " / ".join(repr(cmap.header_of(nm)) for nm in names if cmap.has(nm))
    missing = np.asarray(pc.is_null(any_present).to_numpy(zero_copy_only=False))
    rows.flag(missing, "quarantined", None, None, f"missing {label}: {headers} empty")


def _amounts(p: Plan, out: dict[str, pa.Array], rows: _Rows, n: int) -> None:
    """Amount as given, else quantity x unit price (noted); neither means the row cannot load."""
    dec = numbers.DECIMAL_TYPE
    amount = out.get("amount", _null(n, dec))
    price = out.get("unit_price")
    qty = out.get("quantity")
    if price is not None:
        factor = qty if qty is not None else pa.array([1] * n, dec)
        computed = pc.cast(pc.round(pc.multiply(factor, price), numbers.SCALE), dec)
        fill = pc.and_(pc.is_null(amount), pc.is_valid(computed))
        open_rows = pa.array(rows.open_mask())
        filled = int(pc.sum(pc.and_(fill, open_rows)).as_py() or 0)
        if filled:
            p.counts["amount_computed"] += filled
            if qty is None:
                p.counts["quantity_assumed_one"] += filled
        amount = pc.if_else(fill, computed, amount)
    out["amount"] = amount
    header = p.cmap.header_of("amount") if p.cmap.has("amount") else None
    missing = np.asarray(pc.is_null(amount).to_numpy(zero_copy_only=False))
    hint = "; quantity and unit price are needed to compute it" if price is not None else ""
    where = f"column {header!r} is empty" if header else "no amount column"
    rows.flag(missing, "quarantined", header, None, f"missing amount: {where}{hint}")


def _sales_cost(p: Plan, out: dict[str, pa.Array]) -> None:
    """Superstore-style files give profit, not cost: cost = amount - profit."""
    if "cost" in out or "profit" not in out:
        out.pop("profit", None)
        return
    profit = out.pop("profit")
    out["cost"] = pc.cast(pc.subtract(out["amount"], profit), numbers.DECIMAL_TYPE)
    p.counts["cost_from_profit"] += int(pc.sum(pc.is_valid(out["cost"])).as_py() or 0)


def _opportunity_status(out: dict[str, pa.Array], n: int) -> pa.Array:
    stage = out.get("stage")
    status = out.get("status")
    values: list[str] = []
    st = status.to_pylist() if status is not None else [None] * n
    sg = stage.to_pylist() if stage is not None else [None] * n
    for s, g in zip(st, sg, strict=True):
        text = s or g or ""
        if _WON.match(text.strip()):
            values.append("won")
        elif _LOST.match(text.strip()):
            values.append("lost")
        else:
            values.append("open")
    return pa.array(values, pa.string())


_KIND_WORDS = {"nps": "nps", "净推荐值": "nps", "csat": "csat", "满意度": "csat", "ces": "ces", "费力度": "ces"}


def _feedback_kind(p: Plan, out: dict[str, pa.Array], rows: _Rows, n: int) -> pa.Array:
    """nps | csat | ces from the kind column, else from the score scale (0-10 is NPS, 1-5 CSAT)."""
    given = out.get("kind")
    scores = out["score"]
    top = pc.max(scores).as_py()
    default = "nps" if top is not None and top > 7 else "csat"
    values = []
    for v in given.to_pylist() if given is not None else [None] * n:
        key = (v or "").strip().casefold()
        values.append(_KIND_WORDS.get(key, default if not key else None))
    arr = pa.array(values, pa.string())
    if given is not None:
        bad = np.asarray(pc.and_(pc.is_valid(given), pc.is_null(arr)).to_numpy(zero_copy_only=False))
        header = p.cmap.header_of("kind")
        rows.flag(bad, "quarantined", header, given.to_pylist(), f"column {header!r}: expected NPS, CSAT or CES")
    return arr


def _periods(values: pa.Array, rows: _Rows, header: str) -> pa.Array:
    out: list[str | None] = []
    texts = values.to_pylist()
    bad = np.zeros(len(texts), bool)
    for i, v in enumerate(texts):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(dates.parse_month(v))
        except ValueError:
            try:
                d = dates.parse_date(v)
                out.append(f"{d.year:04d}-{d.month:02d}")
            except ValueError:
                out.append(None)
                bad[i] = True
    rows.flag(
        bad, "quarantined", header, texts, f"column {header!r}: expected a period such as 2024-03, 2024-Q1 or 2024"
    )
    arr = pa.array(out, pa.string())
    _require(rows, arr, "period", header)
    return arr


def _scopes(out: dict[str, pa.Array], n: int) -> pa.Array:
    scope = out.get("scope")
    sp = out.get("salesperson")
    rg = out.get("region")
    result = scope if scope is not None else pa.nulls(n, pa.string())
    if sp is not None:
        result = pc.coalesce(result, pc.binary_join_element_wise(pa.scalar("salesperson="), sp, ""))
    if rg is not None:
        result = pc.coalesce(result, pc.binary_join_element_wise(pa.scalar("region="), rg, ""))
    out.pop("salesperson", None)
    out.pop("region", None)
    return pc.coalesce(result, pa.scalar("total"))


def _broken_rows(schema: pa.Schema, broken: list[tuple[int, str, str]]) -> pa.Table:
    n = len(broken)
    cols = {}
    for f in schema:
        if f.name == "source_row":
            cols[f.name] = pa.array([b[0] for b in broken], pa.int64())
        elif f.name == "_bucket":
            cols[f.name] = pa.array(["skipped" if b[2] == "blank row" else "quarantined" for b in broken], pa.string())
        elif f.name == "_reason":
            cols[f.name] = pa.array([b[2] for b in broken], pa.string())
        elif f.name == "_raw":
            cols[f.name] = pa.array([json.dumps({"_line": b[1]}, ensure_ascii=False) for b in broken], pa.string())
        else:
            cols[f.name] = pa.nulls(n, f.type)
    return pa.table(cols, schema=schema)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def notes(p: Plan) -> list[str]:
    """The plan's running counts as sentences for the batch record."""
    out = list(p.notes)
    if p.counts["amount_computed"]:
        out.append(f"amount computed as quantity x unit price for {plural(p.counts['amount_computed'], 'row')}")
    if p.counts["quantity_assumed_one"]:
        assumed = plural(p.counts["quantity_assumed_one"], "computed amount")
        out.append(f"no quantity column: quantity 1 assumed for {assumed}")
    if p.counts["cost_from_profit"]:
        out.append(f"cost computed as amount - profit for {plural(p.counts['cost_from_profit'], 'row')}")
    if p.counts["totals"]:
        out.append(f"{plural(p.counts['totals'], 'totals/subtotal row')} skipped")
    return out
