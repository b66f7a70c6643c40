"""Deterministic identity assignment at import time: every record gets the id its strongest key earns.

Keys are tried strongest first — the source's own code, a tax id or resident ID number, name
with phone, name alone, phone alone, email alone — and each key a batch introduces is recorded
in ``customer_sources`` so the next file that spells the customer the same way lands on the same
id. Nothing here guesses: near-miss spellings are left as separate identities for the
probabilistic pass (``salescope.resolve.matching``) to propose as merges, where a person can review them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salescope.resolve import normalize as nz
from salescope.resolve.features import distinct_rows

# Levels, strongest first: the first key a record has decides which records it is grouped with.
LEVELS: tuple[str, ...] = ("code", "strong", "np", "name", "phone", "email")

# Keys consulted against existing sources for a group at each level, in order of trust. A source
# code is trusted: a new code only joins an existing identity through a tax id or ID number.
# Persons with a phone are not matched on name alone (two 张伟 with different phones are two people).
_LOOKUPS: dict[str, tuple[str, ...]] = {
    "code": ("code", "strong"),
    "strong": ("strong", "np", "company_name"),
    "np": ("np", "company_name"),
    "name": ("name",),
    "phone": ("phone",),
    "email": ("email",),
}
_EVIDENCE: dict[str, str] = {
    "code": "code",
    "strong": "tax_id",
    "np": "name+phone",
    "name": "name",
    "company_name": "name",
    "phone": "phone",
    "email": "email",
}
_REGISTERED: tuple[str, ...] = ("code", "strong", "np", "name", "phone", "email")
SOURCE_COLUMNS: tuple[str, ...] = ("source_key", "source_code", "source_name", "customer_id", "evidence", "score")
ENTITY_OPTIONAL: tuple[str, ...] = ("email", "address", "city", "province", "tax_id")
ID_WIDTH = 6


@dataclass
class Assignment:
    """The ids for a batch, plus the source keys and identities it introduces."""

    ids: pd.Series
    new_sources: pd.DataFrame
    new_entities: pd.DataFrame


def _column(records: pd.DataFrame, name: str) -> pd.Series:
    if name in records.columns:
        return records[name].reset_index(drop=True).astype("object")
    return pd.Series([None] * len(records), dtype="object")


def _prefixed(prefix: str, values: pd.Series) -> pd.Series:
    return pd.Series([None if v is None else prefix + v for v in values.tolist()], dtype="object")


def _joined(left: pd.Series, right: pd.Series) -> pd.Series:
    pairs = zip(left.tolist(), right.tolist(), strict=True)
    return pd.Series([None if a is None or b is None else f"{a}|{b}" for a, b in pairs], dtype="object")


def _keep(values: pd.Series, mask: pd.Series) -> pd.Series:
    return values.where(mask.to_numpy(dtype=bool), None)


def record_keys(records: pd.DataFrame) -> pd.DataFrame:
    """Source keys per record (positional index), None where the record lacks that key."""
    name = _column(records, "name")
    tax = nz.tax_id_keys(_column(records, "tax_id"))
    lengths = tax.map(lambda v: len(v) if v else 0, na_action="ignore").fillna(0).astype(int)
    tax = _keep(tax, nz.uscc_valid_mask(tax) | (lengths.between(15, 20) & (lengths != 18)))
    id_no = nz.tax_id_keys(_column(records, "id_number"))
    id_no = _keep(id_no, nz.cn_id_valid_mask(id_no))
    company = nz.looks_like_company_mask(name) | tax.notna()
    name_key = nz.company_name_keys(name).where(company.to_numpy(), nz.person_name_keys(name))
    phone = nz.phone_keys(_column(records, "phone"))
    email = nz.email_keys(_column(records, "email"))
    strong = _prefixed("tax:", tax)
    strong = strong.where(strong.notna(), _prefixed("idno:", id_no))
    keys = pd.DataFrame(
        {
            "code": _prefixed("code:", nz.code_keys(_column(records, "code"))),
            "strong": strong,
            "np": _prefixed("np:", _joined(name_key, phone)),
            "name": _prefixed("name:", name_key),
            "phone": _prefixed("phone:", phone),
            "email": _prefixed("email:", email),
        }
    )
    keys["company_name"] = _keep(keys["name"], company)
    keys["is_company"] = company.to_numpy()
    keys["has_name"] = name_key.notna().to_numpy()
    keys["phone_e164"] = phone
    keys["email_norm"] = email
    keys["tax_norm"] = tax
    return keys


def _next_number(existing_ids: pd.Series, prefix: str) -> tuple[int, int]:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    best, width = 0, ID_WIDTH
    for value in existing_ids.dropna().astype(str).unique():
        m = pattern.match(value)
        if m:
            best = max(best, int(m.group(1)))
            width = max(width, len(m.group(1)))
    return best + 1, width


def _empty_sources() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="float64" if c == "score" else "object") for c in SOURCE_COLUMNS})


def assign_ids(records: pd.DataFrame, sources: pd.DataFrame, *, prefix: str = "C") -> Assignment:
    """Give every record an identity id, reusing known source keys and numbering new identities in file order.

    ``sources`` are the current customer_sources (or supplier_sources, keyed by supplier_id) rows.
    """
    used = ("code", "name", "phone", "email", "tax_id", "id_number", *ENTITY_OPTIONAL)
    distinct, codes = distinct_rows(records, used)
    assignment = _assign_distinct(distinct, sources, prefix)
    ids = pd.Series(assignment.ids.to_numpy()[codes], index=records.index, dtype="string")
    return Assignment(ids=ids, new_sources=assignment.new_sources, new_entities=assignment.new_entities)


def _assign_distinct(records: pd.DataFrame, sources: pd.DataFrame, prefix: str) -> Assignment:
    n = len(records)
    keys = record_keys(records)
    level = pd.Series([None] * n, dtype="object")
    pk = pd.Series([None] * n, dtype="object")
    for lv in reversed(LEVELS):
        present = keys[lv].notna().to_numpy()
        level[present] = lv
        pk[present] = keys[lv][present].astype(str).to_numpy()
    keys["level"] = level
    keys["pk"] = pk
    keys["row"] = np.arange(n)

    # customer_sources name the identity customer_id, supplier_sources supplier_id.
    id_col = next((c for c in ("customer_id", "supplier_id") if c in sources.columns), None)
    known: dict[str, str] = {}
    if id_col is not None and len(sources) and "source_key" in sources.columns:
        src = sources.dropna(subset=["source_key", id_col])
        known = dict(zip(src["source_key"].astype(str), src[id_col].astype(str), strict=True))
    existing_ids = sources[id_col] if id_col is not None else pd.Series(dtype="object")
    next_no, width = _next_number(existing_ids, prefix)

    pk_id: dict[str, str] = {}
    new_source_frames: list[pd.DataFrame] = []
    new_groups: list[pd.DataFrame] = []
    first_row = keys.dropna(subset=["pk"]).groupby("pk", sort=False)["row"].min()

    for lv in LEVELS:
        at_level = keys[keys["level"] == lv]
        if at_level.empty:
            continue
        resolved, evidence = _lookup(at_level, lv, known)
        group_rows = first_row.loc[at_level["pk"].unique()].sort_values(kind="stable")
        fresh = [g for g in group_rows.index if g not in resolved]
        for g in fresh:
            resolved[g] = f"{prefix}{next_no:0{width}d}"
            evidence[g] = "new"
            next_no += 1
        if fresh:
            new_groups.append(pd.DataFrame({"pk": fresh, "id": [resolved[g] for g in fresh]}))
        pk_id.update(resolved)
        registered = _register(records, at_level, resolved, evidence, known, group_rows)
        if not registered.empty:
            known.update(zip(registered["source_key"], registered["customer_id"], strict=True))
            new_source_frames.append(registered)

    ids = pd.Series(keys["pk"].map(pk_id).to_numpy(), dtype="string")
    new_sources = (
        pd.concat(new_source_frames, ignore_index=True)[list(SOURCE_COLUMNS)] if new_source_frames else _empty_sources()
    )
    entities = _entities(records, keys, new_groups)
    return Assignment(ids=ids, new_sources=new_sources, new_entities=entities)


def _lookup(at_level: pd.DataFrame, lv: str, known: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Existing ids for this level's groups: the most trusted key that is already known wins."""
    resolved: dict[str, str] = {}
    evidence: dict[str, str] = {}
    if not known:
        return resolved, evidence
    for kind in _LOOKUPS[lv]:
        pairs = at_level[["pk", kind, "row"]].dropna(subset=[kind])
        pairs = pairs[~pairs["pk"].isin(resolved.keys())]
        if pairs.empty:
            continue
        hit = pairs[kind].astype(str).map(known)
        pairs = pairs.assign(hit=hit).dropna(subset=["hit"]).sort_values(["pk", "row"], kind="stable")
        if kind == "code":
            pairs = pairs[~_contradicted(pairs, at_level, known)]
        for g, cid in pairs.drop_duplicates("pk")[["pk", "hit"]].itertuples(index=False):
            resolved[str(g)] = str(cid)
            evidence[str(g)] = _EVIDENCE[kind]
    return resolved, evidence


