"""Matching features: the normalised, comparable form of each record that linkage and the veto read.

Raw columns are whatever a notebook or an import supplies (name, phone, email, address, city,
province, postcode, birth_date, id_number, tax_id, kind); every feature here is a plain string
or NULL so the same Splink settings run on DuckDB and on Spark without date-format dialects.
ID numbers and tax ids are kept only when their check digit holds: a mistyped one is a typo,
not evidence of a different customer, and must never trigger the veto.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd

from salescope.resolve import normalize as nz
from salescope.resolve.regions import bare_region

FEATURE_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "kind",
    "name_key",
    "name_core",
    "name_translit",
    "phone",
    "email",
    "email_digits",
    "birth_date",
    "id_number",
    "tax_id",
    "address",
    "city",
    "province",
    "postcode",
)
INPUT_COLUMNS: tuple[str, ...] = (
    "name",
    "phone",
    "email",
    "address",
    "city",
    "province",
    "postcode",
    "birth_date",
    "id_number",
    "tax_id",
)
_DATE_PARTS = re.compile(r"^(\d{4})\D?(\d{1,2})\D?(\d{1,2})")


def _column(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name].reset_index(drop=True).astype("object")
    return pd.Series([None] * len(df), dtype="object")


def distinct_rows(df: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct rows over ``columns`` in order of first appearance, and each row's position among them.

    Order lines repeat the same customer thousands of times; matching once per distinct
    record and mapping back is what keeps resolution proportional to customers, not lines.
    """
    used = [c for c in dict.fromkeys(columns) if c in df.columns]
    if not used:
        width = min(len(df), 1)
        return pd.DataFrame(index=range(width)), np.zeros(len(df), dtype=np.int64)
    raw = df[used].reset_index(drop=True).astype("object")
    hashes = pd.util.hash_pandas_object(raw, index=False).to_numpy()
    codes, _ = pd.factorize(hashes, sort=False)
    _, first = np.unique(codes, return_index=True)
    return raw.iloc[first].reset_index(drop=True), codes.astype(np.int64)


def iso_date(raw: object) -> str | None:
    """YYYY-MM-DD text for 1990-05-07, 1990/5/7, 19900507 or a date object; None when it has no date shape."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    if isinstance(raw, date):
        return raw.strftime("%Y-%m-%d")
    m = _DATE_PARTS.match(nz.code_key(raw).replace("年", "-").replace("月", "-"))
    if not m:
        return None
    # Not validated on purpose: 1950-60-14 is a transposed 1950-06-14, and still evidence.
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def _region(raw: object) -> str | None:
    text = nz.address_key(raw)
    return (bare_region(text) or text) or None


def _core(key: object) -> str | None:
    """The company key without its leading region: 北京华贸科技 and 华贸科技 share the core 华贸科技."""
    if not isinstance(key, str) or not key:
        return None
    for length in (4, 3, 2):
        if bare_region(key[:length]) is not None and len(key) > length:
            return key[length:]
    return key


def _kinds(df: pd.DataFrame, tax_id: pd.Series) -> pd.Series:
    if "kind" in df.columns:
        given = _column(df, "kind").map(lambda v: str(v).strip().lower() if isinstance(v, str) else None)
        given = given.where(given.isin(["company", "person"]), None)
    else:
        given = pd.Series([None] * len(df), dtype="object")
    guessed = nz.looks_like_company_mask(_column(df, "name")) | tax_id.notna()
    guessed_kind = pd.Series(["company" if g else "person" for g in guessed.tolist()], dtype="object")
    return given.where(given.notna(), guessed_kind)


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """One feature row per input row (positional ``unique_id``), computed once per distinct raw value."""
    tax = nz.tax_id_keys(_column(df, "tax_id"))
    tax = tax.where(nz.uscc_valid_mask(tax).to_numpy(), None)
    id_number = nz.tax_id_keys(_column(df, "id_number"))
    id_number = id_number.where(nz.cn_id_valid_mask(id_number).to_numpy(), None)
    kind = _kinds(df, tax)
    name = _column(df, "name")
    company = (kind == "company").to_numpy()
    name_key = nz.company_name_keys(name).where(company, nz.person_name_keys(name))
    core = name_key.map(_core, na_action="ignore").where(company, name_key)
    translit = nz.per_distinct(nz.company_translit, core).where(
        company, nz.per_distinct(nz.person_name_translit, name_key)
    )
    email = nz.email_keys(_column(df, "email"))
    birth = nz.per_distinct(iso_date, _column(df, "birth_date"))
    from_id = id_number.map(lambda v: f"{v[6:10]}-{v[10:12]}-{v[12:14]}", na_action="ignore")
    birth = birth.where(birth.notna(), from_id)
    features = pd.DataFrame(
        {
            "unique_id": range(len(df)),
            "kind": kind,
            "name_key": name_key,
            "name_core": core,
            "name_translit": translit,
            "phone": nz.phone_keys(_column(df, "phone")),
            "email": email,
            # emily.flores30 and emily.flores36 are two people: similar addresses must share their digits.
            "email_digits": email.map(lambda v: re.sub(r"\D", "", v.split("@")[0]), na_action="ignore"),
            "birth_date": birth,
            "id_number": id_number,
            "tax_id": tax,
            "address": nz.address_keys(_column(df, "address")),
            "city": nz.per_distinct(_region, _column(df, "city")),
            "province": nz.per_distinct(_region, _column(df, "province")),
            "postcode": nz.per_distinct(lambda v: re.sub(r"\D", "", nz.code_key(v)) or None, _column(df, "postcode")),
        }
    )
    for c in FEATURE_COLUMNS[1:]:
        features[c] = features[c].astype("object").where(features[c].notna(), None)
    features["email_digits"] = features["email_digits"].where(features["email"].notna(), None)
    return features
