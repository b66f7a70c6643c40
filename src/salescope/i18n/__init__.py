"""Bilingual text and numbers: zh-CN (default) and English catalogs, ¥ and 万/亿 formatting."""

from salescope.i18n.catalog import Translator, translate
from salescope.i18n.locale import DEFAULT_LOCALE, LOCALES, Locale, normalise_locale
from salescope.i18n.numbers import format_compact, format_money, format_number, format_percent

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "Locale",
    "Translator",
    "format_compact",
    "format_money",
    "format_number",
    "format_percent",
    "normalise_locale",
    "translate",
]
