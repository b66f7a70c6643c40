"""Import use-case: one file in, every row accounted for, in one transaction, reversible.

``import_file`` reads the file in chunks, parses each chunk vectorised into a staging
table, resolves customer/supplier identities and product ids, classifies every row
(loaded, duplicate, quarantined, skipped) with a few set-based statements, and
commits the rows, the quarantine and the batch record together. A killed process
leaves the warehouse as it was; ``undo_batch`` takes a batch back out.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import hashlib
import json
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from salescope.engine import aggregates, loading
from salescope.engine.loading import lit, q
from salescope.engine.warehouse import Warehouse
from salescope.errors import InputError, NotFoundError, SalescopeError
from salescope.ingest import mapping as mapping_mod
from salescope.ingest import parsing, targets
from salescope.ingest.readers import CsvReader, Reader, RenumberError, cell_text, database_url, open_reader
from salescope.ingest.text import header_key
from salescope.resolve.identity import assign_ids, record_keys
from salescope.schema.kinds import KINDS
from salescope.services import quality
from salescope.services.progress import NoProgress, Progress
from salescope.services.workspace import Workspace

_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


@dataclass
class ImportResult:
    file: str
    kind: str
    rows: int
    loaded: int
    duplicates: int
    quarantined: int
    skipped: int
    batch_id: str | None
    notes: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "kind": self.kind,
            "rows": self.rows,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "batch_id": self.batch_id,
            "notes": list(self.notes),
        }


# -- reading and mapping ----------------------------------------------------------------------------


def _display_name(path: str | Path) -> str:
    url = database_url(path)
    if url is not None:
        return url.split("@")[-1] if "@" in url else url
    return Path(path).name


def _open(
    path: str | Path,
    kind: str | None,
    mapping: Path | str | dict[str, Any] | None,
    sheet: str | None,
    encoding: str | None,
) -> tuple[Reader, mapping_mod.ColumnMap]:
    name = _display_name(path)
    overrides = mapping_mod.load_overrides(mapping, file=name)
    kind = kind or (str(overrides["kind"]) if overrides.get("kind") else None)
    if kind is not None and kind not in KINDS:
        raise InputError("unknown kind", value=kind, expected=f"one of {', '.join(KINDS)}")
    columns = overrides.get("columns", overrides)
    named = {str(k) for k in columns if k != "kind"} if isinstance(columns, dict) else set()
    keys = {header_key(h) for h in named}
    reader = open_reader(path, sheet=sheet, encoding=encoding, known=lambda h: header_key(h) in keys)
    headers = reader.layout.headers
    chosen = kind or mapping_mod.detect_kind(headers, file=name)
    cmap = mapping_mod.build(headers, chosen, overrides, file=name)
    return reader, cmap


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _store_original(ws: Workspace, path: Path, sha: str) -> tuple[Path, bool]:
    """Keep the file under imports/ named by its content hash (a second import of it stores nothing)."""
    target = ws.imports_dir / sha[:2] / f"{sha}{path.suffix.lower()}"
    if target.exists():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    try:
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _disk_error(exc, ws) from exc
    return target, True


def _disk_error(exc: OSError, ws: Workspace) -> SalescopeError:
    if exc.errno in _FULL:
        return SalescopeError(
            f"The disk holding the workspace {ws.root} is full (or the file size limit was reached); "
            "nothing was imported. Free some space and import again."
        )
    return SalescopeError(f"Cannot write to the workspace {ws.root}: {exc.strerror or exc}; nothing was imported.")


def _is_disk_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "no space left" in text or "file too large" in text or "disk quota" in text


# -- import ------------------------------------------------------------------------------------------


def import_file(
    ws: Workspace,
    path: Path | str,
    *,
    kind: str | None = None,
    mapping: Path | str | dict[str, Any] | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    user: str | None = None,
) -> ImportResult:
    """Import one file (or database table) as a batch; see the module docstring."""
    progress = progress or NoProgress()
    name = _display_name(path)
    reader, cmap = _open(path, kind, mapping, sheet, encoding)
    url = database_url(path)
    if url is None:
        file_path = Path(path)
        sha = _sha256(file_path)
        stored, created = _store_original(ws, file_path, sha)
    else:
        sha = hashlib.sha256(f"{url}#{reader.layout.sheet}".encode()).hexdigest()
        stored, created = None, False
    batch_id = f"{dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
    wh = ws.warehouse
    try:
        result = _import(ws, wh, reader, cmap, name, sha, stored, batch_id, progress, user)
    except BaseException as exc:
        if created and stored is not None:
            with contextlib.suppress(OSError):
                stored.unlink()
        if isinstance(exc, OSError):
            raise _disk_error(exc, ws) from exc
        if isinstance(exc, Exception) and not isinstance(exc, InputError) and _is_disk_full(exc):
            # The engine's own error types (a failed write, a failed COMMIT) say so only in words.
            raise _disk_error(OSError(errno.ENOSPC, "No space left on device"), ws) from exc
        raise
    return result


def _import(
    ws: Workspace,
    wh: Warehouse,
    reader: Reader,
    cmap: mapping_mod.ColumnMap,
    name: str,
    sha: str,
    stored: Path | None,
    batch_id: str,
    progress: Progress,
    user: str | None,
) -> ImportResult:
    task = f"import {name}"
    chunk_rows = ws.settings.imports.chunk_rows
    with wh.transaction():
        stage = loading.Staging(wh)
        plan: parsing.Plan | None = None
        for attempt in (0, 1):
            progress.start(task, total=_estimate_rows(reader))
            try:
                plan = _stage(reader, cmap, sha, stage, chunk_rows, progress, task)
                break
            except RenumberError:
                # Malformed lines: read again serially, where the parser can say where they are.
                stage.drop()
                if isinstance(reader, CsvReader):
                    reader.exact_rows = True
                if attempt:
                    raise
        progress.finish(task)
        if plan is None:
            raise SalescopeError(f"{name}: the file could not be read twice in a row; import it again.")
        if stage.rows == 0:
            raise InputError(
                "the file has a header but no data rows", file=name, expected="at least one row under the header"
            )
        if cmap.kind in targets.MASTER_KINDS:
            tally, extra_notes = _load_master(wh, stage.name, cmap, plan, batch_id)
        else:
            tally, extra_notes = _load_fact(wh, stage.name, cmap, plan, batch_id)
        stage.drop()
        notes = parsing.notes(plan) + extra_notes + cmap.notes
        if tally["loaded"]:
            notes += quality.summary_notes(wh, targets.TABLE_OF[cmap.kind], batch_id)
            if cmap.kind == "sales":
                # The customer aggregates commit with the batch, so analyses never see half of it.
                aggregates.refresh(wh, batch_id)
        if cmap.ignored:
            notes.append("columns not used: " + ", ".join(cmap.ignored))
        rows = sum(tally.values())
        wh.execute(
            "INSERT INTO import_batches (batch_id, kind, file_name, file_sha256, stored_path, imported_at, "
            "imported_by, rows, loaded, duplicates, quarantined, skipped, mapping, notes, status) "
            "VALUES (?, ?, ?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded')",
            [
                batch_id,
                cmap.kind,
                name,
                sha,
                str(stored.relative_to(ws.root)) if stored is not None else None,
                user,
                rows,
                tally["loaded"],
                tally["duplicate"],
                tally["quarantined"],
                tally["skipped"],
                json.dumps(cmap.as_dict(), ensure_ascii=False),
                json.dumps(notes, ensure_ascii=False),
            ],
        )
    return ImportResult(
        file=name,
        kind=cmap.kind,
        rows=rows,
        loaded=tally["loaded"],
        duplicates=tally["duplicate"],
        quarantined=tally["quarantined"],
        skipped=tally["skipped"],
        batch_id=batch_id,
        notes=notes,
        mapping=cmap.as_dict(),
    )


def _estimate_rows(reader: Reader) -> float | None:
    est = getattr(reader, "estimated_rows", None)
    return float(est) if est else None


def _stage(
    reader: Reader,
    cmap: mapping_mod.ColumnMap,
    sha: str,
    stage: loading.Staging,
    chunk_rows: int,
    progress: Progress,
    task: str,
) -> parsing.Plan:
    plan: parsing.Plan | None = None
    for chunk in reader.chunks(chunk_rows):
        if plan is None:
            plan = parsing.plan(cmap, chunk, sha[:10])
        staged = parsing.parse_chunk(plan, chunk)
        if staged.num_rows:
            stage.append(staged)
        progress.advance(task, chunk.table.num_rows + len(chunk.broken))
    return plan or parsing.Plan(cmap, sha[:10])


# -- identities -----------------------------------------------------------------------------------


def _staged_fields(wh: Warehouse, stage: str) -> set[str]:
    return set(loading.Staging.columns_of(wh, stage))


def _records(wh: Warehouse, stage: str, record: dict[str, str], staged: set[str]) -> pd.DataFrame:
    used = [(f, r) for f, r in record.items() if f in staged]
    if not used:
        return pd.DataFrame()
    cols = ", ".join(f"{q(f)} AS {q(r)}" for f, r in used)
    any_present = " OR ".join(f"{q(f)} IS NOT NULL" for f, _ in used)
    df = wh.df(
        f"SELECT {cols}, min(source_row) AS _first FROM {q(stage)} WHERE _bucket IS NULL AND ({any_present}) "
        f"GROUP BY ALL ORDER BY _first"
    )
    return df.drop(columns=["_first"]).astype("object").where(df.drop(columns=["_first"]).notna(), None)


def _resolve_customers(wh: Warehouse, stage: str, staged: set[str]) -> tuple[str | None, pd.DataFrame, pd.DataFrame]:
    """Customer ids for the staged identity records: (ids temp table, new sources, new entities)."""
    records = _records(wh, stage, targets.CUSTOMER_RECORD, staged)
    if records.empty:
        return None, pd.DataFrame(), pd.DataFrame()
    sources = wh.df("SELECT source_key, source_code, source_name, customer_id, evidence, score FROM customer_sources")
    existing_ids = wh.df("SELECT customer_id FROM customers")
    if len(existing_ids):
        # Identities created without a source row (hand-made, merged) still reserve their numbers.
        pad = pd.DataFrame({"customer_id": existing_ids["customer_id"]})
        sources_for_numbering = pd.concat([sources, pad], ignore_index=True)
    else:
        sources_for_numbering = sources
    assignment = assign_ids(records, sources_for_numbering, prefix="C")
    ids = records.copy()
    ids["customer_id"] = assignment.ids.astype("object").where(assignment.ids.notna(), None).to_numpy()
    table = loading.temp_table(wh, pa.Table.from_pandas(ids.astype("object"), preserve_index=False), "ids")
    return table, assignment.new_sources, assignment.new_entities


def _resolve_suppliers(wh: Warehouse, stage: str, staged: set[str]) -> tuple[str | None, pd.DataFrame, pd.DataFrame]:
    """Supplier ids: a known code or name finds its supplier; a new one keeps its own code as id, else an S-number.

    Returns the ids temp table, the new suppliers and the new ``supplier_sources`` rows.
    """
    records = _records(wh, stage, targets.SUPPLIER_RECORD, staged)
    if records.empty:
        return None, pd.DataFrame(), pd.DataFrame()
    existing = wh.df("SELECT supplier_id, name FROM suppliers")
    sources = pd.concat(
        [
            wh.df("SELECT source_key, source_code, source_name, supplier_id, evidence, score FROM supplier_sources"),
            _derived_supplier_sources(existing),
        ],
        ignore_index=True,
    ).drop_duplicates("source_key")
    assignment = assign_ids(records, sources, prefix="S")
    ids = records.copy()
    ids["customer_id"] = assignment.ids.astype("object").to_numpy()
    entities = assignment.new_entities.copy()
    new_sources = assignment.new_sources.rename(columns={"customer_id": "supplier_id"})
    if "code" in records.columns and len(entities):
        # A new supplier with its own code keeps that code as its id.
        first_code = ids.dropna(subset=["code"]).drop_duplicates("customer_id").set_index("customer_id")["code"]
        taken = set(existing["supplier_id"].astype(str))
        fresh = set(entities["id"])
        rename = {
            sid: str(code)
            for sid, code in first_code.items()
            if sid in fresh and str(code) not in taken and str(code) not in fresh
        }
        ids["customer_id"] = ids["customer_id"].map(lambda v: rename.get(v, v))
        entities["id"] = entities["id"].map(lambda v: rename.get(v, v))
        new_sources["supplier_id"] = new_sources["supplier_id"].map(lambda v: rename.get(v, v))
    ids = ids.astype("object").where(ids.notna(), None)
    table = loading.temp_table(wh, pa.Table.from_pandas(ids, preserve_index=False), "sup")
    return table, entities, new_sources


def _derived_supplier_sources(existing: pd.DataFrame) -> pd.DataFrame:
    """Code and name keys of the suppliers themselves, so one created without a source row is still found."""
    cols = ["source_key", "source_code", "source_name", "supplier_id", "evidence", "score"]
    if existing.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    recs = pd.DataFrame({"code": existing["supplier_id"].astype("object"), "name": existing["name"].astype("object")})
    keys = record_keys(recs)
    frames = []
    for level in ("code", "name"):
        part = pd.DataFrame(
            {
                "source_key": keys[level].to_numpy(),
                "source_code": recs["code"].to_numpy(),
                "source_name": recs["name"].to_numpy(),
                "supplier_id": existing["supplier_id"].to_numpy(),
                "evidence": level,
                "score": 1.0,
            }
        ).dropna(subset=["source_key"])
        frames.append(part)
    return pd.concat(frames, ignore_index=True).drop_duplicates("source_key")


def _insert_supplier_sources(wh: Warehouse, sources: pd.DataFrame, batch_id: str) -> None:
    """Register the batch's new supplier spellings and codes, for suppliers that exist after it."""
    if sources.empty:
        return
    src = _frame_table(wh, sources.assign(score=sources["score"].astype("float64")), "ssrc")
    wh.execute(
        "INSERT INTO supplier_sources (source_key, source_code, source_name, supplier_id, evidence, score, batch_id) "
        f"SELECT source_key, source_code, source_name, supplier_id, evidence, score, {lit(batch_id)} FROM {q(src)} "
        "WHERE supplier_id IN (SELECT supplier_id FROM suppliers) "
        "AND source_key NOT IN (SELECT source_key FROM supplier_sources)"
    )
    loading.drop_temp(wh, src)


