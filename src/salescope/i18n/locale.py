"""The locales pages are written in: Simplified Chinese by default, English on request."""

from __future__ import annotations

from typing import Literal, cast

from salescope.errors import InputError

Locale = Literal["zh-CN", "en"]
LOCALES: tuple[Locale, ...] = ("zh-CN", "en")
DEFAULT_LOCALE: Locale = "zh-CN"

_ALIASES = {
    "zh": "zh-CN",
    "zh-cn": "zh-CN",
    "zh_cn": "zh-CN",
    "zh-hans": "zh-CN",
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
}


def normalise_locale(value: str) -> Locale:
    """Accept the spellings browsers and people use (zh, zh_CN, en-US) for the two locales we ship."""
    found = _ALIASES.get(value.strip().lower())
    if found is None:
        raise InputError("unknown language", value=value, expected="one of zh-CN, en")
    return cast(Locale, found)
