"""Order lines, one calendar month at a time, fully vectorised.

Orders are a superposition of each customer's purchase process: for a month, every active
spell has an expected number of orders (its rate times the channel's intensity over the days it
is active). Conditioned on the month's total, the orders fall on spells multinomially and on
days by the intensity curve — exactly how independent Poisson processes split a fixed count.
Generating month by month keeps memory bounded at any scale and lets the writer stream files.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from salescope.demo import calendar, places
from salescope.demo.catalog import Catalog
from salescope.demo.population import CATEGORY_MIX, Population, draw_categories

ANONYMOUS_SHARE = 0.03
"""Share of orders by walk-in shop customers nobody recorded (blank customer)."""
RETURN_SHARE = 0.02
"""Share of lines that are returns (negative lines), about what Chinese retailers report outside apparel."""
VARIANT_PROB = 0.15
"""Chance an order of a company with name variants uses each variant spelling."""
ALT_CODE_PROB = 0.4
"""Chance an order of a company with a second customer code is booked under it."""
STAPLE_PROB = 0.3
"""Chance a line re-buys one of the customer's staple products (repeat purchasing)."""
COMPANION_PROB = 0.5
PRICE_RISE = 0.03
"""Annual list-price increase, applied each January."""
PROMO_DISCOUNT = 0.12


@dataclass
class LineBlock:
    """One month of order lines in numeric form; formatting into text happens in the writer."""

    day: np.ndarray
    is_return: np.ndarray
    seq: np.ndarray
    line_no: np.ndarray
    customer: np.ndarray
    """-1 for anonymous lines."""
    slot: np.ndarray
    """Which spelling/code of the customer the line carries (see Population.slot_names)."""
    product: np.ndarray
    quantity: np.ndarray
    price_cents: np.ndarray
    amount_cents: np.ndarray
    cost_cents: np.ndarray
    channel: np.ndarray
    city: np.ndarray
    salesperson: np.ndarray
    """-1 when nobody owns the line (anonymous)."""

    def __len__(self) -> int:
        return len(self.day)