def _product_names(wh: Warehouse) -> str:
    return loading.temp_table(
        wh,
        wh.arrow(
            "SELECT lower(name) AS key, min(product_id) AS product_id FROM products WHERE name IS NOT NULL GROUP BY 1"
        ),
        "pn",
    )


# -- facts ------------------------------------------------------------------------------------------


def _load_fact(
    wh: Warehouse, stage: str, cmap: mapping_mod.ColumnMap, plan: parsing.Plan, batch_id: str
) -> tuple[dict[str, int], list[str]]:
    staged = _staged_fields(wh, stage)
    temps: list[str] = []
    notes: list[str] = []
    cust_table, new_sources, new_entities = (None, pd.DataFrame(), pd.DataFrame())
    if cmap.kind in targets.CUSTOMER_KINDS:
        cust_table, new_sources, new_entities = _resolve_customers(wh, stage, staged)
    sup_table, new_suppliers, supplier_sources = (None, pd.DataFrame(), pd.DataFrame())
    if cmap.kind == "purchases":
        sup_table, new_suppliers, supplier_sources = _resolve_suppliers(wh, stage, staged)
    names = _product_names(wh)
    temps += [t for t in (cust_table, sup_table, names) if t]
    spec = targets.fact_load(cmap, staged, customer_ids=cust_table, supplier_ids=sup_table, product_names=names)
    classified = loading.classify(wh, stage, spec)
    temps.append(classified)
    tally = loading.counts(wh, classified)
    table = spec.table
    if cust_table is not None:
        notes += _insert_customers(wh, classified, new_entities, new_sources, batch_id, table)
    if sup_table is not None:
        notes += _insert_suppliers(wh, classified, new_suppliers, batch_id)
        _insert_supplier_sources(wh, supplier_sources, batch_id)
    if "product_id" in spec.exprs:
        notes += _insert_products(wh, classified, batch_id)
    loading.insert_loaded(wh, classified, table, list(spec.exprs), batch_id)
    loading.insert_quarantine(wh, classified, stage, batch_id, spec.raw_fields, spec.raw_extra)
    if tally["loaded"] and table == "sales":
        anonymous = int(
            wh.scalar(f"SELECT count(*) FROM {q(classified)} WHERE _bucket IS NULL AND customer_id IS NULL")
        )
        if anonymous:
            lines = parsing.plural(anonymous, "line has", "lines have")
            notes.append(f"{lines} no customer identity and load as anonymous sales")
        unknown = int(
            wh.scalar(
                f"SELECT count(*) FROM {q(classified)} WHERE _bucket IS NULL AND product_id = "
                f"{lit(targets.UNKNOWN_PRODUCT)}"
            )
        )
        if unknown:
            lines = parsing.plural(unknown, "line names", "lines name")
            notes.append(f"{lines} no product and load with the unknown product")
    loading.drop_temp(wh, *temps)
    return tally, notes


