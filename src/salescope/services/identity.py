"""Identity use-cases: propose merges of customers (or suppliers) that look like one, merge, and undo.

A merge re-points everything that names the merged identity (sales lines, opportunities,
feedback, source spellings; purchase lines for suppliers) to the kept one, and records exactly which rows it moved, so a
split moves exactly those back. Each call is one transaction. The merged id is retired, not
forgotten: a ``retired:`` source row keeps it out of the id sequence, so an import after a
merge never hands the same id to somebody else while a split could still bring it back.
Results computed from customers (scores, segments) are stale after a merge until the next
``analyze``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Entity:
    """Where one kind of identity lives: its table, id column, sources and the tables that point at it."""

    kind: str
    table: str
    id_col: str
    sources: str
    prefix: str
    # Tables whose rows name the identity, with the columns that identify a row.
    referencing: tuple[tuple[str, tuple[str, ...]], ...]
    fields: tuple[str, ...]
    lines_table: str
    record_kind: str | None = None


CUSTOMER = Entity(
    "customer",
    "customers",
    "customer_id",
    "customer_sources",
    "C",
    (
        ("sales", ("order_id", "line_no")),
        ("opportunities", ("opportunity_id",)),
        ("feedback", ("feedback_id",)),
        ("customer_sources", ("source_key",)),
    ),
    ("name", "kind", "phone", "email", "address", "city", "province", "tax_id"),
    "sales",
)
SUPPLIER = Entity(
    "supplier",
    "suppliers",
    "supplier_id",
    "supplier_sources",
    "S",
    (("purchases", ("po_id", "line_no")), ("supplier_sources", ("source_key",))),
    ("name", "phone", "province"),
    "purchases",
    record_kind="company",
)
ENTITIES: dict[str, Entity] = {e.kind: e for e in (CUSTOMER, SUPPLIER)}
CANDIDATE_MIN_SCORE = 0.5
RETIRED_PREFIX = "retired:"


def _entity(kind: str) -> Entity:
    try:
        return ENTITIES[kind]
    except KeyError:
        raise InputError("Unknown identity kind.", value=kind, expected=" or ".join(ENTITIES)) from None


def _q(name: str) -> str:
    return f'"{name}"'


def _identities(ws: Workspace, e: Entity, ids: list[str] | None = None) -> pd.DataFrame:
    cols = ", ".join(_q(c) for c in (e.id_col, *e.fields))
    where = f"WHERE {_q(e.id_col)} IN ({', '.join('?' for _ in ids)})" if ids else ""
    frame = ws.warehouse.df(f"SELECT {cols} FROM {_q(e.table)} {where} ORDER BY {_q(e.id_col)}", ids or None)
    if e.record_kind is not None:
        frame["kind"] = e.record_kind
    return frame


def _undone_pairs(ws: Workspace, e: Entity) -> set[frozenset[str]]:
    rows = ws.warehouse.rows("SELECT keep_id, merged_id FROM merge_log WHERE kind = ? AND status = 'undone'", [e.kind])
    return {frozenset((str(a), str(b))) for a, b in rows}


def _line_counts(ws: Workspace, e: Entity, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    rows = ws.warehouse.rows(
        f"SELECT {_q(e.id_col)}, count(*) FROM {_q(e.lines_table)} WHERE {_q(e.id_col)} IN ({marks}) GROUP BY 1", ids
    )
    return {str(c): int(n) for c, n in rows}


def _candidate_pairs(records: pd.DataFrame, id_col: str, min_score: float, threshold: float) -> pd.DataFrame:
    """Scored, non-conflicting pairs of ids (a_id < b_id) at or above ``min_score``."""
    columns = ["a_id", "b_id", "score", "evidence"]
    if len(records) < 2:
        return pd.DataFrame(columns=columns)
    resolution = resolve_records(records.drop(columns=[id_col]), threshold=threshold, min_probability=min_score)
    same = pd.DataFrame({"record": resolution.row_to_record, "id": records[id_col].astype(str).to_numpy()})
    frames = []
    # Identities with identical details collapse into one matching record: each is a candidate pair.
    first = same.groupby("record")["id"].transform("min")
    dup = same[same["id"] != first]
    if not dup.empty:
        frames.append(
            pd.DataFrame({"a_id": first[dup.index], "b_id": dup["id"], "score": 1.0, "evidence": "identical"})
        )
    pairs = resolution.pairs
    if not pairs.empty:
        left = pairs["unique_id_l"].to_numpy(dtype=np.int64)
        right = pairs["unique_id_r"].to_numpy(dtype=np.int64)
        allowed = ~ConflictRule(resolution.features).pairs(left, right)
        pairs = pairs[allowed & (pairs["match_probability"].to_numpy() >= min_score)]
        representative = same.groupby("record")["id"].min()
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
    kind: str = "customer",
) -> list[dict[str, Any]]:
    """Pairs of existing customers (or suppliers) that look like one, most probable first, with evidence and score.

    The one with more sales (purchase) lines is proposed as the one to keep. Pairs whose strong
    keys conflict are never proposed, nor pairs a person has already split apart.
    """
    e = _entity(kind)
    records = _identities(ws, e)
    pairs = _candidate_pairs(records, e.id_col, min_score, threshold)
    undone = _undone_pairs(ws, e)
    if undone and not pairs.empty:
        keep = [frozenset((a, b)) not in undone for a, b in zip(pairs["a_id"], pairs["b_id"], strict=True)]
        pairs = pairs[keep]
    if limit is not None:
        pairs = pairs.head(limit)
    by_id = records.set_index(e.id_col)
    lines = _line_counts(ws, e, sorted(set(pairs["a_id"]) | set(pairs["b_id"])))
    out = []
    for a, b, score, evidence in pairs[["a_id", "b_id", "score", "evidence"]].itertuples(index=False):
        keep_id, merge_id = (b, a) if lines.get(b, 0) > lines.get(a, 0) else (a, b)
        out.append(
            {
                "keep_id": keep_id,
                "merge_id": merge_id,
                "score": round(float(score), 6),
                "evidence": str(evidence),
                "keep": _public(e, by_id.loc[keep_id], lines.get(keep_id, 0)),
                "merge": _public(e, by_id.loc[merge_id], lines.get(merge_id, 0)),
            }
        )
    return out


def _public(e: Entity, row: pd.Series, lines: int) -> dict[str, Any]:
    values = {k: (None if pd.isna(v) else v) for k, v in row.items() if k in e.fields}
    return {**values, f"{e.lines_table}_lines": lines}


def _exists(ws: Workspace, e: Entity, identity: str) -> bool:
    sql = f"SELECT count(*) FROM {_q(e.table)} WHERE {_q(e.id_col)} = ?"
    return bool(ws.warehouse.scalar(sql, [identity]))


def _conflict(ws: Workspace, e: Entity, keep_id: str, merge_id: str) -> str | None:
    both = _identities(ws, e, [keep_id, merge_id]).drop(columns=[e.id_col])
    if ConflictRule(prepare(both)).pairs(np.array([0]), np.array([1]))[0]:
        return "their tax ids differ, or they are companies with different names and different phones"
    return None


def _merge_in_transaction(
    ws: Workspace, e: Entity, keep_id: str, merge_id: str, user: str | None, score: float | None, evidence: str | None
) -> dict[str, Any]:
    wh, idc = ws.warehouse, _q(e.id_col)
    log_id = "M" + uuid.uuid4().hex[:12]
    moved: dict[str, int] = {}
    for table, keys in e.referencing:
        key_2 = f"CAST({_q(keys[1])} AS VARCHAR)" if len(keys) > 1 else "NULL"
        wh.execute(
            f"INSERT INTO merge_moves (log_id, table_name, key_1, key_2) "
            f"SELECT ?, ?, CAST({_q(keys[0])} AS VARCHAR), {key_2} FROM {_q(table)} WHERE {idc} = ?",
            [log_id, table, merge_id],
        )
        count = wh.scalar("SELECT count(*) FROM merge_moves WHERE log_id = ? AND table_name = ?", [log_id, table])
        wh.execute(f"UPDATE {_q(table)} SET {idc} = ? WHERE {idc} = ?", [keep_id, merge_id])
        moved[table] = int(count)
    row = wh.df(f"SELECT * FROM {_q(e.table)} WHERE {idc} = ?", [merge_id])
    merged_row = row.to_json(orient="records", date_format="iso", force_ascii=False)
    wh.execute(f"DELETE FROM {_q(e.table)} WHERE {idc} = ?", [merge_id])
    wh.execute(
        f"INSERT INTO {_q(e.sources)} (source_key, source_code, source_name, {idc}, evidence, score) "
        "VALUES (?, NULL, NULL, ?, ?, NULL)",
        [RETIRED_PREFIX + merge_id, merge_id, f"merged into {keep_id} ({log_id})"],
    )
    wh.execute(
        "INSERT INTO merge_log (log_id, kind, keep_id, merged_id, score, evidence, merged_row, merged_at, merged_by, "
        "status) VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp, ?, 'merged')",
        [log_id, e.kind, keep_id, merge_id, score, evidence, merged_row, user],
    )
    return {"log_id": log_id, "keep_id": keep_id, "merged_id": merge_id, "moved": moved}


def _check_merge(ws: Workspace, e: Entity, keep_id: str, merge_id: str) -> None:
    if keep_id == merge_id:
        raise InputError(f"A {e.kind} cannot be merged into itself.", value=keep_id, expected="two different ids")
    for identity in (keep_id, merge_id):
        if not _exists(ws, e, identity):
            raise NotFoundError(f"There is no {e.kind} {identity!r} to merge.")
    reason = _conflict(ws, e, keep_id, merge_id)
    if reason:
        raise InputError(
            f"{e.kind.capitalize()}s {keep_id} and {merge_id} cannot be merged: {reason}.",
            expected="records whose tax ids, ID numbers and phones do not contradict each other",
        )


def merge(
    ws: Workspace,
    keep_id: str,
    merge_id: str,
    user: str | None = None,
    *,
    score: float | None = None,
    evidence: str | None = None,
    kind: str = "customer",
) -> dict[str, Any]:
    """Merge ``merge_id`` into ``keep_id`` in one transaction; returns the merge log id and the rows moved."""
    e = _entity(kind)
    _check_merge(ws, e, keep_id, merge_id)
    with ws.warehouse.transaction():
        return _merge_in_transaction(ws, e, keep_id, merge_id, user, score, evidence)


def _undo_in_transaction(ws: Workspace, e: Entity, log: dict[str, Any], user: str | None) -> dict[str, Any]:
    wh, idc = ws.warehouse, _q(e.id_col)
    log_id, keep_id, merged_id = str(log["log_id"]), str(log["keep_id"]), str(log["merged_id"])
    later = wh.scalar(
        "SELECT log_id FROM merge_log WHERE kind = ? AND status = 'merged' AND merged_id = ?", [e.kind, keep_id]
    )
    if later is not None or not _exists(ws, e, keep_id):
        raise InputError(
            f"Merge {log_id} cannot be undone while {keep_id} is itself merged into another {e.kind}.",
            value=later,
            expected=f"undo merge {later} first",
        )
    if _exists(ws, e, merged_id):
        raise InputError(f"Merge {log_id} cannot be undone: {e.kind} {merged_id} exists again.", value=merged_id)
    restored = 0
    for record in json.loads(str(log["merged_row"] or "[]")):
        cols = [c for c, v in record.items() if v is not None]
        names = ", ".join(_q(c) for c in cols)
        marks = ", ".join("?" for _ in cols)
        wh.execute(f"INSERT INTO {_q(e.table)} ({names}) VALUES ({marks})", [record[c] for c in cols])
        restored += 1
    moved: dict[str, int] = {}
    for table, keys in e.referencing:
        match = f"CAST(t.{_q(keys[0])} AS VARCHAR) = m.key_1"
        if len(keys) > 1:
            match += f" AND CAST(t.{_q(keys[1])} AS VARCHAR) = m.key_2"
        params = [log_id, table, keep_id]
        count = wh.scalar(
            f"SELECT count(*) FROM {_q(table)} t JOIN merge_moves m ON {match} "
            f"WHERE m.log_id = ? AND m.table_name = ? AND t.{idc} = ?",
            params,
        )
        wh.execute(
            f"UPDATE {_q(table)} t SET {idc} = ? FROM merge_moves m WHERE {match} "
            f"AND m.log_id = ? AND m.table_name = ? AND t.{idc} = ?",
            [merged_id, *params],
        )
        moved[table] = int(count)
    wh.execute(f"DELETE FROM {_q(e.sources)} WHERE source_key = ?", [RETIRED_PREFIX + merged_id])
    wh.execute(
        "UPDATE merge_log SET status = 'undone', undone_at = current_timestamp, undone_by = ? WHERE log_id = ?",
        [user, log_id],
    )
    return {"log_id": log_id, "keep_id": keep_id, "restored_id": merged_id, "restored": restored, "moved": moved}


def _log(ws: Workspace, log_id: str) -> dict[str, Any] | None:
    frame = ws.warehouse.df("SELECT * FROM merge_log WHERE log_id = ?", [log_id])
    return None if frame.empty else dict(frame.iloc[0])


def _next_id(ws: Workspace, e: Entity) -> str:
    idc = _q(e.id_col)
    rows = ws.warehouse.rows(
        f"SELECT {idc} FROM {_q(e.table)} UNION SELECT {idc} FROM {_q(e.sources)} "
        "UNION SELECT merged_id FROM merge_log WHERE kind = ?",
        [e.kind],
    )
    digits = [str(r[0])[len(e.prefix) :] for r in rows if str(r[0]).startswith(e.prefix)]
    numbers = [d for d in digits if d.isdigit()]
    width = max([6, *(len(d) for d in numbers)])
    return f"{e.prefix}{max((int(d) for d in numbers), default=0) + 1:0{width}d}"


def split(ws: Workspace, target: str, user: str | None = None, *, kind: str = "customer") -> dict[str, Any]:
    """Reverse a merge (by merge log id, or by a source key a merge moved), or detach one source key.

    A source key that no merge moved gets an identity of its own, so future imports of that
    spelling or code land there; lines already loaded stay where they are, because a line does
    not record which spelling it came in under.
    """
    e = _entity(kind)
    with ws.warehouse.transaction():
        log = _log(ws, target)
        if log is None:
            log_id = ws.warehouse.scalar(
                "SELECT m.log_id FROM merge_moves m JOIN merge_log l USING (log_id) WHERE m.table_name = ? "
                "AND m.key_1 = ? AND l.status = 'merged' ORDER BY l.merged_at DESC LIMIT 1",
                [e.sources, target],
            )
            log = _log(ws, str(log_id)) if log_id is not None else None
        if log is not None:
            if log["status"] != "merged":
                raise InputError(f"Merge {log['log_id']} is already undone.", value=target)
            return _undo_in_transaction(ws, _entity(str(log["kind"])), log, user)
        return _detach_in_transaction(ws, e, target)


def _detach_in_transaction(ws: Workspace, e: Entity, source_key: str) -> dict[str, Any]:
    wh, idc = ws.warehouse, _q(e.id_col)
    row = wh.df(f"SELECT * FROM {_q(e.sources)} WHERE source_key = ?", [source_key])
    if row.empty or source_key.startswith(RETIRED_PREFIX):
        raise NotFoundError(f"{source_key!r} is neither a merge log id nor a {e.kind} source key.")
    old_id = str(row.iloc[0][e.id_col])
    siblings = int(wh.scalar(f"SELECT count(*) FROM {_q(e.sources)} WHERE {idc} = ?", [old_id]))
    if siblings < 2:
        raise InputError(
            f"Source {source_key!r} is the only source of {e.kind} {old_id}; there is nothing to split from.",
            value=source_key,
        )
    new_id = _next_id(ws, e)
    name = row.iloc[0]["source_name"]
    wh.execute(f"INSERT INTO {_q(e.table)} ({idc}, name) VALUES (?, ?)", [new_id, None if pd.isna(name) else str(name)])
    if "kind" in e.fields:
        wh.execute(
            f"UPDATE {_q(e.table)} SET kind = (SELECT kind FROM {_q(e.table)} WHERE {idc} = ?) WHERE {idc} = ?",
            [old_id, new_id],
        )
    wh.execute(
        f"UPDATE {_q(e.sources)} SET {idc} = ?, evidence = 'split', score = NULL WHERE source_key = ?",
        [new_id, source_key],
    )
    return {"source_key": source_key, "from_id": old_id, "new_id": new_id, "moved": {e.sources: 1}}


def resolve_workspace(
    ws: Workspace,
    progress: Progress | None = None,
    *,
    apply: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    user: str | None = None,
    kind: str = "customer",
) -> dict[str, Any]:
    """Run the probabilistic pass over all customers (or suppliers); propose merges at ``threshold``.

    With ``apply`` the proposals are merged, all in one transaction; a proposal whose two sides
    have meanwhile been merged into identities that conflict is skipped.
    """
    e = _entity(kind)
    progress = progress or NoProgress()
    task = f"resolve {e.table}"
    progress.start(task, total=2)
    proposals = merge_candidates(ws, limit=None, min_score=threshold, threshold=threshold, kind=kind)
    progress.advance(task)
    applied: list[dict[str, Any]] = []
    if apply and proposals:
        survivor: dict[str, str] = {}

        def current(identity: str) -> str:
            while identity in survivor:
                identity = survivor[identity]
            return identity

        with ws.warehouse.transaction():
            for p in proposals:
                keep_id, merge_id = current(p["keep_id"]), current(p["merge_id"])
                if keep_id == merge_id or _conflict(ws, e, keep_id, merge_id):
                    continue
                applied.append(_merge_in_transaction(ws, e, keep_id, merge_id, user, p["score"], p["evidence"]))
                survivor[merge_id] = keep_id
    progress.advance(task)
    progress.finish(task)
    return {
        "kind": e.kind,
        "identities": int(ws.warehouse.scalar(f"SELECT count(*) FROM {_q(e.table)}")),
        "threshold": threshold,
        "proposed": len(proposals),
        "applied": len(applied),
        "merges": applied if apply else proposals,
    }
