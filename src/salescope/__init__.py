"""Salescope — sales and procurement customer analytics (采销客户数据分析).

The notebook API. Heavy backends load on first use, so ``import salescope`` stays fast::

    import salescope as ss
    ws = ss.Workspace("salescope-data"); ws.import_file("orders.xlsx"); ws.analyze()
    ss.rfm(df, as_of="2024-12-31"); ss.association_rules(baskets, min_support=0.001, min_confidence=0.5)
    ss.clv.BetaGeo().fit(frequency, recency, T).params_
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Workspace": ("salescope.services.workspace", "Workspace"),
    "rfm": ("salescope.analytics.rfm", "rfm"),
    "association_rules": ("salescope.analytics.basket", "association_rules"),
    "resolve_customers": ("salescope.resolve.api", "resolve_customers"),
    "clv": ("salescope.models.btyd", None),
    "SalescopeError": ("salescope.errors", "SalescopeError"),
    "InputError": ("salescope.errors", "InputError"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'salescope' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