def _frame_table(wh: Warehouse, frame: pd.DataFrame, prefix: str) -> str:
    """A pandas frame from identity resolution (object columns, NA or None for missing) as a temp table."""
    clean = frame.astype("object").where(frame.notna(), None)
    return loading.temp_table(wh, pa.Table.from_pandas(clean, preserve_index=False), prefix)


def _insert_customers(
    wh: Warehouse,
    classified: str,
    entities: pd.DataFrame,
    sources: pd.DataFrame,
    batch_id: str,
    table: str,
) -> list[str]:
    """New identities that loaded rows use, with what their lines say about them (first date, salesperson, place)."""
    notes: list[str] = []
    used = f"SELECT DISTINCT customer_id FROM {q(classified)} WHERE _bucket IS NULL AND customer_id IS NOT NULL"
    if not entities.empty:
        ent = entities.rename(columns={"id": "customer_id"})
        for c in ("email", "address", "city", "province", "tax_id"):
            if c not in ent.columns:
                ent = ent.assign(**{c: None})
        ent_table = _frame_table(wh, ent, "ent")
        date_col = {"sales": "order_date", "opportunities": "created_date", "feedback": "date"}.get(table)
        has = set(loading.Staging.columns_of(wh, classified))
        facts = ["customer_id"]
        if date_col:
            facts.append(f"min({q(date_col)}) AS first_seen")
        for col in ("salesperson", "region", "city", "province"):
            if col in has:
                facts.append(f"mode({q(col)}) AS {q(col)}")
        # Facts only for the new identities: a batch of known customers costs nothing here.
        wh.execute(
            f"CREATE OR REPLACE TEMP TABLE _cfacts AS SELECT {', '.join(facts)} FROM {q(classified)} c "
            f"SEMI JOIN {q(ent_table)} e USING (customer_id) WHERE c._bucket IS NULL GROUP BY customer_id"
        )
        fcols = {r[0] for r in wh.rows("SELECT column_name FROM (DESCRIBE _cfacts)")}

        def pick(col: str) -> str:
            e = f"e.{q(col)}" if col in ("city", "province") else "NULL"
            f = f"f.{q(col)}" if col in fcols else "NULL"
            return f"coalesce({e}, {f})"

        wh.execute(
            "INSERT INTO customers (customer_id, name, kind, phone, email, address, city, province, region, "
            "salesperson, tax_id, first_seen, batch_id) "
            f"SELECT e.customer_id, e.name, e.kind, e.phone, e.email, e.address, {pick('city')}, "
            f"{pick('province')}, {pick('region')}, {pick('salesperson')}, e.tax_id, "
            f"{'f.first_seen' if 'first_seen' in fcols else 'NULL'}, {lit(batch_id)} "
            f"FROM {q(ent_table)} e JOIN _cfacts f USING (customer_id)"
        )
        added = int(wh.scalar("SELECT count(*) FROM _cfacts"))
        loading.drop_temp(wh, ent_table, "_cfacts")
        if added:
            notes.append(parsing.plural(added, "new customer"))
    if not sources.empty:
        src = _frame_table(wh, sources.assign(score=sources["score"].astype("float64")), "src")
        # A source key is kept when its identity exists (new or old); keys of rows that did not load are dropped.
        wh.execute(
            "INSERT INTO customer_sources (source_key, source_code, source_name, customer_id, evidence, score, "
            f"batch_id) SELECT source_key, source_code, source_name, customer_id, evidence, score, {lit(batch_id)} "
            f"FROM {q(src)} WHERE customer_id IN (SELECT customer_id FROM customers) OR customer_id IN ({used})"
        )
        loading.drop_temp(wh, src)
    return notes


