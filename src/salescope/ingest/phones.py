"""Phone numbers to E.164, China as the default region.

The same customer appears as ``138 0013 8000``, ``+86-13800138000`` and
``8613800138000``; E.164 makes them one key for identity resolution. Values that
are not a possible number are kept as typed text (they still say something to a
human) and reported as invalid values by the quality report.
"""

from __future__ import annotations

import numpy as np
import phonenumbers
import pyarrow as pa
import pyarrow.compute as pc

from salescope.ingest.text import blank_to_null, clean, to_text

DEFAULT_REGION = "CN"


def to_e164(value: str, region: str = DEFAULT_REGION) -> str:
    """One phone number to E.164; raises ``ValueError`` when it is not a possible number."""
    text = clean(value)
    if not text:
        raise ValueError("empty")
    # Excel stores long numbers as floats: 13800138000.0
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("86") and len(digits) == 13 and digits[2] == "1":
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def phone_array(values: pa.Array | pa.ChunkedArray, region: str = DEFAULT_REGION) -> tuple[pa.Array, np.ndarray]:
    """A column of phones to E.164 (distinct values parsed once); returns values and an invalid mask."""
    values = blank_to_null(to_text(values))
    distinct = pc.unique(values.drop_null())
    mapped: list[str | None] = []
    for v in distinct.to_pylist():
        try:
            mapped.append(to_e164(v, region))
        except ValueError:
            mapped.append(None)
    positions = pc.index_in(values, value_set=distinct)
    out = pc.take(pa.array(mapped, pa.string()), positions)
    bad = pc.and_(pc.is_valid(values), pc.is_null(out)).to_numpy(zero_copy_only=False)
    # Unparseable numbers keep their cleaned text so nothing the user typed is lost.
    return pc.coalesce(out, values), np.asarray(bad)
