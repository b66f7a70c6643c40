"""Property tests for every import parser: whatever spelling an export uses, the value comes back exact.

Each property writes a value the way some real system prints it and checks the parser
returns the value it started from; the vectorised column parsers must agree with the
scalar ones on every input, including junk.
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from salescope.ingest import dates, numbers, phones
from salescope.ingest.mapping import build
from salescope.ingest.readers import CsvReader
from salescope.ingest.text import PLACEHOLDERS, header_key
from salescope.schema.kinds import KINDS

DATES = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2150, 12, 31))
TIMES = st.one_of(st.none(), st.times().map(lambda t: t.replace(microsecond=0)))
FULLWIDTH = str.maketrans(string.digits, "０１２３４５６７８９")


def _with_time(text: str, t: dt.time | None, sep: str = " ") -> str:
    return text if t is None else f"{text}{sep}{t:%H:%M:%S}"


SHAPES = {
    "iso": lambda d: d.isoformat(),
    "slash": lambda d: f"{d.year}/{d.month}/{d.day}",
    "dots": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "compact": lambda d: f"{d.year}{d.month:02d}{d.day:02d}",
    "us": lambda d: f"{d.month}/{d.day}/{d.year}",
    "mon": lambda d: d.strftime("%d-%b-%Y"),
}


@given(DATES, TIMES, st.sampled_from(sorted(SHAPES)))
def test_dates_round_trip_in_every_shape(d: dt.date, t: dt.time | None, shape: str) -> None:
    text = _with_time(SHAPES[shape](d), t, "T" if shape == "iso" else " ")
    assert dates.parse_date(text, "mdy") == d
    column = dates.parse_date_array(pa.array([text, text]), "mdy")
    assert column.values.to_pylist() == [d, d]
    assert not column.bad.any()


@given(DATES)
def test_day_first_columns_read_day_first(d: dt.date) -> None:
    text = f"{d.day:02d}/{d.month:02d}/{d.year}"
    assert dates.parse_date(text, "dmy") == d
    assert dates.parse_date_array(pa.array([text]), "dmy").values.to_pylist() == [d]


@given(st.dates(min_value=dt.date(1955, 1, 1), max_value=dt.date(2118, 12, 31)))
def test_excel_serials_round_trip(d: dt.date) -> None:
    serial = (d - dt.date(1899, 12, 30)).days
    assert dates.parse_date(float(serial)) == d
    assert dates.parse_date(str(serial)) == d
    assert dates.parse_date_array(pa.array([serial], pa.int64())).values.to_pylist() == [d]


@given(st.text(max_size=20))
def test_date_parsers_agree_on_anything(text: str) -> None:
    try:
        expected: dt.date | None = dates.parse_date(text)
    except ValueError:
        expected = None
    column = dates.parse_date_array(pa.array([text]))
    got = column.values.to_pylist()[0]
    if expected is None:
        # Blank and placeholder cells are empty, not bad; everything else unreadable is flagged.
        assert got is None
        assert column.bad[0] == (text.strip().lower() not in PLACEHOLDERS)
    else:
        assert got == expected


MONEY = st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("99999999"), places=2, allow_nan=False)


def _grouped(value: Decimal) -> str:
    return f"{value:,.2f}"


MONEY_SHAPES = {
    "plain": lambda v: f"{v:.2f}",
    "yen": lambda v: ("-" if v < 0 else "") + "¥" + _grouped(abs(v)),
    "fullwidth_yen": lambda v: ("-" if v < 0 else "") + "￥" + f"{abs(v):.2f}".translate(FULLWIDTH),
    "yuan": lambda v: f"{v:.2f}元",
    "rmb": lambda v: "RMB " + _grouped(v),
    "dollar": lambda v: ("-" if v < 0 else "") + "$" + _grouped(abs(v)),
    "parens": lambda v: f"({_grouped(abs(v))})" if v < 0 else _grouped(v),
    "trailing_minus": lambda v: f"{abs(v):.2f}-" if v < 0 else f"{v:.2f}",
}


@given(MONEY, st.sampled_from(sorted(MONEY_SHAPES)))
def test_money_round_trips_exactly(value: Decimal, shape: str) -> None:
    text = MONEY_SHAPES[shape](value)
    assert numbers.parse_decimal(text) == value
    column = numbers.parse_decimal_array(pa.array([text, None, text]))
    assert column.values.to_pylist() == [value, None, value]
    assert not column.bad.any()


@given(st.integers(min_value=-99999, max_value=99999), st.sampled_from(["万", "亿"]))
def test_chinese_multipliers(units: int, word: str) -> None:
    value = Decimal(units) / 100
    factor = Decimal(10_000) if word == "万" else Decimal(100_000_000)
    assume(abs(value * factor) < Decimal(10) ** 14)
    assert numbers.parse_decimal(f"{value}{word}") == value * factor


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["", "件", "个", " pcs", "箱"]))
def test_quantities_with_units(n: int, unit: str) -> None:
    assert numbers.parse_decimal(f"{n:,}{unit}", "decimal") == Decimal(n)


@given(st.lists(st.one_of(MONEY.map(lambda v: f"{v:.2f}"), st.text(max_size=12)), max_size=30))
def test_money_column_agrees_with_scalar(values: list[str]) -> None:
    column = numbers.parse_decimal_array(pa.array(values, pa.string()))
    for text, got, bad in zip(values, column.values.to_pylist(), column.bad, strict=True):
        try:
            expected: Decimal | None = numbers.parse_decimal(text)
        except ValueError:
            expected = None
        if expected is not None:
            assert got == expected and not bad
        else:
            assert got is None


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["plain", "spaced", "plus86", "86", "dashes"]))
def test_mobile_numbers_to_e164(number: str, shape: str) -> None:
    text = {
        "plain": number,
        "spaced": f"{number[:3]} {number[3:7]} {number[7:]}",
        "plus86": f"+86 {number}",
        "86": f"86{number}",
        "dashes": f"{number[:3]}-{number[3:7]}-{number[7:]}",
    }[shape]
    assert phones.to_e164(text) == "+86" + number
    values, bad = phones.phone_array(pa.array([text]))
    assert values.to_pylist() == ["+86" + number] and not bad.any()


def _fields_with_synonyms() -> list[tuple[str, str, str]]:
    out = []
    for kind in KINDS.values():
        for f in kind.fields:
            for syn in f.synonyms:
                out.append((kind.name, f.name, syn))
    return out


@given(
    st.sampled_from(_fields_with_synonyms()), st.sampled_from(["upper", "fullwidth", "spaced", "underscored", "padded"])
)
def test_headers_match_however_they_are_typed(entry: tuple[str, str, str], variant: str) -> None:
    kind, field, synonym = entry
    typed = {
        "upper": synonym.upper(),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in synonym),
        "spaced": " ".join(synonym),
        "underscored": synonym.replace(" ", "_"),
        "padded": f"  {synonym}\u3000",
    }[variant]
    assert header_key(typed) == header_key(synonym)
    assert header_key(header_key(typed)) == header_key(typed)
    # The header maps to the field owning that spelling (a word two fields list goes to the first).
    k = KINDS[kind]
    owner = next(f.name for f in k.fields if any(header_key(s) == header_key(synonym) for s in f.synonyms))
    fillers = [group[0] for group in k.required if owner not in group]
    cmap = build([typed, *fillers], kind)
    assert cmap.fields[owner] == 0
    assert field == owner or header_key(synonym) in {header_key(s) for s in k.field(owner).synonyms}


# Business text uses common characters: GB2312 level 1, the block every GBK export is mostly made of.
def _gb2312_level1() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


CJK = st.sampled_from(_gb2312_level1())
CELL = st.text(
    alphabet=st.one_of(CJK, st.sampled_from(string.ascii_letters + string.digits + " .-")), min_size=1, max_size=8
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=20))
def test_encodings_round_trip(tmp_path_factory: pytest.TempPathFactory, encoding: str, rows: list[list[str]]) -> None:
    rows = [[c.strip() or "x" for c in r] for r in rows]
    assume(any(ord(c) > 0x7F for r in rows for cell in r for c in cell) or encoding.startswith("utf"))
    path = Path(tmp_path_factory.mktemp("enc")) / "data.csv"
    text = "订单编号,客户名称,金额\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path.write_bytes(text.encode(encoding))
    reader = CsvReader(path)
    assert reader.layout.headers == ["订单编号", "客户名称", "金额"]
    got = [list(r.values()) for chunk in reader.chunks(1000) for r in chunk.table.to_pylist()]
    assert got == [[unicodedata.normalize("NFC", c) for c in r] for r in rows]


# Latin-1 exports carry words with accents among plain letters (a few bytes alone cannot tell latin-1 from GBK).
LATIN = st.sampled_from(
    ["Café", "Müller", "São Paulo", "Zürich", "Côte d'Ivoire", "Ærøskøbing", "Françoise", "Ålesund", "Malmö", "Paris"]
)


@given(rows=st.lists(st.lists(LATIN, min_size=2, max_size=2), min_size=1, max_size=20))
def test_latin1_round_trip(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]) -> None:
    rows = [[c.strip() or "x" for c in r] for r in rows]
    path = Path(tmp_path_factory.mktemp("latin")) / "data.csv"
    path.write_bytes(("Customer,City\n" + "\n".join(",".join(r) for r in rows) + "\n").encode("latin-1"))
    reader = CsvReader(path)
    got = [list(r.values()) for chunk in reader.chunks(1000) for r in chunk.table.to_pylist()]
    assert got == rows


@given(st.lists(st.one_of(st.integers(min_value=0, max_value=10**13).map(str), st.text(max_size=6)), max_size=20))
def test_line_numbers_accept_whole_numbers_only(values: list[str]) -> None:
    column = numbers.parse_int_array(pa.array(values, pa.string()))
    for text, got, bad in zip(values, column.values.to_pylist(), column.bad, strict=True):
        try:
            d = numbers.parse_decimal(text, "decimal")
            expected = int(d) if d == d.to_integral_value() else None
        except ValueError:
            expected = None
        assert got == expected
        assert bad == (expected is None and text.strip().lower() not in PLACEHOLDERS)


@given(st.integers(min_value=1900, max_value=2199), st.integers(min_value=1, max_value=12))
def test_periods(year: int, month: int) -> None:
    assert dates.parse_month(f"{year}年{month}月") == f"{year}-{month:02d}"
    assert dates.parse_month(f"{year}-{month}") == f"{year}-{month:02d}"
    assert dates.parse_month(f"{year}-Q{(month - 1) // 3 + 1}") == f"{year}-Q{(month - 1) // 3 + 1}"
    assert dates.parse_month(str(year)) == str(year)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e14, max_value=1e14))
def test_excel_numbers_read_as_shown(value: float) -> None:
    from salescope.ingest.text import to_text

    text = to_text(pa.array([value])).to_pylist()[0]
    if value.is_integer():
        assert text == str(int(value))
    else:
        assert float(text) == value


MARKERS = st.sampled_from(["合计", "总计", "小计", "合计：", "本页小计", "Total", "TOTAL:", "Grand Total", "Subtotal"])


@given(MARKERS, st.lists(st.from_regex(r"[0-9]{1,6}(\.[0-9]{2})?", fullmatch=True), max_size=4))
def test_totals_rows_are_recognised(marker: str, figures: list[str]) -> None:
    import re

    from salescope.ingest.parsing import _TOTALS

    assert re.match(_TOTALS, marker)
    # An ordinary first cell (an order id, a product name) is never a totals marker.
    for cell in ("SO123", "Total Care 牙膏", "合作伙伴", "2024-03-05", *figures):
        assert not re.match(_TOTALS, cell)