def _insert_suppliers(wh: Warehouse, classified: str, entities: pd.DataFrame, batch_id: str) -> list[str]:
    if entities.empty:
        return []
    used = {r[0] for r in wh.rows(f"SELECT DISTINCT supplier_id FROM {q(classified)} WHERE _bucket IS NULL")}
    ent = entities[entities["id"].isin(used)]
    if ent.empty:
        return []
    data = pa.table(
        {
            "supplier_id": pa.array(ent["id"].astype(str).tolist(), pa.string()),
            "name": pa.array([None if v is None else str(v) for v in ent["name"].tolist()], pa.string()),
            "phone": pa.array(
                [None if v is None else str(v) for v in ent.get("phone", [None] * len(ent))], pa.string()
            ),
            "batch_id": pa.array([batch_id] * len(ent), pa.string()),
        }
    )
    wh.insert_arrow("suppliers", data)
    return [parsing.plural(len(ent), "new supplier")]


def _insert_products(wh: Warehouse, classified: str, batch_id: str) -> list[str]:
    have = set(loading.Staging.columns_of(wh, classified))
    name = "_product_name" if "_product_name" in have else "NULL"
    cat = "_category" if "_category" in have else "NULL"
    sub = "_subcategory" if "_subcategory" in have else "NULL"
    price = "median(_unit_price)" if "_unit_price" in have else "NULL"
    unknown = lit(targets.UNKNOWN_PRODUCT)
    wh.execute(
        "INSERT INTO products (product_id, name, category, subcategory, unit_price, batch_id) "
        f"SELECT product_id, CASE WHEN product_id = {unknown} THEN {lit(targets.UNKNOWN_PRODUCT_NAME)} "
        f"ELSE arg_min({name}, source_row) END, arg_min({cat}, source_row), arg_min({sub}, source_row), "
        f"CAST({price} AS DECIMAL(18,4)), {lit(batch_id)} FROM {q(classified)} c "
        "WHERE _bucket IS NULL AND product_id IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM products p WHERE p.product_id = c.product_id) GROUP BY product_id"
    )
    n = int(wh.scalar(f"SELECT count(*) FROM products WHERE batch_id = {lit(batch_id)}"))
    return [parsing.plural(n, "new product")] if n else []


