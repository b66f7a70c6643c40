"""Dates as exports write them: ISO, 2024/3/5, 2024年3月5日, 20240305, 2024.03.05, 02-Jun-06,
3/5/2024 (month or day first, decided per column), Excel serials, with or without a time.

A column is parsed vectorised first (Arrow's strptime over the formats that the
column's own values use) and only the values that no format accepts are handed to
the scalar parser, which knows every shape and says which one it expected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salescope.ingest.text import blank_to_null, clean

DayOrder = Literal["mdy", "dmy"]

EXPECTED = "a date such as 2024-03-05, 2024/3/5, 2024年3月5日, 20240305 or an Excel date"

MIN_YEAR = 1900
MAX_YEAR = 2199
_EXCEL_EPOCH = dt.date(1899, 12, 30)
# Serials a spreadsheet can show as a date in a business file: 1954-10-03 .. 2119-12-31.
_SERIAL_MIN = 20_000
_SERIAL_MAX = 80_000

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}

# Values are case-folded before matching, so "T" and "PM" arrive as "t" and "pm".
_TIME = (
    r"(?:[ t]+(?P<H>\d{1,2})(?::|时)(?P<M>\d{1,2})分?(?::?(?P<S>\d{1,2})(?:\.\d+)?秒?)?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*(?:z|[+-]\d{2}:?\d{2}))?)?"
)
_YMD = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?" + _TIME)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})" + _TIME)
_XXY = re.compile(r"(?P<a>\d{1,2})\s*[-/.]\s*(?P<b>\d{1,2})\s*[-/.]\s*(?P<y>\d{4}|\d{2})" + _TIME)
_D_MON_Y = re.compile(r"(?P<d>\d{1,2})[-/ .]*(?P<mon>[a-z]{3,9})\.?[-/ .,]*(?P<y>\d{4}|\d{2})" + _TIME)
_MON_D_Y = re.compile(r"(?P<mon>[a-z]{3,9})\.?[-/ .]*(?P<d>\d{1,2})(?:st|nd|rd|th)?[-/ .,]*(?P<y>\d{4}|\d{2})" + _TIME)
_SERIAL = re.compile(r"(?P<n>\d{5})(?:\.\d+)?")
_YM = re.compile(r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?")


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        # strptime's %y pivot: 00-68 are 2000s, 69-99 are 1900s.
        y += 2000 if y < 69 else 1900
    return y


def _check_time(m: re.Match[str]) -> None:
    hour = m.group("H")
    if hour is None:
        return
    h, mi, s = int(hour), int(m.group("M")), int(m.group("S") or 0)
    ampm = m.group("ampm")
    if ampm is not None and not 1 <= h <= 12:
        raise ValueError("hour out of range for am/pm")
    if h > 23 or mi > 59 or s > 59:
        raise ValueError("time out of range")


def _build(y: int, m: int, d: int) -> dt.date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"year {y} is outside {MIN_YEAR}-{MAX_YEAR}")
    return dt.date(y, m, d)


def from_excel_serial(serial: float) -> dt.date:
    """Excel's day count (1900 system, Lotus leap-year bug included) to a date."""
    if not _SERIAL_MIN <= serial < _SERIAL_MAX + 1:
        raise ValueError(f"{serial} is not an Excel date serial between {_SERIAL_MIN} and {_SERIAL_MAX}")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object, order: DayOrder = "mdy") -> dt.date:
    """One value to a date; ``order`` settles 03/05/2024. Raises ``ValueError`` if it is not a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if number.is_integer() and 10_000_101 <= number <= 99_991_231:
            return parse_date(str(int(number)), order)
        return from_excel_serial(number)
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} is not a date")
    text = clean(value).casefold()
    if not text:
        raise ValueError("empty")
    for pattern in (_YMD, _COMPACT):
        m = pattern.fullmatch(text)
        if m:
            _check_time(m)
            return _build(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    m = _XXY.fullmatch(text)
    if m:
        _check_time(m)
        a, b = int(m.group("a")), int(m.group("b"))
        month, day = (a, b) if order == "mdy" else (b, a)
        return _build(_year(m.group("y")), month, day)
    for pattern in (_D_MON_Y, _MON_D_Y):
        m = pattern.fullmatch(text)
        if m and m.group("mon") in _MONTHS:
            _check_time(m)
            return _build(_year(m.group("y")), _MONTHS[m.group("mon")], int(m.group("d")))
    m = _SERIAL.fullmatch(text)
    if m:
        return from_excel_serial(float(text))
    raise ValueError("not a recognised date")


def parse_month(value: str) -> str:
    """A target period: ``2024-03``, ``2024年3月``, ``2024-Q1`` or ``2024`` to its canonical spelling."""
    text = clean(value).upper().replace(" ", "")
    if re.fullmatch(r"\d{4}", text):
        return text
    q = re.fullmatch(r"(\d{4})[-/.年]?(?:Q|第)([1-4])(?:季度)?", text)
    if q:
        return f"{q.group(1)}-Q{q.group(2)}"
    m = _YM.fullmatch(text.casefold())
    if m and 1 <= int(m.group("m")) <= 12:
        return f"{int(m.group('y')):04d}-{int(m.group('m')):02d}"
    raise ValueError("not a period")


# -- columns ---------------------------------------------------------------------

_XXY_PREFIX = r"^\s*(?P<a>\d{1,2})\s*[-/.]\s*(?P<b>\d{1,2})\s*[-/.]\s*\d{2,4}(?:[ T].*)?$"


@dataclass(frozen=True)
class OrderEvidence:
    """What a column's values say about day/month order: rows that only fit one reading."""

    month_first: int
    day_first: int

    @property
    def order(self) -> DayOrder:
        return "dmy" if self.day_first > self.month_first else "mdy"

    @property
    def ambiguous(self) -> bool:
        return self.month_first == 0 and self.day_first == 0


