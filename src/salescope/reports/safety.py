"""Spreadsheet formula injection: a cell text starting with = + - @ (or tab/CR) can run as a formula
when a user opens an export in Excel or WPS, so exported text is neutralised with a leading quote."""

from __future__ import annotations

from typing import Any

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value
