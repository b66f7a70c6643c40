"""Generate the demo's 采销 files, deterministically from a seed and an end date.

The files are what a sales-and-procurement team would export from its ERP, CRM and survey tool
— with their dirt — so ``salescope demo`` exercises the real importer end to end. A
``manifest.json`` beside them records the injected dirt, so an import can be reconciled row
for row and to the cent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from salescope.demo import calendar, catalog, crm, dirt, exports, orders, population, procurement
from salescope.demo.sales import SalesFormatter, SalesWriter
from salescope.errors import InputError

MANIFEST = "manifest.json"
SALES_BAD_ROWS_PER_FILE = 6


class Progress(Protocol):
    """The same hooks as ``services.progress.Progress``, restated because services sit above demo."""

    def start(self, task: str, total: float | None = None) -> None: ...

    def advance(self, task: str, amount: float = 1.0) -> None: ...

    def finish(self, task: str) -> None: ...


@dataclass(frozen=True)
class DemoFile:
    path: Path
    kind: str
    rows: int
    """Data rows under the header, totals row included (what the importer's ``rows`` counts)."""
    description: str


@dataclass(frozen=True)
class ScaleConfig:
    name: str
    order_lines: int
    customers: int
    products: int
    suppliers: int
    salespeople: int
    opportunities: int
    sales_by_year: bool
    """One sales file per calendar year instead of one file."""

    def scaled(self, factor: float) -> ScaleConfig:
        """The same shape with fewer rows — how tests check the big configurations cheaply."""
        return dataclasses.replace(
            self,
            order_lines=max(1_000, round(self.order_lines * factor)),
            customers=max(200, round(self.customers * factor)),
            products=max(80, round(self.products * factor)),
            opportunities=max(50, round(self.opportunities * factor)),
        )


SCALES: dict[str, ScaleConfig] = {
    "small": ScaleConfig("small", 60_000, 3_000, 300, 30, 10, 1_200, sales_by_year=False),
    "medium": ScaleConfig("medium", 1_000_000, 50_000, 1_500, 45, 12, 8_000, sales_by_year=True),
    "large": ScaleConfig("large", 10_000_000, 400_000, 5_000, 60, 15, 40_000, sales_by_year=True),
}


def _config(scale: str | ScaleConfig) -> ScaleConfig:
    if isinstance(scale, ScaleConfig):
        return scale
    if scale not in SCALES:
        raise InputError("unknown demo scale", value=scale, expected=" or ".join(SCALES))
    return SCALES[scale]


def generate(
    out_dir: Path,
    *,
    scale: str | ScaleConfig = "small",
    seed: int = 0,
    end: dt.date | None = None,
    progress: Progress | None = None,
) -> list[DemoFile]:
    """Write the demo files into ``out_dir`` (created if needed) and return them in import order.

    Masters come first (customers, products, suppliers) so that sales lines meet known codes.
    Same ``seed`` and ``end`` give byte-identical files.
    """
    cfg = _config(scale)
    end = end or calendar.default_end()
    start, end = calendar.period(end)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    days = (end - start).days + 1
    months = calendar.month_starts(start, end)
    task = "demo"
    if progress:
        progress.start(task, total=len(months) + 8)

    def step(amount: float = 1.0) -> None:
        if progress:
            progress.advance(task, amount)

    def rng(*stream: int) -> np.random.Generator:
        return np.random.default_rng([seed, *stream])

    intensity = calendar.channel_intensity(start, days)
    sup = catalog.build_suppliers(rng(1), cfg.suppliers)
    cat = catalog.build_catalog(rng(2), cfg.products, sup)
    pop = population.build_population(rng(3), cfg.customers, days, cfg.salespeople, intensity)
    day_year = (np.datetime64(start, "D") + np.arange(days)).astype("datetime64[Y]").astype(np.int64) + 1970
    book = orders.OrderBook(
        seed=seed,
        population=pop,
        catalog=cat,
        intensity=intensity,
        promo=calendar.promo_days(start, days),
        start_year=start.year,
        day_year=day_year,
        months=months,
        total_lines=cfg.order_lines,
    )
    step()

    writer = SalesWriter(out_dir, SalesFormatter(pop, cat, start), start, by_year=cfg.sales_by_year)
    file_of_month = [writer.file_name(lo) for lo, _ in months]
    bad_per_month = _spread_bad_rows(rng(4), file_of_month, book.sales_lines + book.returns)
    try:
        for k, block in enumerate(book.blocks()):
            writer.write(rng(5, k), block, file_of_month[k], int(bad_per_month[k]))
            step()
    finally:
        writer.close()

    po, stock = procurement.simulate(rng(6), cat, sup, book.totals.units, months, start)
    opp = crm.opportunities(rng(7), pop, cat, cfg.opportunities, days, intensity[calendar.B2B])
    survey_customer = np.concatenate([np.zeros(0, dtype=np.int64), *book.totals.survey_customer])
    survey_day = np.concatenate([np.zeros(0, dtype=np.int64), *book.totals.survey_day])
    fb = crm.feedback(rng(8), pop, survey_customer, survey_day, months)
    per_sp, total = crm.targets(rng(9), book.totals.revenue_cents)
    step()

    ledgers: list[dirt.Ledger] = []
    ledgers.append(exports.customers(out_dir / "customers.xlsx", rng(10), pop, end))
    step()
    ledgers.append(exports.products(out_dir / "products.csv", rng(11), cat, end))
    ledgers.append(exports.suppliers(out_dir / "suppliers.csv", rng(12), sup, end))
    step()
    ledgers.extend(writer.ledgers.values())
    ledgers.append(exports.purchases(out_dir / "purchases.xlsx", rng(13), po, cat, sup, start, end))
    step()
    ledgers.append(exports.inventory(out_dir / "inventory.csv", rng(14), stock, cat, start, end))
    step()
    ledgers.append(exports.opportunities(out_dir / "opportunities.csv", rng(15), opp, pop, cat, start, end))
    ledgers.append(exports.feedback(out_dir / "feedback.csv", rng(16), fb, pop, start, end))
    step()
    ledgers.append(exports.targets(out_dir / "targets.csv", rng(17), per_sp, total, pop, start, end))
    _write_manifest(out_dir / MANIFEST, cfg, seed, start, end, ledgers, pop)
    step()
    if progress:
        progress.finish(task)
    return [DemoFile(out_dir / lg.file, lg.kind, lg.rows, lg.description) for lg in ledgers]


def _spread_bad_rows(rng: np.random.Generator, file_of_month: list[str], lines: np.ndarray) -> np.ndarray:
    """A handful of bad rows per sales file, spread over that file's months by their size."""
    out = np.zeros(len(file_of_month), dtype=np.int64)
    names = np.asarray(file_of_month)
    for name in dict.fromkeys(file_of_month):
        idx = np.flatnonzero(names == name)
        weights = lines[idx].astype(np.float64)
        out[idx] = rng.multinomial(SALES_BAD_ROWS_PER_FILE, weights / weights.sum()) if weights.sum() else 0
    return out


def _write_manifest(
    path: Path,
    cfg: ScaleConfig,
    seed: int,
    start: dt.date,
    end: dt.date,
    ledgers: list[dirt.Ledger],
    pop: population.Population,
) -> None:
    alt = [[pop.code[i], pop.alt_code[i]] for i in np.flatnonzero(pop.has_alt)]
    manifest = {
        "generator": "salescope.demo",
        "scale": dataclasses.asdict(cfg),
        "seed": seed,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "row_numbers": "1-based data rows under the header (title rows and the header not counted)",
        "files": [lg.as_dict() for lg in ledgers],
        "customers": {
            "total": pop.n,
            "second_codes": alt,
            "note": "each pair is one company registered under two customer codes (same tax id and phone)",
        },
        "value_maps": {
            "customers.客户类型": {v: k for k, v in exports.CUSTOMER_KINDS.items()},
            "opportunities.状态": {v: k for k, v in crm.STATUS.items()},
            "feedback.问卷类型": {v: k for k, v in crm.SURVEY_KINDS.items()},
        },
        "encodings": {"products.csv": "gbk", "inventory.csv": "utf-8", "*": "utf-8-sig"},
    }
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
