"""Sales order lines written as an ERP's CSV export (UTF-8 with BOM, CRLF), month by month.

Small demos write one file; bigger ones write one file per calendar year, as people export
from systems that refuse to export more than a year at once — and so nothing ever holds the
whole table in memory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from salescope.demo import calendar, catalog, dirt, files, places, text
from salescope.demo.catalog import Catalog
from salescope.demo.orders import LineBlock
from salescope.demo.population import Population

HEADERS: tuple[str, ...] = (
    "订单编号",
    "行号",
    "下单日期",
    "客户编号",
    "客户名称",
    "联系电话",
    "产品编码",
    "产品名称",
    "类别",
    "数量",
    "单价",
    "金额",
    "成本",
    "销售员",
    "区域",
    "省份",
    "城市",
    "渠道",
)
BOM = "\ufeff".encode()
DESCRIPTION = "销售订单明细 / order lines"
# Per-row format styles: (normal, variant A, variant B) probabilities.
DATE_STYLES = (0.955, 0.03, 0.015)
AMOUNT_STYLES = (0.97, 0.03, 0.0)
PRICE_STYLES = (0.98, 0.0, 0.02)
SPOILS = (
    files.Spoil("下单日期", "date", "impossible date"),
    files.Spoil("金额", "number", "unreadable amount (unit price blank)", also_blank=("单价",)),
)


class SalesFormatter:
    """Lookup arrays so a block of numeric lines becomes text columns with Arrow ``take``."""

    def __init__(self, pop: Population, cat: Catalog, start: dt.date) -> None:
        self.start = start
        n = pop.n
        codes = [[c, c, c, alt or c] for c, alt in zip(pop.code, pop.alt_code, strict=True)]
        self.ident_code = text.strings([x for row in codes for x in row] + [""])
        self.ident_name = text.strings([x for row in pop.slot_names for x in row] + [""])
        self.phone = text.strings([("" if pop.company[i] else pop.phone[i]) for i in range(n)] + [""])
        self.anonymous = 4 * n
        self.product_code = text.strings(cat.code)
        self.product_name = text.strings(cat.name)
        self.category = text.strings([catalog.CATEGORIES[c].name for c in cat.category])
        self.salesperson = text.strings([*pop.salespeople, ""])
        geo = places.geography()
        self.city = text.strings([c.name for c in geo.cities])
        provinces = [places.PROVINCES[p] for p in geo.province_of_city]
        self.province = text.strings([p.name for p in provinces])
        self.region = text.strings([p.region for p in provinces])
        self.channel = text.strings(list(calendar.CHANNELS))

    def columns(
        self, b: LineBlock, date_style: np.ndarray, amount_style: np.ndarray, price_style: np.ndarray
    ) -> list[pa.Array]:
        ident = np.where(b.customer >= 0, b.customer.astype(np.int64) * 4 + b.slot, self.anonymous)
        prefix = pa.array(np.where(b.is_return == 1, "TH", "SO"))
        order_id = text.join(prefix, text.compact_dates(b.day, self.start), text.ints(b.seq, 5))
        sp = np.where(b.salesperson >= 0, b.salesperson, len(self.salesperson) - 1)
        phone_idx = np.where(b.customer >= 0, b.customer, len(self.phone) - 1)
        return [
            order_id,
            text.ints(b.line_no),
            text.dates(b.day, self.start, date_style),
            self.ident_code.take(pa.array(ident)),
            self.ident_name.take(pa.array(ident)),
            self.phone.take(pa.array(phone_idx)),
            self.product_code.take(pa.array(b.product)),
            self.product_name.take(pa.array(b.product)),
            self.category.take(pa.array(b.product)),
            text.ints(b.quantity),
            text.money(b.price_cents, price_style),
            text.money(b.amount_cents, amount_style),
            text.money(b.cost_cents),
            self.salesperson.take(pa.array(sp)),
            self.region.take(pa.array(b.city)),
            self.province.take(pa.array(b.city)),
            self.city.take(pa.array(b.city)),
            self.channel.take(pa.array(b.channel)),
        ]


class SalesWriter:
    """Streams blocks into one or several files, spoiling a few rows and keeping each file's ledger."""

    def __init__(self, out_dir: Path, formatter: SalesFormatter, start: dt.date, *, by_year: bool) -> None:
        self.out_dir = out_dir
        self.fmt = formatter
        self.start = start
        self.by_year = by_year
        self.ledgers: dict[str, dirt.Ledger] = {}
        self.paths: dict[str, Path] = {}
        self._open: tuple[str, BinaryIO] | None = None

    def file_name(self, first_day: int) -> str:
        if not self.by_year:
            return "sales_orders.csv"
        return f"sales_orders_{(self.start + dt.timedelta(days=first_day)).year}.csv"

    def _handle(self, name: str) -> BinaryIO:
        if self._open and self._open[0] == name:
            return self._open[1]
        self.close()
        path = self.out_dir / name
        fh = path.open("wb")
        fh.write(BOM + text.csv_header(HEADERS))
        self._open = (name, fh)
        self.paths[name] = path
        self.ledgers[name] = dirt.Ledger(name, "sales", DESCRIPTION)
        return fh

    def write(self, rng: np.random.Generator, block: LineBlock, name: str, bad: int) -> None:
        fh = self._handle(name)
        ledger = self.ledgers[name]
        n = len(block)
        date_style = dirt.styles(rng, n, DATE_STYLES)
        amount_style = dirt.styles(rng, n, AMOUNT_STYLES)
        price_style = dirt.styles(rng, n, PRICE_STYLES)
        cols = self.fmt.columns(block, date_style, amount_style, price_style)

        year = (self.start + dt.timedelta(days=int(block.day[0]))).year if n else self.start.year
        plan = files.plan_dirt(
            rng, ledger, n, bad=bad, spoils=SPOILS, year=year, amount_cents=block.amount_cents, row_offset=ledger.rows
        )
        fh.write(text.csv_lines(files.apply_to_columns(plan, HEADERS, cols)))
        clean = np.ones(n, dtype=bool)
        clean[plan.rows] = False
        ledger.count("anonymous_lines", int((clean & (block.customer < 0)).sum()))
        ledger.count("return_lines", int((clean & (block.is_return == 1)).sum()))
        ledger.count("name_variant_lines", int((clean & ((block.slot == 1) | (block.slot == 2))).sum()))
        ledger.count("alternate_code_lines", int((clean & (block.slot == 3)).sum()))
        ledger.count("dates_slash", int((date_style == text.SLASH).sum()))
        ledger.count("dates_chinese", int((date_style == text.CHINESE).sum()))
        ledger.count("amounts_with_yen_sign", int((amount_style == text.YEN).sum()))
        ledger.count("prices_with_separators", int((price_style == text.GROUPED).sum()))

    def close(self) -> None:
        if self._open:
            self._open[1].close()
            self._open = None
