"""Numbers and dates turned into the text real exports contain, vectorised with Arrow compute.

Every column of a demo CSV is built here as an Arrow string array, so a million lines format
in C++ rather than in a Python loop; only the handful of deliberately spoilt values are
patched in afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PLAIN, YEN, GROUPED = 0, 1, 2
"""Money styles: 1234.56, ¥1,234.56, 1,234.56."""
ISO, SLASH, CHINESE = 0, 1, 2
"""Date styles: 2024-03-05, 2024/3/5, 2024年3月5日."""


def strings(values: Sequence[str] | np.ndarray) -> pa.Array:
    return pa.array(list(values) if not isinstance(values, np.ndarray) else values, type=pa.string())


def ints(values: np.ndarray, width: int = 0) -> pa.Array:
    out = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    return pc.utf8_lpad(out, width=width, padding="0") if width else out


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _grouped(whole: np.ndarray) -> pa.Array:
    """Thousands separators without a regex look-ahead: pad to 12 digits, cut in threes, trim."""
    padded = pc.utf8_lpad(ints(whole), width=12, padding="0")
    groups = [pc.utf8_slice_codeunits(padded, i, i + 3) for i in range(0, 12, 3)]
    trimmed = pc.utf8_ltrim(pc.binary_join_element_wise(*groups, ","), characters="0,")
    return pc.if_else(pa.array(whole == 0), "0", trimmed)


def money(cents: np.ndarray, style: np.ndarray | None = None) -> pa.Array:
    """Amounts with exactly two decimals; ``style`` picks per row between the money styles."""
    cents = np.asarray(cents, dtype=np.int64)
    sign = pa.array(np.where(cents < 0, "-", ""))
    absolute = np.abs(cents)
    frac = ints(absolute % 100, 2)
    plain = join(sign, ints(absolute // 100), ".", frac)
    if style is None or not (style != PLAIN).any():
        return plain
    grouped = join(sign, _grouped(absolute // 100), ".", frac)
    yen = join("¥", grouped)
    return pc.if_else(pa.array(style == YEN), yen, pc.if_else(pa.array(style == GROUPED), grouped, plain))


def dates(days: np.ndarray, start: dt.date, style: np.ndarray | None = None) -> pa.Array:
    d = np.datetime64(start, "D") + np.asarray(days, dtype=np.int64)
    iso = pa.array(d).cast(pa.string())
    if style is None or not (style != ISO).any():
        return iso
    y = ints(d.astype("datetime64[Y]").astype(np.int64) + 1970)
    m = ints(d.astype("datetime64[M]").astype(np.int64) % 12 + 1)
    dd = ints((d - d.astype("datetime64[M]")).astype(np.int64) + 1)
    slash = join(y, "/", m, "/", dd)
    chinese = join(y, "年", m, "月", dd, "日")
    return pc.if_else(pa.array(style == SLASH), slash, pc.if_else(pa.array(style == CHINESE), chinese, iso))


def compact_dates(days: np.ndarray, start: dt.date) -> pa.Array:
    """20240305, as order numbers embed the date."""
    d = np.datetime64(start, "D") + np.asarray(days, dtype=np.int64)
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return ints(y * 10000 + m * 100 + dd)


def patch(column: pa.Array, rows: np.ndarray, values: Sequence[str]) -> pa.Array:
    """Replace a few values (the deliberately bad ones) without leaving Arrow."""
    if not len(rows):
        return column
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    order = np.argsort(rows, kind="stable")
    return pc.replace_with_mask(column, pa.array(mask), pa.array([values[i] for i in order], type=pa.string()))


_SPECIAL = np.frombuffer(b'",\r\n', dtype=np.uint8)


def _quoted(column: pa.Array) -> pa.Array:
    data = column.buffers()[2]
    # Most columns never contain a delimiter: a byte scan of the data buffer is far cheaper than a regex per value.
    if data is None or not np.isin(np.frombuffer(data, dtype=np.uint8), _SPECIAL).any():
        return column
    needs = pc.match_substring_regex(column, '[",\r\n]')
    if not pc.any(needs).as_py():
        return column
    escaped = join('"', pc.replace_substring(column, '"', '""'), '"')
    return pc.if_else(needs, escaped, column)


def csv_lines(columns: Sequence[pa.Array], eol: str = "\r\n") -> bytes:
    """RFC 4180 lines (quotes only where a value needs them), as one byte string."""
    if not columns or not len(columns[0]):
        return b""
    cols = [_quoted(c) for c in columns]
    lines = pc.binary_join_element_wise(*cols, ",")
    lines = pc.binary_join_element_wise(lines, "", eol)
    if lines.null_count:
        raise ValueError("a demo column contains nulls; every cell must be text")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return lines.buffers()[2].slice(int(first), int(last - first)).to_pybytes()


def csv_header(headers: Sequence[str], eol: str = "\r\n") -> bytes:
    return (",".join(headers) + eol).encode()
