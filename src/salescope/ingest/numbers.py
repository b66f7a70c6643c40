"""Money and quantities as exports write them, kept as exact decimals.

``￥1,234.50``, ``1.2万``, ``(300.00)``, ``300-``, ``１２３``, ``RMB 5 元`` all mean a number;
binary floats would lose cents over a million lines, so every value becomes a
``Decimal`` with four places (the warehouse's DECIMAL(18,4)) and sums stay exact.
Clean columns take a vectorised fast path; only odd spellings reach the scalar parser.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salescope.ingest.dates import ParsedColumn
from salescope.ingest.text import blank_to_null, clean

NumberKind = Literal["money", "decimal"]

SCALE = 4
DECIMAL_TYPE = pa.decimal128(18, SCALE)
_QUANTUM = Decimal(1).scaleb(-SCALE)
_LIMIT = Decimal(10) ** (18 - SCALE)

EXPECTED = {
    "money": "an amount such as 1234.50, ￥1,234.50, 1.2万 or (300.00)",
    "decimal": "a number such as 12, 1,200 or 0.5",
}

_MULTIPLIERS = {
    "亿": Decimal(10) ** 8,
    "千万": Decimal(10) ** 7,
    "百万": Decimal(10) ** 6,
    "万": Decimal(10) ** 4,
    "千": Decimal(10) ** 3,
}
_CURRENCY = re.compile(r"(?:人民币|rmb|cny|usd|us\$|hk\$|eur|元|圆|块|[¥$€£])", re.IGNORECASE)
_UNITS = re.compile(r"(?:件|个|箱|台|套|只|瓶|包|盒|袋|支|张|pcs|pc|units?|ea)$", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?", re.IGNORECASE)
_PLAIN = r"^-?\d{1,14}(\.\d{1,4})?$"
_GROUPED = r"^-?\d{1,3}(,\d{3})+(\.\d{1,4})?$"
# What the vectorised second tier strips: currency marks and spaces (commas only where they group thousands).
_STRIP = r"(?i)人民币|rmb|cny|[¥$\s元]"


def _quantize(value: Decimal) -> Decimal:
    if abs(value) >= _LIMIT:  # checked first: quantize itself fails beyond the context's precision (1E100)
        raise ValueError("too large")
    q = value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)
    if abs(q) >= _LIMIT:
        raise ValueError("too large")
    return q


def parse_decimal(value: object, kind: NumberKind = "money") -> Decimal:
    """One value to an exact ``Decimal`` with four places; raises ``ValueError`` if it is not a number."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not finite")
        return _quantize(value)
    if isinstance(value, int | np.integer):
        return _quantize(Decimal(int(value)))
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise ValueError("not finite")
        # repr() is the shortest string that round-trips, i.e. what the spreadsheet showed.
        return _quantize(Decimal(repr(float(value))))
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} is not a number")
    text = clean(value).replace("−", "-").replace(" ", "")
    if not text:
        raise ValueError("empty")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.endswith("-") and len(text) > 1:
        negative, text = not negative, text[:-1]
    text = _CURRENCY.sub("", text)
    if kind == "decimal":
        text = _UNITS.sub("", text)
    if text.startswith("(") and text.endswith(")"):
        negative, text = not negative, text[1:-1]
    if text.startswith("-") and len(text) > 1 and not text[1:].startswith("-"):
        negative, text = not negative, text[1:]
    percent = text.endswith("%") and kind == "decimal"
    if percent:
        text = text[:-1]
    multiplier = Decimal(1)
    for word, factor in _MULTIPLIERS.items():
        if text.endswith(word):
            multiplier, text = factor, text[: -len(word)]
            break
    text = _thousands(text)
    if not _NUMBER.fullmatch(text):
        raise ValueError("not a number")
    try:
        number = Decimal(text) * multiplier
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if percent:
        number /= 100
    return _quantize(-number if negative else number)