def day_order_evidence(values: pa.Array | pa.ChunkedArray) -> OrderEvidence:
    """Count values like 13/5/2024 (day first) and 5/13/2024 (month first)."""
    if not pa.types.is_string(values.type):
        return OrderEvidence(0, 0)
    parts = pc.extract_regex(values, _XXY_PREFIX)
    if isinstance(parts, pa.ChunkedArray):
        parts = parts.combine_chunks()
    parts = parts.filter(pc.is_valid(parts))
    if len(parts) == 0:
        return OrderEvidence(0, 0)
    first = pc.cast(parts.field(0), pa.int32())
    second = pc.cast(parts.field(1), pa.int32())
    day_first = pc.sum(pc.and_(pc.greater(first, 12), pc.less_equal(second, 12))).as_py() or 0
    month_first = pc.sum(pc.and_(pc.greater(second, 12), pc.less_equal(first, 12))).as_py() or 0
    return OrderEvidence(int(month_first), int(day_first))


_TIMES = ("", " %H:%M:%S", " %H:%M", "T%H:%M:%S")
_BASE_FORMATS: dict[str, tuple[str, ...]] = {
    "ymd": ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d"),
    "mdy": ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y"),
    "dmy": ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d-%b-%y", "%d-%b-%Y", "%d %b %Y"),
}


def _formats(order: DayOrder) -> list[str]:
    bases = _BASE_FORMATS["ymd"] + _BASE_FORMATS[order] + _BASE_FORMATS["dmy"][3:]
    return [base + t for base in bases for t in _TIMES]


def _in_range(ts: pa.Array) -> pa.Array:
    lo = pa.scalar(dt.datetime(MIN_YEAR, 1, 1), ts.type)
    hi = pa.scalar(dt.datetime(MAX_YEAR + 1, 1, 1), ts.type)
    keep = pc.and_(pc.greater_equal(ts, lo), pc.less(ts, hi))
    return pc.if_else(keep, ts, pa.scalar(None, ts.type))