def _contradicted(pairs: pd.DataFrame, at_level: pd.DataFrame, known: dict[str, str]) -> np.ndarray:
    """A known code is trusted unless the record's valid tax id / ID number says it is someone else.

    True where the identity the code points to has a strong key and the record brings a different one.
    """
    strong_of: dict[str, set[str]] = {}
    for key, cid in known.items():
        if key.startswith(("tax:", "idno:")):
            strong_of.setdefault(cid, set()).add(key)
    if not strong_of:
        return np.zeros(len(pairs), dtype=bool)
    record_strong = at_level["strong"].reindex(pairs.index)
    return np.array(
        [
            isinstance(mine, str) and cid in strong_of and mine not in strong_of[cid]
            for mine, cid in zip(record_strong.tolist(), pairs["hit"].tolist(), strict=True)
        ],
        dtype=bool,
    )


def _register(
    records: pd.DataFrame,
    at_level: pd.DataFrame,
    resolved: dict[str, str],
    evidence: dict[str, str],
    known: dict[str, str],
    group_rows: pd.Series,
) -> pd.DataFrame:
    """Source rows for keys this level's groups bring that no identity claims yet; first group in file order wins."""
    codes = _column(records, "code")
    names = _column(records, "name")
    frames = []
    for kind in _REGISTERED:
        part = at_level[["pk", kind, "row"]].dropna(subset=[kind]).rename(columns={kind: "source_key"})
        if not part.empty:
            frames.append(part)
    if not frames:
        return _empty_sources()
    pairs = pd.concat(frames, ignore_index=True)
    pairs["source_key"] = pairs["source_key"].astype(str)
    pairs = pairs[~pairs["source_key"].isin(known.keys())]
    if pairs.empty:
        return _empty_sources()
    pairs["group_row"] = pairs["pk"].map(group_rows)
    pairs = pairs.sort_values(["group_row", "row"], kind="stable").drop_duplicates("source_key")
    rows = pairs["row"].to_numpy()
    return pd.DataFrame(
        {
            "source_key": pairs["source_key"].to_numpy(),
            "source_code": _clean_text(codes.iloc[rows]).to_numpy(),
            "source_name": _clean_text(names.iloc[rows]).to_numpy(),
            "customer_id": pairs["pk"].map(resolved).to_numpy(),
            "evidence": pairs["pk"].map(evidence).to_numpy(),
            "score": 1.0,
        }
    )


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    keep = (text.notna() & (text != "")).fillna(False).to_numpy(dtype=bool)
    return text.astype("object").where(keep, None)


