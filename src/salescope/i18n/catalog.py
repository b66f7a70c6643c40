"""Message catalogs: one JSON file per locale, keyed by stable message ids.

Messages live in data files rather than code so translators can edit them
without touching Python, and so a test can prove both catalogs carry the same keys.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from salescope.i18n.locale import LOCALES, Locale, normalise_locale

_FILES: dict[Locale, str] = {"zh-CN": "zh_CN.json", "en": "en.json"}


@cache
def catalog(locale: Locale) -> dict[str, str]:
    text = resources.files("salescope.i18n").joinpath("catalogs", _FILES[locale]).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"the {locale} catalog must map message ids to strings")
    return data


def translate(key: str, locale: str, **params: object) -> str:
    """The message for ``key``; an id missing from the catalog shows as itself rather than failing a page."""
    text = catalog(normalise_locale(locale)).get(key, key)
    return text.format(**params) if params else text


class Translator:
    """``t("nav.overview")`` bound to one locale, for templates."""

    def __init__(self, locale: str) -> None:
        self.locale: Locale = normalise_locale(locale)

    def __call__(self, key: str, **params: object) -> str:
        return translate(key, self.locale, **params)


def all_keys() -> dict[Locale, set[str]]:
    return {loc: set(catalog(loc)) for loc in LOCALES}
