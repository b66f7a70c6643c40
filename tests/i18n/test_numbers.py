"""Money, 万/亿 and percentages as readers in each locale expect them.

Expected values are either the examples the design pins (¥1,234.56, 1.23万, 4.56亿)
or recomputed independently with Python's Decimal from the formatted text.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from salescope.errors import InputError
from salescope.i18n import format_compact, format_money, format_number, format_percent, normalise_locale

# Amounts a warehouse can hold: DECIMAL(18,4).
amounts = st.decimals(min_value=Decimal("-99999999999999.9999"), max_value=Decimal("99999999999999.9999"), places=4)
non_negative = st.decimals(min_value=Decimal(0), max_value=Decimal("99999999999999.9999"), places=4)

GROUPED = re.compile(r"^-?¥\d{1,3}(,\d{3})*\.\d{2}$")
ZH_UNITS = {"万": Decimal(10) ** 4, "亿": Decimal(10) ** 8, "万亿": Decimal(10) ** 12}
EN_UNITS = {"K": Decimal(10) ** 3, "M": Decimal(10) ** 6, "B": Decimal(10) ** 9, "T": Decimal(10) ** 12}


def half_up(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12345.6"), "¥12,345.60"),
        (Decimal("1234.56"), "¥1,234.56"),
        (Decimal("0"), "¥0.00"),
        (Decimal("-12"), "-¥12.00"),
        (Decimal("0.005"), "¥0.01"),  # half up, as accountants round
        (Decimal("-0.004"), "¥0.00"),  # no negative zero
        (1234567, "¥1,234,567.00"),
        (0.1, "¥0.10"),
    ],
)
def test_money_examples(value: Decimal | int | float, text: str) -> None:
    assert format_money(value) == text
    assert format_money(value, "en") == text


@given(amounts)
@example(Decimal("12345.6"))
def test_money_round_trips_to_the_half_up_rounded_amount(value: Decimal) -> None:
    text = format_money(value)
    assert GROUPED.match(text), text
    assert Decimal(text.replace("¥", "").replace(",", "")) == half_up(value, 2)


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (Decimal("12345"), "1.23万", "12.35K"),
        (Decimal("456000000"), "4.56亿", "456.00M"),
        (Decimal("9999"), "9,999", "10.00K"),
        (Decimal("99999999"), "1.00亿", "100.00M"),  # rounding first: never 10000.00万
        (Decimal("1234567890123"), "1.23万亿", "1.23T"),
        (Decimal("-25000"), "-2.50万", "-25.00K"),
        (Decimal("0"), "0", "0"),
    ],
)
def test_compact_examples(value: Decimal, zh: str, en: str) -> None:
    assert format_compact(value, "zh-CN") == zh
    assert format_compact(value, "en") == en


def test_compact_money_carries_the_currency() -> None:
    assert format_compact(Decimal("12345.6"), money=True) == "¥1.23万"
    assert format_compact(Decimal("-456000000"), money=True) == "-¥4.56亿"
    assert format_compact(Decimal("999.5"), money=True) == "¥999.50"


def _parse_compact(text: str, units: dict[str, Decimal]) -> tuple[Decimal, Decimal]:
    match = re.fullmatch(r"(-?)(\d[\d,]*(?:\.\d+)?)(\D*)", text)
    assert match, text
    sign, digits, suffix = match.groups()
    unit = units[suffix] if suffix else Decimal(1)
    return Decimal(sign + digits.replace(",", "")), unit


@given(amounts)
@example(Decimal("99999999"))
@example(Decimal("9999.995"))
def test_zh_compact_counts_in_four_digit_groups(value: Decimal) -> None:
    """万 and 亿 step every four digits: below 10,000 of its unit, within rounding of the value."""
    scaled, unit = _parse_compact(format_compact(value, "zh-CN"), ZH_UNITS)
    assert abs(scaled * unit - value) <= unit / 200 + Decimal("0.5")
    if abs(value) < 10_000:
        assert unit == 1
    else:
        assert Decimal(1) <= abs(scaled) < 10_000
        assert unit == max(u for u in ZH_UNITS.values() if half_up(abs(value) / u, 2) >= 1)


@given(amounts)
def test_en_compact_counts_in_thousands(value: Decimal) -> None:
    scaled, unit = _parse_compact(format_compact(value, "en"), EN_UNITS)
    assert abs(scaled * unit - value) <= unit / 200 + Decimal("0.5")
    if unit > 1:
        assert Decimal(1) <= abs(scaled) < 1000


@given(non_negative)
def test_compact_is_monotonic_within_a_unit(value: Decimal) -> None:
    bigger = value * 2
    a, ua = _parse_compact(format_compact(value), ZH_UNITS)
    b, ub = _parse_compact(format_compact(bigger), ZH_UNITS)
    assert a * ua <= b * ub + ub / 100


@pytest.mark.parametrize(
    ("ratio", "text"),
    [(0.123, "12.3%"), (Decimal("0.5"), "50.0%"), (1, "100.0%"), (0.00049, "0.0%"), (0.0005, "0.1%"), (None, "—")],
)
def test_percent_has_one_decimal(ratio: float | Decimal | None, text: str) -> None:
    assert format_percent(ratio) == text


@given(st.fractions(min_value=0, max_value=10).map(lambda f: Decimal(f.numerator) / Decimal(f.denominator)))
def test_percent_round_trips(ratio: Decimal) -> None:
    text = format_percent(ratio)
    assert re.fullmatch(r"\d+\.\d%", text)
    assert Decimal(text[:-1]) == half_up(ratio * 100, 1)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_number_groups_by_three(value: int) -> None:
    text = format_number(value)
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*", text)
    assert int(text.replace(",", "")) == value


def test_locale_spellings() -> None:
    assert normalise_locale("zh_CN") == normalise_locale("zh") == "zh-CN"
    assert normalise_locale("en-US") == "en"
    with pytest.raises(InputError, match="expected one of zh-CN, en"):
        format_money(1, "fr")