# -- master data ------------------------------------------------------------------------------------

_MASTER_COLUMNS = {
    "customers": {
        "customer_name": "name",
        "kind": "kind",
        "phone": "phone",
        "email": "email",
        "address": "address",
        "city": "city",
        "province": "province",
        "region": "region",
        "industry": "industry",
        "salesperson": "salesperson",
        "tax_id": "tax_id",
    },
    "products": {
        "product_name": "name",
        "category": "category",
        "subcategory": "subcategory",
        "unit_cost": "unit_cost",
        "unit_price": "unit_price",
    },
    "suppliers": {"supplier_name": "name", "phone": "phone", "province": "province", "category": "category"},
}
_MASTER_KEY = {"customers": "customer_id", "products": "product_id", "suppliers": "supplier_id"}


def _load_master(
    wh: Warehouse, stage: str, cmap: mapping_mod.ColumnMap, plan: parsing.Plan, batch_id: str
) -> tuple[dict[str, int], list[str]]:
    """Master rows: one per entity; a repeat is a duplicate, an entity already known is updated (undoably)."""
    staged = _staged_fields(wh, stage)
    kind = cmap.kind
    table = kind
    key = _MASTER_KEY[kind]
    temps: list[str] = []
    notes: list[str] = []
    new_sources = pd.DataFrame()
    new_entities = pd.DataFrame()
    supplier_sources = pd.DataFrame()
    if kind == "customers":
        ids, new_sources, new_entities = _resolve_customers(wh, stage, staged)
        join = targets.identity_join(targets.CUSTOMER_RECORD, staged, ids, "s", "ci") if ids else ""
        key_expr = "ci.customer_id" if ids else "NULL"
        temps += [ids] if ids else []
    elif kind == "suppliers":
        ids, new_entities, supplier_sources = _resolve_suppliers(wh, stage, staged)
        join = targets.identity_join(targets.SUPPLIER_RECORD, staged, ids, "s", "si") if ids else ""
        key_expr = "si.customer_id" if ids else "NULL"
        temps += [ids] if ids else []
    else:
        names = _product_names(wh)
        temps.append(names)
        join = targets.product_join(staged, names)
        key_expr = targets.product_id_sql(staged)
    columns = {f: c for f, c in _MASTER_COLUMNS[kind].items() if f in staged}
    if kind == "customers" and "kind" in columns:
        kind_sql = (
            "CASE WHEN s.kind IS NULL THEN NULL WHEN lower(s.kind) IN ('company', 'business', 'b2b', '企业', '公司', "
            "'单位', '企业客户', '公司客户') THEN 'company' WHEN lower(s.kind) IN ('person', 'individual', 'consumer', "
            "'b2c', '个人', '个人客户', '散客') THEN 'person' ELSE s.kind END"
        )
    else:
        kind_sql = None
    selects = [f"{key_expr} AS {q(key)}"]
    for f, c in columns.items():
        selects.append(f"{kind_sql if c == 'kind' and kind_sql else 's.' + q(f)} AS {q(c)}")
    cols = list(columns.values())
    rebuilt = loading.rebuilt_raw_sql([(cmap.header_of(f), f) for f in cmap.fields if f in staged])
    raw = f"coalesce(s._raw, {rebuilt})"
    content = "struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in cols) + ")" if cols else "NULL"
    name = f"{stage}_m"
    wh.execute(
        f"""CREATE TEMP TABLE {q(name)} AS
WITH r AS (
  SELECT s.source_row, s._bucket, s._column, s._value, s._reason, {raw} AS _raw, {", ".join(selects)}
  FROM {q(stage)} s {join}
), k AS (
  SELECT r.*, {content} AS _content,
    row_number() OVER w AS _rank, first_value({content}) OVER w AS _first, first_value(source_row) OVER w AS _first_row
  FROM r WINDOW w AS (PARTITION BY _bucket IS NULL, {q(key)} ORDER BY source_row)
)
SELECT * EXCLUDE (_bucket, _reason, _content, _first, _rank, _first_row),
  CASE WHEN _bucket IS NOT NULL THEN _bucket
       WHEN {q(key)} IS NULL THEN 'quarantined'
       WHEN _rank > 1 AND _first IS NOT DISTINCT FROM _content THEN 'duplicate'
       WHEN _rank > 1 THEN 'quarantined'
       ELSE 'candidate' END AS _bucket,
  CASE WHEN _bucket IS NOT NULL THEN _reason
       WHEN {q(key)} IS NULL THEN 'no identity could be given to this row'
       WHEN _rank > 1 AND _first IS DISTINCT FROM _content THEN
         'this row is the same {kind[:-1]} (' || {q(key)} || ') as row ' || CAST(_first_row AS VARCHAR) ||
         ' with different values; merge the two rows'
  END AS _reason
FROM k"""
    )
    temps.append(name)
    # Candidates whose provided fields all equal the stored entity change nothing: duplicates.
    same = " AND ".join(f"(m.{q(c)} IS NULL OR m.{q(c)} IS NOT DISTINCT FROM t.{q(c)})" for c in cols) or "TRUE"
    wh.execute(
        f"UPDATE {q(name)} m SET _bucket = 'duplicate' FROM {q(table)} t "
        f"WHERE m._bucket = 'candidate' AND t.{q(key)} = m.{q(key)} AND {same}"
    )
    data = f"{name}_d"
    wh.execute(
        f"CREATE TEMP TABLE {q(data)} AS SELECT {', '.join(q(c) for c in [key, *cols])} FROM {q(name)} "
        "WHERE _bucket = 'candidate'"
    )
    temps.append(data)
    if kind == "customers" and not new_entities.empty:
        ent = new_entities.rename(columns={"id": key})[[key, "kind"]]
        ent_t = loading.temp_table(wh, pa.Table.from_pandas(ent.astype("object"), preserve_index=False), "kinds")
        temps.append(ent_t)
        if "kind" not in cols:
            wh.execute(f"ALTER TABLE {q(data)} ADD COLUMN kind VARCHAR")
            cols.append("kind")
        wh.execute(
            f"UPDATE {q(data)} d SET kind = coalesce(d.kind, e.kind) FROM {q(ent_t)} e WHERE e.{q(key)} = d.{q(key)}"
        )
    inserted, updated, _same = loading.upsert_master(wh, data, table, key, cols, batch_id)
    wh.execute(f"UPDATE {q(name)} SET _bucket = NULL WHERE _bucket = 'candidate'")
    if updated:
        notes.append(f"{parsing.plural(updated, 'existing ' + kind[:-1])} updated (undo restores them)")
    if inserted:
        notes.append(parsing.plural(inserted, "new " + kind[:-1]))
    if kind == "customers" and not new_sources.empty:
        known = {r[0] for r in wh.rows("SELECT customer_id FROM customers")}
        keep = new_sources[new_sources["customer_id"].isin(known)].copy()
        if len(keep):
            keep["batch_id"] = batch_id
            keep = keep.astype("object").where(keep.notna(), None)
            keep["score"] = keep["score"].astype("float64")
            wh.insert_arrow("customer_sources", pa.Table.from_pandas(keep, preserve_index=False))
    if kind == "suppliers":
        _insert_supplier_sources(wh, supplier_sources, batch_id)
    wh.execute(
        "INSERT INTO quarantine (batch_id, source_row, bucket, column_name, value, reason, raw) "
        f"SELECT {lit(batch_id)}, source_row, _bucket, _column, _value, coalesce(_reason, 'unreadable row'), _raw "
        f"FROM {q(name)} WHERE _bucket IN ('quarantined', 'skipped')"
    )
    tally = loading.counts(wh, name)
    loading.drop_temp(wh, *temps)
    return tally, notes