@dataclass
class SalesTotals:
    """Aggregates kept while streaming, for the files generated after the sales (targets, stock)."""

    revenue_cents: np.ndarray
    """Salesperson × month, net of returns."""
    units: np.ndarray
    """Product × month, net of returns."""
    survey_customer: list[np.ndarray] = field(default_factory=list)
    survey_day: list[np.ndarray] = field(default_factory=list)


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights (largest remainder), so counts are exact."""
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() <= 0:
        out = np.zeros(len(w), dtype=np.int64)
        if total and len(w):
            out[-1] = total
        return out
    share = w / w.sum() * total
    out = np.floor(share).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(share - out), kind="stable")[:rest]] += 1
    return out


class OrderBook:
    """Plans the whole period's line counts up front, then yields exact monthly blocks."""

    def __init__(
        self,
        *,
        seed: int,
        population: Population,
        catalog: Catalog,
        intensity: np.ndarray,
        promo: np.ndarray,
        start_year: int,
        day_year: np.ndarray,
        months: list[tuple[int, int]],
        total_lines: int,
    ) -> None:
        self.seed = seed
        self.pop = population
        self.cat = catalog
        self.months = months
        self.promo = promo
        self.day_year_idx = (day_year - start_year).astype(np.int64)
        self.cum = np.concatenate([np.zeros((intensity.shape[0], 1)), np.cumsum(intensity, axis=1)], axis=1)
        self.geo = places.geography()
        sp = population.spells
        self.spell_channel = population.channel[sp.customer]
        expected = np.asarray([self._expected(lo, hi).sum() for lo, hi in months])
        lines = apportion(total_lines, expected)
        returns = apportion(round(total_lines * RETURN_SHARE), lines)
        self.sales_lines = lines - returns
        self.returns = returns
        self.totals = SalesTotals(
            revenue_cents=np.zeros((len(population.salespeople), len(months)), dtype=np.int64),
            units=np.zeros((len(catalog.code), len(months)), dtype=np.int64),
        )
        self._product_order, self._product_cdf = self._category_cdf()
        rng = np.random.default_rng([seed, 100])
        self.staples = self._pick_products(rng, np.repeat(np.arange(population.n), 3), with_staples=False).reshape(
            population.n, 3
        )

    def _expected(self, lo: int, hi: int) -> np.ndarray:
        sp = self.pop.spells
        a = np.clip(sp.start, lo, hi)
        b = np.clip(sp.stop, lo, hi)
        return sp.rate * (self.cum[self.spell_channel, b] - self.cum[self.spell_channel, a])

    def _category_cdf(self) -> tuple[np.ndarray, np.ndarray]:
        """Products sorted by category, with category c's Zipf CDF laid out on (c, c + 1].

        One ``searchsorted`` of ``category + U(0, 1)`` then picks a product inside the right
        category for every line at once.
        """
        order = np.argsort(self.cat.category, kind="stable")
        cats = self.cat.category[order]
        cdf = np.empty(len(order))
        for c in np.unique(cats):
            members = cats == c
            cdf[members] = c + np.cumsum(self.cat.popularity[order][members])
            cdf[np.flatnonzero(members)[-1]] = c + 1.0
        return order, cdf

    def _pick_products(self, rng: np.random.Generator, customer: np.ndarray, *, with_staples: bool) -> np.ndarray:
        known = customer >= 0
        cust = np.where(known, customer, 0)
        channel = np.where(known, self.pop.channel[cust], calendar.STORE)
        category = draw_categories(rng, CATEGORY_MIX[channel])
        fav = known & (rng.random(len(customer)) < 0.45)
        category = np.where(fav, self.pop.fav_category[cust], category)
        u = category + rng.random(len(customer))
        pos = np.searchsorted(self._product_cdf, u, side="left")
        product = self._product_order[pos]
        if with_staples:
            staple = known & (rng.random(len(customer)) < STAPLE_PROB)
            product = np.where(staple, self.staples[cust, rng.integers(0, 3, len(customer))], product)
        return product.astype(np.int32)

    def _days(self, rng: np.random.Generator, channel: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Inverse-CDF draw of each order's day inside [lo, hi) along its channel's intensity."""
        day = np.empty(len(channel), dtype=np.int64)
        for ch in range(self.cum.shape[0]):
            idx = np.flatnonzero(channel == ch)
            if not len(idx):
                continue
            c = self.cum[ch]
            u = c[lo[idx]] + rng.random(len(idx)) * (c[hi[idx]] - c[lo[idx]])
            day[idx] = np.clip(np.searchsorted(c, u, side="right") - 1, lo[idx], hi[idx] - 1)
        return day

    def blocks(self) -> Iterator[LineBlock]:
        carry: LineBlock | None = None
        for k, (lo, hi) in enumerate(self.months):
            rng = np.random.default_rng([self.seed, 101, k])
            sales = self._sales_lines(rng, k, lo, hi)
            made = self._returns(rng, sales, int(self.returns[k]))
            last = k == len(self.months) - 1
            pending = _concat([b for b in (carry, made) if b is not None])
            if last:
                pending.day = np.minimum(pending.day, hi - 1)
            now = pending.day < hi
            carry = _take(pending, ~now)
            emitted = _take(pending, now)
            _number_returns(rng, emitted)
            block = _concat([sales, emitted])
            block = _take(block, np.lexsort((block.line_no, block.seq, block.is_return, block.day)))
            self._account(k, block, sales)
            yield block

    def _account(self, k: int, block: LineBlock, sales: LineBlock) -> None:
        owned = block.salesperson >= 0
        np.add.at(self.totals.revenue_cents[:, k], block.salesperson[owned], block.amount_cents[owned])
        np.add.at(self.totals.units[:, k], block.product, block.quantity)
        # Satisfaction surveys follow a sample of orders (one line stands for its order).
        first = (sales.line_no == 1) & (sales.customer >= 0)
        rng = np.random.default_rng([self.seed, 102, k])
        pick = first & (rng.random(len(sales)) < 0.03)
        self.totals.survey_customer.append(sales.customer[pick])
        self.totals.survey_day.append(sales.day[pick])

    def _sales_lines(self, rng: np.random.Generator, k: int, lo: int, hi: int) -> LineBlock:
        pop, sp = self.pop, self.pop.spells
        n_lines = int(self.sales_lines[k])
        expected = self._expected(lo, hi)
        company_spell = pop.company[sp.customer]
        p_geom = np.where(company_spell, 0.3, 0.7)
        mean_lines = (expected / p_geom).sum() / max(expected.sum(), 1e-12)
        mean_lines = (1 - ANONYMOUS_SHARE) * mean_lines + ANONYMOUS_SHARE / 0.7
        n_orders = max(1, min(n_lines, round(n_lines / mean_lines)))
        anon = int(rng.binomial(n_orders, ANONYMOUS_SHARE)) if expected.sum() > 0 else n_orders
        counts = rng.multinomial(n_orders - anon, expected / expected.sum()) if anon < n_orders else None
        spell = np.repeat(np.arange(len(expected)), counts) if counts is not None else np.zeros(0, dtype=np.int64)

        customer = np.concatenate([sp.customer[spell], np.full(anon, -1)]).astype(np.int32)
        known = customer >= 0
        cust = np.where(known, customer, 0)
        channel = np.where(known, pop.channel[cust], calendar.STORE).astype(np.int8)
        a = np.concatenate([np.clip(sp.start[spell], lo, hi), np.full(anon, lo)])
        b = np.concatenate([np.clip(sp.stop[spell], lo, hi), np.full(anon, hi)])
        day = self._days(rng, channel, a, b)
        anon_city = rng.choice(len(self.geo.cities), size=len(customer), p=self.geo.city_weight)
        city = np.where(known, pop.city[cust], anon_city)

        slot = np.zeros(len(customer), dtype=np.int8)
        u = rng.random(len(customer))
        variants = known & pop.has_variants[cust]
        slot[variants & (u < VARIANT_PROB)] = 1
        slot[variants & (u >= VARIANT_PROB) & (u < 2 * VARIANT_PROB)] = 2
        slot[known & pop.has_alt[cust] & (rng.random(len(customer)) < ALT_CODE_PROB)] = 3

        # Lines per order: companies order several items, consumers one or two.
        p = np.where(known & pop.company[cust], 0.3, 0.7)
        lines = rng.geometric(p)
        lines = _fit_total(rng, lines, n_lines)
        # Orders that kept at least one line, in day order (ties in random order): the export order.
        idx = np.flatnonzero(lines > 0)
        idx = idx[np.lexsort((rng.random(len(idx)), day[idx]))]
        customer, channel, day, city, slot, lines = (
            customer[idx],
            channel[idx],
            day[idx],
            city[idx],
            slot[idx],
            lines[idx],
        )
        known, cust = customer >= 0, np.where(customer >= 0, customer, 0)
        seq = _rank_within(day)

        starts = np.cumsum(lines) - lines
        o = np.repeat(np.arange(len(lines)), lines)
        line_no = (np.arange(int(lines.sum())) - starts[o] + 1).astype(np.int32)
        l_cust = customer[o]
        product = self._pick_products(rng, l_cust, with_staples=True)
        second = np.flatnonzero(line_no == 2)
        companion = self.cat.companion[product[second - 1]]
        swap = (companion >= 0) & (rng.random(len(second)) < COMPANION_PROB)
        product[second[swap]] = companion[swap]

        l_known = known[o]
        l_c = cust[o]
        price = self.cat.price_cents[product]
        rise = (1 + PRICE_RISE) ** self.day_year_idx[day[o]]
        company = l_known & pop.company[l_c]
        q0 = pop.size[l_c] * 12 * (10_000 / np.maximum(price, 1)) ** 0.45
        qty_company = np.maximum(1, np.round(rng.lognormal(np.log(q0), 0.5)))
        qty_person = rng.choice(np.arange(1, 6), size=len(product), p=[0.68, 0.2, 0.06, 0.03, 0.03])
        quantity = np.where(company, qty_company, qty_person).astype(np.int64)
        promo = (channel[o] == calendar.ECOMMERCE) & self.promo[day[o]]
        factor = rise * (1 - np.where(l_known, pop.discount[l_c], 0.0)) * np.where(promo, 1 - PROMO_DISCOUNT, 1.0)
        unit = np.round(price * factor).astype(np.int64)
        cost = np.round(self.cat.cost_cents[product] * rise).astype(np.int64)

        return LineBlock(
            day=day[o].astype(np.int32),
            is_return=np.zeros(len(o), dtype=np.int8),
            seq=seq[o].astype(np.int32),
            line_no=line_no,
            customer=l_cust,
            slot=slot[o],
            product=product,
            quantity=quantity,
            price_cents=unit,
            amount_cents=quantity * unit,
            cost_cents=quantity * cost,
            channel=channel[o],
            city=city[o].astype(np.int32),
            salesperson=np.where(l_known, pop.salesperson[l_c], -1).astype(np.int16),
        )

    def _returns(self, rng: np.random.Generator, sales: LineBlock, count: int) -> LineBlock:
        """Negative lines for a sample of this month's sales, 3–30 days later, e-commerce returning most."""
        count = min(count, len(sales))
        weight = np.where(sales.channel == calendar.ECOMMERCE, 2.5, 1.0)
        pick = np.sort(rng.choice(len(sales), size=count, replace=False, p=weight / weight.sum()))
        ret = _take(sales, pick)
        partial = np.maximum(1, np.floor(ret.quantity * rng.uniform(0.2, 1.0, count))).astype(np.int64)
        qty = -np.where(ret.quantity > 3, partial, ret.quantity)
        unit_cost = ret.cost_cents // np.maximum(ret.quantity, 1)
        ret.quantity = qty
        ret.amount_cents = qty * ret.price_cents
        ret.cost_cents = qty * unit_cost
        ret.day = (ret.day + rng.integers(3, 31, count)).astype(np.int32)
        ret.is_return = np.ones(count, dtype=np.int8)
        ret.line_no = np.ones(count, dtype=np.int32)
        ret.seq = np.zeros(count, dtype=np.int32)
        return ret


def _fit_total(rng: np.random.Generator, lines: np.ndarray, total: int) -> np.ndarray:
    """Nudge lines-per-order so they sum to exactly ``total`` (orders may drop to zero lines)."""
    lines = lines.astype(np.int64)
    while (diff := total - int(lines.sum())) != 0:
        if diff > 0:
            np.add.at(lines, rng.integers(0, len(lines), diff), 1)
        else:
            eligible = np.flatnonzero(lines > 1)
            if not len(eligible):
                eligible = np.flatnonzero(lines > 0)
            take = rng.choice(eligible, size=min(-diff, len(eligible)), replace=False)
            lines[take] -= 1
    return lines


def _rank_within(day: np.ndarray) -> np.ndarray:
    """1-based position of each (sorted) order within its day: the daily order sequence number."""
    if not len(day):
        return np.zeros(0, dtype=np.int64)
    first = np.concatenate([[True], day[1:] != day[:-1]])
    start = np.maximum.accumulate(np.where(first, np.arange(len(day)), 0))
    return np.arange(len(day)) - start + 1


def _number_returns(rng: np.random.Generator, block: LineBlock) -> None:
    order = np.lexsort((rng.random(len(block)), block.day))
    seq = np.empty(len(block), dtype=np.int32)
    seq[order] = _rank_within(block.day[order])
    block.seq = seq


def _take(block: LineBlock, idx: np.ndarray) -> LineBlock:
    return LineBlock(**{name: getattr(block, name)[idx] for name in block.__dataclass_fields__})


def _concat(blocks: list[LineBlock]) -> LineBlock:
    names = LineBlock.__dataclass_fields__
    return LineBlock(**{name: np.concatenate([getattr(b, name) for b in blocks]) for name in names})
