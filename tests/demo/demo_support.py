"""Independent readers for the demo files (csv module, python-calamine, hand-written parsers).

They deliberately share no code with the generator (or the importer), so the tests check what
is in the files, not what the generator believes it wrote.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from salescope.demo.generator import DemoFile

END = dt.date(2025, 10, 31)
SEED = 7


@dataclass(frozen=True)
class Demo:
    dir: Path
    files: list[DemoFile]
    manifest: dict[str, Any]

    def of_kind(self, kind: str) -> list[DemoFile]:
        return [f for f in self.files if f.kind == kind]

    def ledger(self, name: str) -> dict[str, Any]:
        return next(f for f in self.manifest["files"] if f["file"] == name)


_DATE = re.compile(r"(\d{4})[-/年](\d{1,2})[-/月](\d{1,2})日?")


def parse_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.fullmatch(str(value).strip())
    if not m:
        return None
    try:
        return dt.date(*map(int, m.groups()))
    except ValueError:
        return None


def parse_money(value: object) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    s = str(value).strip().replace("¥", "").replace(",", "")
    if not s:
        return None
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def norm_header(h: str) -> str:
    """The importer's header normalisation: NFKC, lower case, no spaces or punctuation."""
    s = unicodedata.normalize("NFKC", h).lower()
    return "".join(ch for ch in s if not (ch.isspace() or unicodedata.category(ch).startswith("P")))


def encoding_of(path: Path) -> str:
    raw = path.read_bytes()[:3]
    if raw == b"\xef\xbb\xbf":
        return "utf-8-sig"
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "gbk"
    return "utf-8"


@lru_cache(maxsize=32)
def read_table(path: Path) -> tuple[list[str], list[list[object]]]:
    """Header and data rows of a demo file, whatever its format (title rows above the header skipped).

    Cached per path: the session's demo files never change and several tests read each one.
    """
    if path.suffix == ".xlsx":
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        start = 0
        # A title row has one non-empty cell; the header row is the first row filled across.
        while sum(1 for c in rows[start] if c not in ("", None)) < len(rows[start]) // 2:
            start += 1
        return [str(h) for h in rows[start]], [list(r) for r in rows[start + 1 :]]
    with path.open(encoding=encoding_of(path), newline="") as fh:
        data = list(csv.reader(fh))
    return data[0], [list(r) for r in data[1:]]