# -- batches ------------------------------------------------------------------------------------------


def list_batches(ws: Workspace) -> list[dict[str, object]]:
    """Every import batch, newest first, with its counts and status."""
    df = ws.warehouse.df(
        "SELECT batch_id, kind, file_name, imported_at, imported_by, rows, loaded, duplicates, quarantined, skipped, "
        "status FROM import_batches ORDER BY imported_at DESC, batch_id DESC"
    )
    out: list[dict[str, object]] = []
    for rec in df.to_dict(orient="records"):
        rec["imported_at"] = str(rec["imported_at"])
        out.append({str(k): (None if isinstance(v, float) and v != v else v) for k, v in rec.items()})
    return out


def batch_info(ws: Workspace, batch_id: str) -> dict[str, object]:
    wh = ws.warehouse
    df = wh.df("SELECT * FROM import_batches WHERE batch_id = ?", [batch_id])
    if df.empty:
        raise NotFoundError(f"No import batch {batch_id!r}; `salescope import --list` shows the batches.")
    rec = df.to_dict(orient="records")[0]
    rec["mapping"] = json.loads(rec["mapping"] or "{}")
    rec["notes"] = json.loads(rec["notes"] or "[]")
    rec["imported_at"] = str(rec["imported_at"])
    return {str(k): v for k, v in rec.items()}


