"""The dirt real exports carry, injected on purpose and written down so imports can be reconciled.

Each file gets a ledger: how many data rows it has, which are exact repeats, which carry a value
no importer can read (and so must be quarantined), which is a totals row (skipped). The ledgers
become ``manifest.json``; a correct import of a demo file satisfies
``loaded == rows - duplicates - quarantined - skipped`` and loads exactly ``amount_total``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DUPLICATE_SHARE = 0.003
"""Exact repeated rows (same key, same content), as double exports and copy-paste produce."""
IMPOSSIBLE_DATES = ("{y}-02-30", "{y}-13-05", "{y}/02/31", "{y}-04-31", "{y}-00-12")
UNREADABLE = ("N/A", "#VALUE!", "待定", "--")


@dataclass
class Ledger:
    file: str
    kind: str
    description: str
    rows: int = 0
    duplicates: int = 0
    quarantined: int = 0
    skipped: int = 0
    bad_rows: list[dict[str, object]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    amount_cents: int | None = None

    def count(self, name: str, n: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + int(n)

    def add_amount(self, cents: int) -> None:
        self.amount_cents = (self.amount_cents or 0) + int(cents)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "file": self.file,
            "kind": self.kind,
            "description": self.description,
            "rows": self.rows,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "skipped": self.skipped,
            "expected_loaded": self.rows - self.duplicates - self.quarantined - self.skipped,
            "bad_rows": self.bad_rows,
            "injected": dict(sorted(self.counts.items())),
        }
        if self.amount_cents is not None:
            sign = "-" if self.amount_cents < 0 else ""
            cents = abs(self.amount_cents)
            out["amount_total"] = f"{sign}{cents // 100}.{cents % 100:02d}"
        return out


def duplicate_count(n: int) -> int:
    return round(n * DUPLICATE_SHARE)


def pick_rows(rng: np.random.Generator, n: int, count: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """``count`` distinct row indices below ``n``, avoiding ``exclude``, sorted."""
    pool = np.arange(n) if exclude is None or not len(exclude) else np.setdiff1d(np.arange(n), exclude)
    count = min(count, len(pool))
    return np.sort(rng.choice(pool, size=count, replace=False)) if count else np.zeros(0, dtype=np.int64)


def with_repeats(n: int, repeated: np.ndarray) -> np.ndarray:
    """Row order with each repeated row written twice in a row (how a double export looks)."""
    return np.sort(np.concatenate([np.arange(n), repeated]), kind="stable")


def final_position(rows: np.ndarray, repeated: np.ndarray) -> np.ndarray:
    """0-based position of original rows once the repeats are inserted (first occurrence)."""
    return rows + np.searchsorted(np.sort(repeated), rows, side="left")


def impossible_date(rng: np.random.Generator, year: int) -> str:
    return IMPOSSIBLE_DATES[int(rng.integers(0, len(IMPOSSIBLE_DATES)))].format(y=year)


def unreadable(rng: np.random.Generator) -> str:
    return UNREADABLE[int(rng.integers(0, len(UNREADABLE)))]


def styles(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> np.ndarray:
    """A per-row format style drawn from ``probs`` (style 0 is the file's normal format)."""
    return rng.choice(len(probs), size=n, p=np.asarray(probs) / sum(probs)).astype(np.int8)