def _thousands(text: str) -> str:
    """Drop thousands separators only where they group digits in threes, so 1,5 is not read as 15."""
    if "," not in text and "'" not in text:
        return text
    head, dot, tail = text.partition(".")
    groups = re.split(r"[,']", head)
    sign = groups[0][:1] if groups[0][:1] in "+-" else ""
    first = groups[0][len(sign) :]
    if not (1 <= len(first) <= 3 and first.isdigit() and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
        raise ValueError("misplaced thousands separator")
    return sign + "".join([first, *groups[1:]]) + dot + tail


def parse_decimal_array(values: pa.Array | pa.ChunkedArray, kind: NumberKind = "money") -> ParsedColumn:
    """A column of numbers (strings, ints or floats) to ``decimal128(18,4)``; unreadable values flagged."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    t = values.type
    if pa.types.is_integer(t):
        try:
            # Arrow checks precision by type, so widen first; values too large fail the second cast.
            return ParsedColumn(pc.cast(pc.cast(values, pa.decimal128(23, SCALE)), DECIMAL_TYPE), np.zeros(n, bool))
        except pa.ArrowInvalid:
            values = pc.cast(values, pa.string())
    elif pa.types.is_decimal(t):
        try:
            return ParsedColumn(pc.cast(values, DECIMAL_TYPE), np.zeros(n, bool))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = pc.cast(values, pa.string())
    elif pa.types.is_floating(t):
        # Arrow prints the shortest round-trip text (0.1 stays 0.1), which the decimal cast reads exactly.
        values = pc.cast(values, pa.string())
    elif pa.types.is_null(t):
        return ParsedColumn(pa.nulls(n, DECIMAL_TYPE), np.zeros(n, bool))
    elif not pa.types.is_string(t):
        values = pc.cast(values, pa.string())
    if pa.types.is_string(t) and values.null_count == 0:
        # A clean column casts in one pass; anything odd in it (an empty cell, 1,234) makes Arrow refuse.
        try:
            return ParsedColumn(pc.cast(values, DECIMAL_TYPE), np.zeros(n, bool))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    values = blank_to_null(values)
    out = pa.nulls(n, DECIMAL_TYPE)
    todo = pc.is_valid(values)
    for stripped in (False, True):
        if not pc.any(todo).as_py():
            break
        tier = _stripped(values) if stripped else values
        plain = pc.and_(todo, pc.match_substring_regex(tier, _PLAIN))
        if pc.any(plain).as_py():
            out = pc.replace_with_mask(out, plain, pc.cast(pc.filter(tier, plain), DECIMAL_TYPE))
            todo = pc.and_(todo, pc.invert(plain))
    return _scalar_fallback(values, np.asarray(todo.to_numpy(zero_copy_only=False)), out, kind)


def _stripped(values: pa.Array) -> pa.Array:
    if not pc.all(pc.string_is_ascii(values)).as_py():
        values = pc.utf8_normalize(values, form="NFKC")
    values = pc.replace_substring_regex(values, _STRIP, "")
    grouped = pc.match_substring_regex(values, _GROUPED)
    return pc.if_else(grouped, pc.replace_substring(values, ",", ""), values)


def _scalar_fallback(values: pa.Array, todo: np.ndarray, out: pa.Array, kind: NumberKind) -> ParsedColumn:
    n = len(values)
    bad = np.zeros(n, bool)
    if not todo.any():
        return ParsedColumn(out, bad)
    idx = np.flatnonzero(todo)
    cache: dict[str, Decimal | None] = {}
    parsed: list[Decimal | None] = []
    for v in values.take(pa.array(idx)).to_pylist():
        if v not in cache:
            try:
                cache[v] = parse_decimal(v, kind)
            except ValueError:
                cache[v] = None
        parsed.append(cache[v])
    ok = np.array([p is not None for p in parsed], bool)
    bad[idx[~ok]] = True
    if ok.any():
        mask = np.zeros(n, bool)
        mask[idx[ok]] = True
        good = pa.array([p for p in parsed if p is not None], DECIMAL_TYPE)
        out = pc.replace_with_mask(out, pa.array(mask), good)
    return ParsedColumn(out, bad)


def parse_int_array(values: pa.Array | pa.ChunkedArray) -> ParsedColumn:
    """Whole numbers (line numbers): digits take the fast path; ``3.0`` is accepted, ``3.5`` is not."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    n = len(values)
    if pa.types.is_integer(values.type):
        return ParsedColumn(pc.cast(values, pa.int64()), np.zeros(n, bool))
    if not pa.types.is_string(values.type):
        values = pc.cast(values, pa.string())
    values = blank_to_null(values)
    digits = pc.fill_null(pc.match_substring_regex(values, r"^\d{1,18}$"), False)
    out = pc.if_else(digits, pc.cast(pc.if_else(digits, values, "0"), pa.int64()), pa.scalar(None, pa.int64()))
    todo = np.asarray(pc.and_(pc.is_valid(values), pc.invert(digits)).to_numpy(zero_copy_only=False))
    bad = np.zeros(n, bool)
    if todo.any():
        idx = np.flatnonzero(todo)
        fixed: list[int | None] = []
        for v in values.take(pa.array(idx)).to_pylist():
            try:
                d = parse_decimal(v, "decimal")
            except ValueError:
                fixed.append(None)
                continue
            fixed.append(int(d) if d == d.to_integral_value() else None)
        ok = np.array([f is not None for f in fixed], bool)
        bad[idx[~ok]] = True
        if ok.any():
            mask = np.zeros(n, bool)
            mask[idx[ok]] = True
            out = pc.replace_with_mask(out, pa.array(mask), pa.array([f for f in fixed if f is not None], pa.int64()))
    return ParsedColumn(out, bad)