_FACT_TABLES = ("sales", "purchases", "inventory", "opportunities", "feedback", "targets")


def undo_batch(ws: Workspace, batch_id: str, *, user: str | None = None) -> dict[str, object]:
    """Remove one batch's rows, and the identities only it introduced, in one transaction."""
    wh = ws.warehouse
    info = batch_info(ws, batch_id)
    if info["status"] == "undone":
        raise InputError("the batch was already undone", value=batch_id, expected="a batch whose status is loaded")
    removed: dict[str, object] = {"batch_id": batch_id}
    b = lit(batch_id)
    with wh.transaction():
        for table in _FACT_TABLES:
            n = int(wh.scalar(f"SELECT count(*) FROM {q(table)} WHERE batch_id = {b}"))
            if n:
                wh.execute(f"DELETE FROM {q(table)} WHERE batch_id = {b}")
            removed[table] = n
        removed["restored"] = loading.restore_revisions(wh, batch_id)
        if removed["sales"]:
            aggregates.refresh(wh)
        removed.update(_release_entities(wh, batch_id))
        earlier = info["notes"] if isinstance(info["notes"], list) else []
        notes = [*earlier, f"undone by {user or 'unknown'} at {dt.datetime.now():%Y-%m-%d %H:%M:%S}"]
        wh.execute(
            "UPDATE import_batches SET status = 'undone', notes = ? WHERE batch_id = ?",
            [json.dumps(notes, ensure_ascii=False), batch_id],
        )
    return removed


_REFERENCES = {
    "customers": ("customer_id", ("sales", "opportunities", "feedback")),
    "products": ("product_id", ("sales", "purchases", "inventory", "opportunities")),
    "suppliers": ("supplier_id", ("purchases",)),
}


