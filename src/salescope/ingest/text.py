"""Text clean-up shared by every parser: NFKC, trimming, header keys.

Exports from Chinese systems mix full-width and half-width characters (``１２３``,
``Ｏｒｄｅｒ　ＩＤ``) and pad cells with ideographic spaces; NFKC folds both, so the
same value typed on two keyboards compares equal.
"""

from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pyarrow.compute as pc

# Everything that is not a letter or digit separates words in a header: "Order_ID", "order id" and
# "订单 编号" must meet on one key.
_HEADER_NOISE = re.compile(r"[\W_]+", re.UNICODE)
_SPACES = re.compile(r"\s+")

# Cells that mean "no value" in exports; they load as empty rather than as unreadable values.
PLACEHOLDERS = frozenset(
    {"", "-", "--", "---", "—", "–", "/", "n/a", "na", "#n/a", "null", "none", "nan", "nat", "无", "空", "暂无"}
)


def clean(value: str) -> str:
    """NFKC-normalise, collapse inner runs of whitespace and trim."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()


def header_key(header: str) -> str:
    """The comparison key for a header: NFKC, lower-case, no spaces or punctuation."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", header).casefold())


def to_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as the text a person would see: 13800138000.0 (a phone from Excel) reads 13800138000."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    t = values.type
    if pa.types.is_string(t):
        return values
    if pa.types.is_floating(t):
        finite = pc.fill_null(pc.is_finite(values), False)
        whole = pc.and_(finite, pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 1e15)))
        whole = pc.fill_null(whole, False)
        ints = pc.cast(pc.cast(pc.if_else(whole, values, 0.0), pa.int64()), pa.string())
        return pc.if_else(whole, ints, pc.cast(values, pa.string()))
    return pc.cast(values, pa.string())


def clean_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Vectorised :func:`clean` for a string column; empty results become null.

    Names, regions and products repeat down a column, so a long column is cleaned once
    per distinct value and expanded back.
    """
    values = to_text(values)
    if len(values) > 4096:
        encoded = pc.dictionary_encode(values)
        if len(encoded.dictionary) * 4 < len(values):
            return pc.take(_clean_values(encoded.dictionary), encoded.indices)
    return _clean_values(values)


def _clean_values(values: pa.Array) -> pa.Array:
    ascii_only = pc.all(pc.string_is_ascii(values)).as_py()
    if not ascii_only:
        values = pc.utf8_normalize(values, form="NFKC")
    values = pc.utf8_trim_whitespace(values)
    has_runs = pc.any(pc.match_substring_regex(values, r"\s\s|[^\S ]")).as_py()
    if has_runs:
        values = pc.replace_substring_regex(values, r"\s+", " ")
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def blank_to_null(values: pa.Array) -> pa.Array:
    """Trim a string column and turn empty cells and placeholders (``N/A``, ``-``, ``无``) into nulls."""
    values = pc.utf8_trim_whitespace(values)
    lowered = pc.utf8_lower(values)
    missing = pc.is_in(lowered, value_set=pa.array(sorted(PLACEHOLDERS)))
    return pc.if_else(missing, pa.scalar(None, pa.string()), values)