def _entities(records: pd.DataFrame, keys: pd.DataFrame, new_groups: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per new identity, each attribute taken from the first record of the group that has it."""
    optional = [c for c in ENTITY_OPTIONAL if c in records.columns]
    columns = ["id", "name", "phone", "kind", *optional]
    if not new_groups:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    groups = pd.concat(new_groups, ignore_index=True)
    attrs = pd.DataFrame(
        {
            "pk": keys["pk"],
            "row": keys["row"],
            "name": _clean_text(_column(records, "name")),
            "phone": keys["phone_e164"].astype("object"),
            "is_company": keys["is_company"],
            "has_name": keys["has_name"],
        }
    )
    for c in optional:
        if c == "email":
            attrs[c] = keys["email_norm"].astype("object")
        elif c == "tax_id":
            attrs[c] = keys["tax_norm"].astype("object")
        else:
            attrs[c] = _clean_text(_column(records, c))
    attrs = attrs[attrs["pk"].isin(set(groups["pk"]))].sort_values("row", kind="stable")
    first = attrs.groupby("pk", sort=False).first()
    # Kind needs a name (or a tax id) to go on; a bare code or phone says nothing about it.
    named = attrs[attrs["has_name"] | attrs["is_company"]].groupby("pk", sort=False)["is_company"].first()
    out = groups.set_index("pk").join(first.drop(columns=["row", "is_company", "has_name"]))
    kind = named.map({True: "company", False: "person"})
    out["kind"] = kind.reindex(out.index).astype("object")
    out = out.reset_index(drop=True)
    out = out.astype("object").where(out.notna(), None)
    return out[columns]
