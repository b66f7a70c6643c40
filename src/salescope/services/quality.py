"""Data quality, per import batch or per table: completeness, invalid values, outliers, suspected duplicates.

A file that loads can still be wrong: a price typed in 分 instead of 元, one order keyed
twice under two order numbers, a phone column that is half empty. These checks point a
person at the rows to look at; they change nothing.

Outliers on amounts use the robust z-score (Iglewicz & Hoaglin: 0.6745 (x - median) / MAD,
flagged above 3.5), which a few huge orders cannot mask the way they inflate a standard
deviation. It is taken on log10 |amount|: order values spread multiplicatively, and on the
raw scale one line in eight of an ordinary sales file looks "extreme". A unit price is "far"
from its product's median when it is over 3x or under 1/3 of it, among products with at
least five lines. Medians are DuckDB's approx_quantile (a t-digest): a report over millions
of lines stays a few hundred milliseconds, and a flag threshold does not need the exact median.
"""

from __future__ import annotations

from typing import Any

from salescope.engine.loading import lit, q
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError
from salescope.schema.tables import TABLES_BY_NAME
from salescope.services.workspace import Workspace

ROBUST_Z = 3.5
PRICE_RATIO = 3.0
MIN_LINES_PER_PRODUCT = 5

QUALITY_TABLES = (
    "sales",
    "purchases",
    "customers",
    "products",
    "suppliers",
    "inventory",
    "opportunities",
    "feedback",
    "targets",
)
_AMOUNT = {"sales": "amount", "purchases": "amount", "opportunities": "amount", "inventory": "value"}
_LINE_KEY = {"sales": ("order_id", "line_no"), "purchases": ("po_id", "line_no")}
# A second entry of the same line under another order number: same day, party, product, quantity and amount.
_SAME_LINE = {
    "sales": ("order_date", "customer_id", "product_id", "quantity", "amount"),
    "purchases": ("order_date", "supplier_id", "product_id", "quantity", "amount"),
}
_PARTY = {"sales": "customer_id", "purchases": "supplier_id"}