def _release_entities(wh: Warehouse, batch_id: str) -> dict[str, int]:
    """Delete the entities the batch introduced that nothing else uses; hand the rest to a batch that does."""
    b = lit(batch_id)
    out: dict[str, int] = {}
    for table, (key, users) in _REFERENCES.items():
        k = q(key)
        refs = " UNION ALL ".join(f"SELECT {k} AS id, batch_id FROM {q(u)} WHERE {k} IS NOT NULL" for u in users)
        wh.execute(
            f"CREATE OR REPLACE TEMP TABLE _refs AS SELECT id, min(batch_id) AS batch_id FROM ({refs}) GROUP BY id"
        )
        wh.execute(
            f"UPDATE {q(table)} t SET batch_id = r.batch_id FROM _refs r WHERE t.batch_id = {b} AND r.id = t.{k}"
        )
        n = int(wh.scalar(f"SELECT count(*) FROM {q(table)} WHERE batch_id = {b}"))
        wh.execute(f"DELETE FROM {q(table)} WHERE batch_id = {b}")
        out[f"{table}_removed"] = n
        wh.execute("DROP TABLE IF EXISTS _refs")
    for sources, key, table in (
        ("customer_sources", "customer_id", "customers"),
        ("supplier_sources", "supplier_id", "suppliers"),
    ):
        # Keys whose identity went with the batch go too; the rest follow their identity to its new batch.
        wh.execute(f"DELETE FROM {sources} WHERE batch_id = {b} AND {key} NOT IN (SELECT {key} FROM {table})")
        wh.execute(
            f"UPDATE {sources} s SET batch_id = e.batch_id FROM {table} e WHERE s.batch_id = {b} AND e.{key} = s.{key}"
        )
    return out


def export_quarantine(ws: Workspace, batch_id: str, out: Path) -> int:
    """Write a batch's quarantined rows as CSV: the source columns (plus a line number where one was
    assigned) and the reason. Correct the values, delete the reason column or keep it (it is ignored),
    and import the file again."""
    info = batch_info(ws, batch_id)
    rows = ws.warehouse.rows(
        "SELECT source_row, raw, reason FROM quarantine WHERE batch_id = ? AND bucket = 'quarantined' "
        "ORDER BY source_row",
        [batch_id],
    )
    headers: list[str] = list(dict(info["mapping"]).keys()) if isinstance(info["mapping"], dict) else []
    records: list[tuple[int, dict[str, Any], str]] = []
    for source_row, raw, reason in rows:
        data = json.loads(raw) if raw else {}
        records.append((int(source_row), data, str(reason)))
        for k in data:
            if k not in headers and k != "_line":
                headers.append(k)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*headers, "source_row", "quarantine_reason"])
        for source_row, data, reason in records:
            if "_line" in data:
                cells = next(csv.reader([data["_line"]]), [])
                values = (cells + [""] * len(headers))[: len(headers)]
            else:
                values = ["" if data.get(h) is None else str(data.get(h)) for h in headers]
            w.writerow([*values, source_row, reason])
    return len(records)


def quarantine_rows(ws: Workspace, batch_id: str, *, limit: int = 100, offset: int = 0) -> dict[str, object]:
    """A page of a batch's quarantined and skipped rows (for the web import page)."""
    wh = ws.warehouse
    total = int(wh.scalar("SELECT count(*) FROM quarantine WHERE batch_id = ?", [batch_id]))
    df = wh.df(
        "SELECT source_row, bucket, column_name, value, reason, raw FROM quarantine WHERE batch_id = ? "
        "ORDER BY source_row LIMIT ? OFFSET ?",
        [batch_id, limit, offset],
    )
    items = []
    for rec in df.to_dict(orient="records"):
        rec["raw"] = json.loads(rec["raw"]) if rec["raw"] else {}
        items.append({str(k): (None if isinstance(v, float) and v != v else v) for k, v in rec.items()})
    return {"items": items, "total": total}


# -- preview -------------------------------------------------------------------------------------------


def preview(
    ws_or_none: Workspace | None,
    path: Path | str,
    *,
    kind: str | None = None,
    mapping: Path | str | dict[str, Any] | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    rows: int = 20,
) -> dict[str, Any]:
    """What an import would read, without writing anything: layout, kind, mapping and parsed sample rows."""
    reader, cmap = _open(path, kind, mapping, sheet, encoding)
    layout = reader.layout
    sample: list[dict[str, Any]] = []
    parsed_rows: list[dict[str, Any]] = []
    for chunk in reader.chunks(max(rows, 1)):
        plan = parsing.plan(cmap, chunk, "preview")
        staged = parsing.parse_chunk(plan, chunk)
        for rec in chunk.table.slice(0, rows).to_pylist():
            sample.append({layout.headers[int(c[1:])]: cell_text(v) for c, v in rec.items()})
        fields = [
            f
            for f in staged.column_names
            if f in {x.name for x in KINDS[cmap.kind].fields} or f in ("_bucket", "_reason", "source_row")
        ]
        for rec in staged.select(fields).slice(0, rows).to_pylist():
            parsed_rows.append(
                {k: (str(v) if v is not None and not isinstance(v, int | str) else v) for k, v in rec.items()}
            )
        break
    return {
        "file": _display_name(path),
        "format": layout.format,
        "encoding": layout.encoding,
        "sheet": layout.sheet,
        "sheets": layout.sheets,
        "header_row": layout.header_row,
        "headers": layout.headers,
        "kind": cmap.kind,
        "mapping": cmap.as_dict(),
        "ignored": cmap.ignored,
        "notes": cmap.notes,
        "sample": sample,
        "parsed": parsed_rows,
    }
