"""Identity use-cases: propose merges of customers that look like one, merge, and undo.

A merge re-points everything that names the merged customer (sales lines, opportunities,
feedback, source spellings) to the kept one, and records exactly which rows it moved, so a
split moves exactly those back. Each call is one transaction. The merged id is retired, not
forgotten: a ``retired:`` source row keeps it out of the id sequence, so an import after a
merge never hands the same id to somebody else while a split could still bring it back.
Results computed from customers (scores, segments) are stale after a merge until the next
``analyze``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import numpy as np
import pandas as pd

from salescope.errors import InputError, NotFoundError
from salescope.resolve.clusters import ConflictRule
from salescope.resolve.features import prepare
from salescope.resolve.linkage import DEFAULT_THRESHOLD
from salescope.resolve.matching import resolve_records
from salescope.services.progress import NoProgress, Progress
from salescope.services.workspace import Workspace

# Tables whose rows name a customer, with the columns that identify a row.
_REFERENCING: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sales", ("order_id", "line_no")),
    ("opportunities", ("opportunity_id",)),
    ("feedback", ("feedback_id",)),
    ("customer_sources", ("source_key",)),
)
_CUSTOMER_FIELDS: tuple[str, ...] = ("name", "kind", "phone", "email", "address", "city", "province", "tax_id")
CANDIDATE_MIN_SCORE = 0.5
RETIRED_PREFIX = "retired:"


def _customers(ws: Workspace) -> pd.DataFrame:
    cols = ", ".join(f'"{c}"' for c in ("customer_id", *_CUSTOMER_FIELDS))
    return ws.warehouse.df(f"SELECT {cols} FROM customers ORDER BY customer_id")


def _undone_pairs(ws: Workspace) -> set[frozenset[str]]:
    rows = ws.warehouse.rows("SELECT keep_id, merged_id FROM merge_log WHERE kind = 'customer' AND status = 'undone'")
    return {frozenset((str(a), str(b))) for a, b in rows}


def _line_counts(ws: Workspace, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = ws.warehouse.rows(
        f"SELECT customer_id, count(*) FROM sales WHERE customer_id IN ({marks}) GROUP BY customer_id", ids
    )
    return {str(c): int(n) for c, n in rows}


def _candidate_pairs(customers: pd.DataFrame, min_score: float, threshold: float) -> pd.DataFrame:
    """Scored, non-conflicting pairs of customer ids (a_id < b_id) at or above ``min_score``."""
    columns = ["a_id", "b_id", "score", "evidence"]
    if len(customers) < 2:
        return pd.DataFrame(columns=columns)
    resolution = resolve_records(customers, threshold=threshold, min_probability=min_score)
    record_of = resolution.row_to_record
    ids = customers["customer_id"].astype(str).to_numpy()
    frames = []
    # Customers with identical details collapse into one matching record: each is a candidate pair.
    same = pd.DataFrame({"record": record_of, "customer_id": ids})
    first = same.groupby("record")["customer_id"].transform("min")
    dup = same[same["customer_id"] != first]
    if not dup.empty:
        frames.append(
            pd.DataFrame({"a_id": first[dup.index], "b_id": dup["customer_id"], "score": 1.0, "evidence": "identical"})
        )
    pairs = resolution.pairs
    if not pairs.empty:
        left = pairs["unique_id_l"].to_numpy(dtype=np.int64)
        right = pairs["unique_id_r"].to_numpy(dtype=np.int64)
        allowed = ~ConflictRule(resolution.features).pairs(left, right)
        pairs = pairs[allowed & (pairs["match_probability"].to_numpy() >= min_score)]
        representative = same.groupby("record")["customer_id"].min()
        a = representative.reindex(pairs["unique_id_l"]).to_numpy()
        b = representative.reindex(pairs["unique_id_r"]).to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "a_id": np.minimum(a, b),
                    "b_id": np.maximum(a, b),
                    "score": pairs["match_probability"].to_numpy(),
                    "evidence": pairs["evidence"].to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["score", "a_id", "b_id"], ascending=[False, True, True], kind="stable")
    return out.drop_duplicates(["a_id", "b_id"]).reset_index(drop=True)


def merge_candidates(
    ws: Workspace,
    limit: int | None = 50,
    *,
    min_score: float = CANDIDATE_MIN_SCORE,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[dict[str, Any]]:
    """Pairs of existing customers that look like one, most probable first, with evidence and score.

    The customer with more sales lines is proposed as the one to keep. Pairs whose strong keys
    conflict are never proposed, nor pairs a person has already split apart.
    """
    customers = _customers(ws)
    pairs = _candidate_pairs(customers, min_score, threshold)
    undone = _undone_pairs(ws)
    if undone and not pairs.empty:
        keep = [frozenset((a, b)) not in undone for a, b in zip(pairs["a_id"], pairs["b_id"], strict=True)]
        pairs = pairs[keep]
    if limit is not None:
        pairs = pairs.head(limit)
    by_id = customers.set_index("customer_id")
    lines = _line_counts(ws, sorted(set(pairs["a_id"]) | set(pairs["b_id"])))
    out = []
    for a, b, score, evidence in pairs[["a_id", "b_id", "score", "evidence"]].itertuples(index=False):
        keep_id, merge_id = (b, a) if lines.get(b, 0) > lines.get(a, 0) else (a, b)
        out.append(
            {
                "keep_id": keep_id,
                "merge_id": merge_id,
                "score": round(float(score), 6),
                "evidence": str(evidence),
                "keep": _public(by_id.loc[keep_id], lines.get(keep_id, 0)),
                "merge": _public(by_id.loc[merge_id], lines.get(merge_id, 0)),
            }
        )
    return out


def _public(row: pd.Series, lines: int) -> dict[str, Any]:
    values = {k: (None if pd.isna(v) else v) for k, v in row.items() if k in _CUSTOMER_FIELDS}
    return {**values, "sales_lines": lines}


def _exists(ws: Workspace, customer_id: str) -> bool:
    return bool(ws.warehouse.scalar("SELECT count(*) FROM customers WHERE customer_id = ?", [customer_id]))


def _conflict(ws: Workspace, keep_id: str, merge_id: str) -> str | None:
    both = ws.warehouse.df(
        "SELECT customer_id, name, kind, phone, tax_id FROM customers WHERE customer_id IN (?, ?) ORDER BY customer_id",
        [keep_id, merge_id],
    )
    features = prepare(both)
    if ConflictRule(features).pairs(np.array([0]), np.array([1]))[0]:
        return "their tax ids differ, or they are companies with different names and different phones"
    return None


def _merge_in_transaction(
    ws: Workspace, keep_id: str, merge_id: str, user: str | None, score: float | None, evidence: str | None
) -> dict[str, Any]:
    wh = ws.warehouse
    log_id = "M" + uuid.uuid4().hex[:12]
    moved: dict[str, int] = {}
    for table, keys in _REFERENCING:
        key_2 = f'CAST("{keys[1]}" AS VARCHAR)' if len(keys) > 1 else "NULL"
        wh.execute(
            f"INSERT INTO merge_moves (log_id, table_name, key_1, key_2) "
            f'SELECT ?, ?, CAST("{keys[0]}" AS VARCHAR), {key_2} FROM "{table}" WHERE customer_id = ?',
            [log_id, table, merge_id],
        )
        count = wh.scalar("SELECT count(*) FROM merge_moves WHERE log_id = ? AND table_name = ?", [log_id, table])
        wh.execute(f'UPDATE "{table}" SET customer_id = ? WHERE customer_id = ?', [keep_id, merge_id])
        moved[table] = int(count)
    row = wh.df("SELECT * FROM customers WHERE customer_id = ?", [merge_id])
    merged_row = row.to_json(orient="records", date_format="iso", force_ascii=False)
    wh.execute("DELETE FROM customers WHERE customer_id = ?", [merge_id])
    wh.execute(
        "INSERT INTO customer_sources (source_key, source_code, source_name, customer_id, evidence, score) "
        "VALUES (?, NULL, NULL, ?, ?, NULL)",
        [RETIRED_PREFIX + merge_id, merge_id, f"merged into {keep_id} ({log_id})"],
    )
    wh.execute(
        "INSERT INTO merge_log (log_id, kind, keep_id, merged_id, score, evidence, merged_row, merged_at, merged_by, "
        "status) VALUES (?, 'customer', ?, ?, ?, ?, ?, current_timestamp, ?, 'merged')",
        [log_id, keep_id, merge_id, score, evidence, merged_row, user],
    )
    return {"log_id": log_id, "keep_id": keep_id, "merged_id": merge_id, "moved": moved}


def _check_merge(ws: Workspace, keep_id: str, merge_id: str) -> None:
    if keep_id == merge_id:
        raise InputError("A customer cannot be merged into itself.", value=keep_id, expected="two different ids")
    for cid in (keep_id, merge_id):
        if not _exists(ws, cid):
            raise NotFoundError(f"There is no customer {cid!r} to merge.")
    reason = _conflict(ws, keep_id, merge_id)
    if reason:
        raise InputError(
            f"Customers {keep_id} and {merge_id} cannot be merged: {reason}.",
            expected="customers whose tax ids, ID numbers and phones do not contradict each other",
        )


def merge(
    ws: Workspace,
    keep_id: str,
    merge_id: str,
    user: str | None = None,
    *,
    score: float | None = None,
    evidence: str | None = None,
) -> dict[str, Any]:
    """Merge customer ``merge_id`` into ``keep_id`` in one transaction; returns the merge log id and rows moved."""
    _check_merge(ws, keep_id, merge_id)
    with ws.warehouse.transaction():
        return _merge_in_transaction(ws, keep_id, merge_id, user, score, evidence)


def _undo_in_transaction(ws: Workspace, log: dict[str, Any], user: str | None) -> dict[str, Any]:
    wh = ws.warehouse
    log_id, keep_id, merged_id = str(log["log_id"]), str(log["keep_id"]), str(log["merged_id"])
    later = wh.scalar(
        "SELECT log_id FROM merge_log WHERE kind = 'customer' AND status = 'merged' AND merged_id = ?", [keep_id]
    )
    if later is not None or not _exists(ws, keep_id):
        raise InputError(
            f"Merge {log_id} cannot be undone while {keep_id} is itself merged into another customer.",
            value=later,
            expected=f"undo merge {later} first",
        )
    if _exists(ws, merged_id):
        raise InputError(f"Merge {log_id} cannot be undone: customer {merged_id} exists again.", value=merged_id)
    restored = 0
    for record in json.loads(str(log["merged_row"] or "[]")):
        cols = [c for c, v in record.items() if v is not None]
        names = ", ".join(f'"{c}"' for c in cols)
        marks = ", ".join("?" for _ in cols)
        wh.execute(f"INSERT INTO customers ({names}) VALUES ({marks})", [record[c] for c in cols])
        restored += 1
    moved: dict[str, int] = {}
    for table, keys in _REFERENCING:
        match = f'CAST(t."{keys[0]}" AS VARCHAR) = m.key_1'
        if len(keys) > 1:
            match += f' AND CAST(t."{keys[1]}" AS VARCHAR) = m.key_2'
        count = wh.scalar(
            f'SELECT count(*) FROM "{table}" t JOIN merge_moves m ON {match} '
            "WHERE m.log_id = ? AND m.table_name = ? AND t.customer_id = ?",
            [log_id, table, keep_id],
        )
        wh.execute(
            f'UPDATE "{table}" t SET customer_id = ? FROM merge_moves m WHERE {match} '
            "AND m.log_id = ? AND m.table_name = ? AND t.customer_id = ?",
            [merged_id, log_id, table, keep_id],
        )
        moved[table] = int(count)
    wh.execute("DELETE FROM customer_sources WHERE source_key = ?", [RETIRED_PREFIX + merged_id])
    wh.execute(
        "UPDATE merge_log SET status = 'undone', undone_at = current_timestamp, undone_by = ? WHERE log_id = ?",
        [user, log_id],
    )
    return {"log_id": log_id, "keep_id": keep_id, "restored_id": merged_id, "restored": restored, "moved": moved}


def _log(ws: Workspace, log_id: str) -> dict[str, Any] | None:
    frame = ws.warehouse.df("SELECT * FROM merge_log WHERE log_id = ?", [log_id])
    return None if frame.empty else dict(frame.iloc[0])


def _next_customer_id(ws: Workspace) -> str:
    rows = ws.warehouse.rows(
        "SELECT customer_id FROM customers UNION SELECT customer_id FROM customer_sources "
        "UNION SELECT merged_id FROM merge_log"
    )
    numbers = [int(str(r[0])[1:]) for r in rows if str(r[0]).startswith("C") and str(r[0])[1:].isdigit()]
    width = max([6] + [len(str(r[0])) - 1 for r in rows if str(r[0]).startswith("C") and str(r[0])[1:].isdigit()])
    return f"C{max(numbers, default=0) + 1:0{width}d}"


def split(ws: Workspace, target: str, user: str | None = None) -> dict[str, Any]:
    """Reverse a merge (by merge log id, or by a source key a merge moved), or detach one source key.

    A source key that no merge moved gets an identity of its own, so future imports of that
    spelling or code land there; sales lines already loaded stay where they are, because a line
    does not record which spelling it came in under.
    """
    with ws.warehouse.transaction():
        log = _log(ws, target)
        if log is None:
            log_id = ws.warehouse.scalar(
                "SELECT m.log_id FROM merge_moves m JOIN merge_log l USING (log_id) WHERE m.table_name = "
                "'customer_sources' AND m.key_1 = ? AND l.status = 'merged' ORDER BY l.merged_at DESC LIMIT 1",
                [target],
            )
            log = _log(ws, str(log_id)) if log_id is not None else None
        if log is not None:
            if log["status"] != "merged":
                raise InputError(f"Merge {log['log_id']} is already undone.", value=target)
            return _undo_in_transaction(ws, log, user)
        return _detach_in_transaction(ws, target)


def _detach_in_transaction(ws: Workspace, source_key: str) -> dict[str, Any]:
    wh = ws.warehouse
    row = wh.df("SELECT * FROM customer_sources WHERE source_key = ?", [source_key])
    if row.empty or source_key.startswith(RETIRED_PREFIX):
        raise NotFoundError(f"{source_key!r} is neither a merge log id nor a customer source key.")
    old_id = str(row.iloc[0]["customer_id"])
    siblings = int(wh.scalar("SELECT count(*) FROM customer_sources WHERE customer_id = ?", [old_id]))
    if siblings < 2:
        raise InputError(
            f"Source {source_key!r} is the only source of customer {old_id}; there is nothing to split from.",
            value=source_key,
        )
    new_id = _next_customer_id(ws)
    name = row.iloc[0]["source_name"]
    kind = wh.scalar("SELECT kind FROM customers WHERE customer_id = ?", [old_id])
    wh.execute(
        "INSERT INTO customers (customer_id, name, kind) VALUES (?, ?, ?)",
        [new_id, None if pd.isna(name) else str(name), kind],
    )
    wh.execute(
        "UPDATE customer_sources SET customer_id = ?, evidence = 'split', score = NULL WHERE source_key = ?",
        [new_id, source_key],
    )
    return {"source_key": source_key, "from_id": old_id, "new_id": new_id, "moved": {"customer_sources": 1}}


def resolve_workspace(
    ws: Workspace,
    progress: Progress | None = None,
    *,
    apply: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    user: str | None = None,
) -> dict[str, Any]:
    """Run the probabilistic pass over all customers; propose merges at ``threshold``, apply them with ``apply``."""
    progress = progress or NoProgress()
    progress.start("resolve customers", total=2)
    proposals = merge_candidates(ws, limit=None, min_score=threshold, threshold=threshold)
    progress.advance("resolve customers")
    applied: list[dict[str, Any]] = []
    if apply and proposals:
        survivor: dict[str, str] = {}

        def current(cid: str) -> str:
            while cid in survivor:
                cid = survivor[cid]
            return cid

        with ws.warehouse.transaction():
            for p in proposals:
                keep_id, merge_id = current(p["keep_id"]), current(p["merge_id"])
                if keep_id == merge_id or _conflict(ws, keep_id, merge_id):
                    continue
                applied.append(_merge_in_transaction(ws, keep_id, merge_id, user, p["score"], p["evidence"]))
                survivor[merge_id] = keep_id
    progress.advance("resolve customers")
    progress.finish("resolve customers")
    customers = int(ws.warehouse.scalar("SELECT count(*) FROM customers"))
    return {
        "customers": customers,
        "threshold": threshold,
        "proposed": len(proposals),
        "applied": len(applied),
        "merges": applied if apply else proposals,
    }