def _strptime_pass(values: pa.Array, order: DayOrder) -> pa.Array:
    """Try each format on the values still unparsed; cheap when a column uses one or two formats."""
    out = pa.nulls(len(values), pa.timestamp("s"))
    todo = pc.indices_nonzero(pc.is_valid(values))
    sample = values.take(todo[:500]) if len(todo) else values
    formats = _formats(order)
    # Put the formats the first values use first, and drop those no sampled value uses;
    # values in other shapes still reach the scalar parser.
    hits = [
        (pc.sum(pc.is_valid(pc.strptime(sample, format=f, unit="s", error_is_null=True))).as_py() or 0, f)
        for f in formats
    ]
    ranked = [f for n, f in sorted(hits, key=lambda h: -h[0]) if n > 0]
    for fmt in ranked:
        if len(todo) == 0:
            break
        sub = values.take(todo)
        parsed = _in_range(pc.strptime(sub, format=fmt, unit="s", error_is_null=True))
        ok = pc.and_(pc.is_valid(parsed), _round_trips(sub, parsed, fmt))
        if not pc.any(ok).as_py():
            continue
        idx = pc.filter(todo, ok)
        out = _scatter(out, idx, pc.filter(parsed, ok))
        todo = pc.filter(todo, pc.invert(ok))
    return out


def _unpadded(values: pa.Array) -> pa.Array:
    return pc.replace_substring_regex(pc.utf8_lower(values), r"\b0+(\d)", r"\1")


def _round_trips(text: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """strptime rolls 2026-02-30 over to March 2; a date is only accepted if it prints back as written."""
    printed = pc.strftime(pc.fill_null(parsed, pa.scalar(0, parsed.type)), format=fmt)
    return pc.fill_null(pc.equal(_unpadded(printed), _unpadded(text)), False)


def _scatter(base: pa.Array, idx: pa.Array, vals: pa.Array) -> pa.Array:
    arr = base.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    mask = np.asarray(pc.is_valid(base).to_numpy(zero_copy_only=False))
    ix = idx.to_numpy()
    arr[ix] = vals.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    mask[ix] = True
    return pa.array(arr, pa.timestamp("s"), mask=~mask)


@dataclass
class ParsedColumn:
    """A parsed column plus the positions whose non-empty value could not be read."""

    values: pa.Array
    bad: np.ndarray  # bool mask aligned with the input


def parse_date_array(values: pa.Array | pa.ChunkedArray, order: DayOrder = "mdy") -> ParsedColumn:
    """A column of dates (strings, Excel numbers or real dates) to ``date32``; unreadable values flagged."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    t = values.type
    if pa.types.is_date(t) or pa.types.is_timestamp(t):
        if pa.types.is_timestamp(t) and t.tz is not None:
            values = pc.local_timestamp(values)
        return ParsedColumn(pc.cast(values, pa.date32()), np.zeros(n, bool))
    if not pa.types.is_string(t):
        return _scalar_fallback(values, np.ones(n, bool), pa.nulls(n, pa.date32()), order)
    ts = None
    if values.null_count == 0:
        # ISO dates (with or without a time) cast in one pass; any other shape makes Arrow refuse.
        try:
            ts = pc.cast(values, pa.timestamp("s"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            ts = None
    values = blank_to_null(values) if ts is None else values
    if ts is None:
        try:
            ts = pc.cast(values, pa.timestamp("s"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            ts = _strptime_pass(values, order)
    ts = _in_range(ts)
    dates = pc.cast(ts, pa.date32())
    todo = pc.and_(pc.is_valid(values), pc.is_null(dates)).to_numpy(zero_copy_only=False)
    return _scalar_fallback(values, todo, dates, order)


def _scalar_fallback(values: pa.Array, todo: np.ndarray, dates: pa.Array, order: DayOrder) -> ParsedColumn:
    """Parse the leftovers one distinct value at a time (exports repeat the same dates a lot)."""
    n = len(values)
    bad = np.zeros(n, bool)
    if not todo.any():
        return ParsedColumn(dates, bad)
    idx = np.flatnonzero(todo)
    left = values.take(pa.array(idx)).to_pylist()
    cache: dict[object, dt.date | None] = {}
    out = dates.to_pylist()
    for i, v in zip(idx, left, strict=True):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        key = v if not isinstance(v, float) or v == v else None
        if key is None:
            continue
        if key not in cache:
            try:
                cache[key] = parse_date(key, order)
            except (ValueError, OverflowError):
                cache[key] = None
        d = cache[key]
        if d is None:
            bad[i] = True
        else:
            out[i] = d
    return ParsedColumn(pa.array(out, pa.date32()), bad)