def _where(batch_id: str | None, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    return f"{a}batch_id = {lit(batch_id)}" if batch_id else "TRUE"


def completeness(wh: Warehouse, table: str, batch_id: str | None = None) -> list[dict[str, Any]]:
    spec = TABLES_BY_NAME[table]
    cols = [c.name for c in spec.columns if c.name not in ("batch_id", "source_row")]
    counts = ", ".join(f"count({q(c)})" for c in cols)
    row = wh.rows(f"SELECT count(*), {counts} FROM {q(table)} WHERE {_where(batch_id)}")[0]
    total = int(row[0])
    return [
        {"column": c, "filled": int(n), "ratio": round(int(n) / total, 4) if total else None}
        for c, n in zip(cols, row[1:], strict=True)
    ]


def _counted(wh: Warehouse, found: str, order: str, limit: int) -> dict[str, Any]:
    """Count the rows of a finding query, and fetch the first ``limit`` of them (none when 0)."""
    count = int(wh.scalar(f"SELECT count(*) FROM ({found})"))
    rows = wh.df(f"SELECT * FROM ({found}) ORDER BY {order} LIMIT {int(limit)}") if limit and count else None
    return {"count": count, "rows": [] if rows is None else [_plain(r) for r in rows.to_dict(orient="records")]}


def amount_outliers(wh: Warehouse, table: str, batch_id: str | None = None, limit: int = 20) -> dict[str, Any]:
    column = _AMOUNT.get(table)
    if column is None:
        return {"column": None, "count": 0, "rows": []}
    key = _LINE_KEY.get(table, TABLES_BY_NAME[table].key)
    keys = ", ".join(q(k) for k in key)
    c = q(column)
    base = (
        f"SELECT {keys}, CAST({c} AS DOUBLE) AS amount, log10(abs(CAST({c} AS DOUBLE))) AS x FROM {q(table)} "
        f"WHERE {c} IS NOT NULL AND {c} <> 0 AND {_where(batch_id)}"
    )
    found = f"""
WITH b AS ({base}),
m AS (SELECT approx_quantile(x, 0.5) AS med FROM b),
d AS (SELECT approx_quantile(abs(x - m.med), 0.5) AS mad FROM b, m)
SELECT {keys}, amount, 0.6745 * (x - m.med) / d.mad AS z FROM b, m, d
WHERE d.mad > 0 AND abs(0.6745 * (x - m.med) / d.mad) > {ROBUST_Z}"""
    return {"column": column, **_counted(wh, found, f"abs(z) DESC, {keys}", limit)}


def price_outliers(wh: Warehouse, table: str, batch_id: str | None = None, limit: int = 20) -> dict[str, Any]:
    if table not in _LINE_KEY:
        return {"count": 0, "rows": []}
    keys = ", ".join(f"s.{q(k)}" for k in _LINE_KEY[table])
    found = f"""
WITH med AS (
  SELECT product_id, approx_quantile(CAST(unit_price AS DOUBLE), 0.5) AS median_price, count(*) AS n
  FROM {q(table)} WHERE unit_price > 0 AND product_id <> 'UNKNOWN' GROUP BY product_id
)
SELECT {keys}, s.product_id, CAST(s.unit_price AS DOUBLE) AS unit_price, med.median_price,
       CAST(s.unit_price AS DOUBLE) / med.median_price AS ratio
FROM {q(table)} s JOIN med USING (product_id)
WHERE {_where(batch_id, "s")} AND med.n >= {MIN_LINES_PER_PRODUCT} AND s.unit_price > 0
  AND (CAST(s.unit_price AS DOUBLE) > {PRICE_RATIO} * med.median_price
       OR CAST(s.unit_price AS DOUBLE) < med.median_price / {PRICE_RATIO})"""
    order = "greatest(ratio, 1 / ratio) DESC, " + ", ".join(q(k) for k in _LINE_KEY[table])
    return _counted(wh, found, order, limit)


def suspected_duplicates(wh: Warehouse, table: str, batch_id: str | None = None, limit: int = 20) -> dict[str, Any]:
    """Lines that repeat another line's day, party, product, quantity and amount under a different order id
    (or, for customers and suppliers, one name under several ids); ``limit`` 0 only counts them."""
    if table in _SAME_LINE:
        cols = _SAME_LINE[table]
        order = q(_LINE_KEY[table][0])
        same = ", ".join(q(c) for c in cols)
        party = q(_PARTY[table])
        batch_rows = int(wh.scalar(f"SELECT count(*) FROM {q(table)} WHERE {_where(batch_id)}"))
        all_rows = int(wh.scalar(f"SELECT count(*) FROM {q(table)}"))
        if batch_rows * 2 < all_rows:
            # A small batch into a big table: group only the lines that share details with the batch's lines.
            source = (
                f"{q(table)} t SEMI JOIN (SELECT DISTINCT {same} FROM {q(table)} WHERE {_where(batch_id)} "
                f"AND {party} IS NOT NULL) b USING ({same})"
            )
        else:
            source = f"{q(table)} t WHERE {party} IS NOT NULL"
        lines = f"SELECT {same}, {order} FROM {source}"
        # min <> max says "more than one order" without counting distinct orders in every group.
        counted = f"SELECT {same} FROM ({lines}) GROUP BY ALL HAVING min({order}) <> max({order})"
        count = int(wh.scalar(f"SELECT count(*) FROM ({counted})"))
        if not (limit and count):
            return {"count": count, "rows": []}
        rows = wh.df(
            f"SELECT {same}, count(DISTINCT {order}) AS orders, list(DISTINCT {order} ORDER BY {order}) AS order_ids "
            f"FROM ({lines}) GROUP BY ALL HAVING min({order}) <> max({order}) ORDER BY orders DESC, {same} "
            f"LIMIT {int(limit)}"
        )
        return {"count": count, "rows": [_plain(r) for r in rows.to_dict(orient="records")]}
    if table in ("customers", "suppliers"):
        key = q("customer_id" if table == "customers" else "supplier_id")
        found = f"""
SELECT name_key, count(*) AS n, list(id ORDER BY id) AS ids FROM (
  SELECT lower(regexp_replace(name, '[\\s\\p{{P}}]', '', 'g')) AS name_key, {key} AS id, batch_id
  FROM {q(table)} WHERE name IS NOT NULL
) GROUP BY 1 HAVING count(*) > 1 AND bool_or({_where(batch_id)})"""
        return _counted(wh, found, "n DESC, name_key", limit)
    return {"count": 0, "rows": []}


def invalid_values(wh: Warehouse, batch_id: str | None = None, table: str | None = None) -> list[dict[str, Any]]:
    """Values the import could not read, by column, with examples (from the quarantine)."""
    where = f"q.batch_id = {lit(batch_id)}" if batch_id else "TRUE"
    if table and not batch_id:
        # Each kind loads into the table of the same name.
        where = f"b.kind = {lit(table)}"
    rows = wh.rows(
        f"SELECT q.column_name, count(*), list(DISTINCT q.value)[1:5] FROM quarantine q "
        f"JOIN import_batches b USING (batch_id) WHERE {where} AND q.bucket = 'quarantined' "
        "AND q.column_name IS NOT NULL AND b.status = 'loaded' GROUP BY 1 ORDER BY 2 DESC"
    )
    out = [{"column": c, "count": int(n), "examples": list(ex or [])} for c, n, ex in rows]
    if table in ("customers", "suppliers") or (batch_id and _batch_table(wh, batch_id) in ("customers", "suppliers")):
        t = table or _batch_table(wh, batch_id or "")
        bad = int(
            wh.scalar(
                f"SELECT count(*) FROM {q(t)} WHERE phone IS NOT NULL AND phone NOT LIKE '+%' AND {_where(batch_id)}"
            )
        )
        if bad:
            out.append(
                {"column": "phone", "count": bad, "examples": [], "note": "kept as typed: not a possible number"}
            )
    return out


def _batch_table(wh: Warehouse, batch_id: str) -> str:
    kind = wh.scalar("SELECT kind FROM import_batches WHERE batch_id = ?", [batch_id])
    if kind is None:
        raise InputError("no such import batch", value=batch_id, expected="a batch id from `salescope import --list`")
    return str(kind)


def _plain(rec: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        if hasattr(v, "tolist"):
            v = v.tolist()
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, float) and v != v:
            v = None
        out[str(k)] = v
    return out


def quality_report(
    ws: Workspace, *, batch_id: str | None = None, table: str | None = None, limit: int = 20
) -> dict[str, Any]:
    """The report for one batch (its rows only) or one table (all rows), as plain JSON-ready data."""
    wh = ws.warehouse
    if batch_id is None and table is None:
        raise InputError("say which batch or table to report on", expected="--batch BATCH or --table TABLE")
    target = table or _batch_table(wh, batch_id or "")
    if target not in QUALITY_TABLES:
        raise InputError("no quality report for this table", value=target, expected=", ".join(QUALITY_TABLES))
    rows = int(wh.scalar(f"SELECT count(*) FROM {q(target)} WHERE {_where(batch_id)}"))
    return {
        "table": target,
        "batch_id": batch_id,
        "rows": rows,
        "completeness": completeness(wh, target, batch_id),
        "invalid": invalid_values(wh, batch_id, None if batch_id else target),
        "outliers": {
            "amount": amount_outliers(wh, target, batch_id, limit),
            "unit_price": price_outliers(wh, target, batch_id, limit),
        },
        "suspected_duplicates": suspected_duplicates(wh, target, batch_id, limit),
    }


def summary_notes(wh: Warehouse, table: str, batch_id: str) -> list[str]:
    """One line per finding, for the import result a user sees right after importing."""
    notes = []
    amounts = amount_outliers(wh, table, batch_id, 0)
    if amounts["count"]:
        notes.append(f"quality: {amounts['count']} {amounts['column']} outliers (robust z > {ROBUST_Z})")
    prices = price_outliers(wh, table, batch_id, 0)
    if prices["count"]:
        notes.append(f"quality: {prices['count']} unit prices over {PRICE_RATIO:g}x away from their product's median")
    dups = suspected_duplicates(wh, table, batch_id, 0)
    if dups["count"]:
        notes.append(f"quality: {dups['count']} suspected duplicate entries (same details under different ids)")
    return notes
