"""Numbers as people in each locale read them.

Money is kept exact (``Decimal``) until the last step, so a displayed figure is
the warehouse figure rounded once, half up, the way accountants round. Chinese
readers count large amounts in 万 (10⁴) and 亿 (10⁸) — four-digit groups — so the
compact zh-CN form steps at those powers rather than at thousands and millions.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from salescope.i18n.locale import Locale, normalise_locale

Number = Decimal | int | float

CURRENCY_SYMBOL = "¥"

# (threshold, suffix), largest first; a value is shown in the largest unit it reaches.
_UNITS: dict[Locale, tuple[tuple[Decimal, str], ...]] = {
    "zh-CN": ((Decimal(10) ** 12, "万亿"), (Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")),
    "en": ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K")),
}


def to_decimal(value: Number) -> Decimal:
    """Floats go through ``str`` so 0.1 stays 0.1 instead of its binary expansion."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _round(value: Decimal, places: int) -> Decimal:
    try:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # only for values far beyond any real amount of money
        raise ValueError(f"cannot format {value!r} with {places} decimals") from exc


def _grouped(value: Decimal, places: int) -> str:
    """Three-digit comma grouping (the form both locales use for exact amounts)."""
    rounded = _round(value, places)
    sign = "-" if rounded < 0 else ""
    return sign + f"{abs(rounded):,.{places}f}"


def format_number(value: Number, locale: str = "zh-CN", *, places: int = 0) -> str:
    """An exact figure with comma grouping: 12,345 or 12,345.60 in both locales."""
    normalise_locale(locale)
    return _grouped(to_decimal(value), places)


def format_money(value: Number, locale: str = "zh-CN", *, places: int = 2) -> str:
    """Exact money: ¥12,345.60; a negative amount (a refund) is -¥12.00."""
    text = format_number(value, locale, places=places)
    if text.startswith("-"):
        return "-" + CURRENCY_SYMBOL + text[1:]
    return CURRENCY_SYMBOL + text


def format_compact(value: Number, locale: str = "zh-CN", *, places: int = 2, money: bool = False) -> str:
    """A large figure in the locale's units: 1.23万 and 4.56亿 in zh-CN, 12.35K and 4.56M in English.

    Values below the smallest unit are shown exactly (with ``places`` decimals only
    for money). Above it, the unit is the largest the rounded figure reaches, so
    99,999,999 reads 1.00亿, never 10000.00万.
    """
    loc = normalise_locale(locale)
    d = to_decimal(value)
    sign = "-" if d < 0 else ""
    magnitude = abs(d)
    prefix = sign + (CURRENCY_SYMBOL if money else "")
    units = _UNITS[loc]
    if magnitude >= units[-1][0]:
        for threshold, suffix in units:
            scaled = _round(magnitude / threshold, places)
            if scaled >= 1:
                return f"{prefix}{scaled:.{places}f}{suffix}"
    small = _grouped(magnitude, places if money else 0)
    if _round(magnitude, places if money else 0) == 0:
        prefix = CURRENCY_SYMBOL if money else ""
    return prefix + small


def format_percent(ratio: Number | None, locale: str = "zh-CN", *, places: int = 1) -> str:
    """A ratio (0.123) as a percentage with one decimal: 12.3%; an undefined ratio is an em dash."""
    normalise_locale(locale)
    if ratio is None:
        return "—"
    return f"{_round(to_decimal(ratio) * 100, places):.{places}f}%"
