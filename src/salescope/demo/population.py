"""The demo's customers: who they are, who owns them, how much they are worth and when they buy.

Customer value is heavy-tailed (a bounded Pareto), so roughly the top fifth of customers bring
most of the revenue. Each customer buys during one or two *active spells* — it is born (first
possible order), buys at its own rate, and may churn; some churned customers come back later.
That is the process BTYD models assume, so RFM, lifecycle, CLV and churn analyses have
something real to find. A customer's salesperson never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salescope.demo import calendar, names, places

# Channel mix of customers (直销, 经销商, 电商, 门店) and how likely each is a company.
_CHANNEL_P = np.array([0.15, 0.07, 0.50, 0.28])
_COMPANY_P = np.array([0.97, 1.0, 0.10, 0.20])
# Relative purchase rate and mean active lifetime (years) per channel.
_RATE = np.array([1.0, 1.3, 0.45, 0.45])
# Order size multiplier for companies per channel: small firms buy online and in shops.
_SIZE = np.array([0.6, 0.9, 0.3, 0.3])
_LIFETIME_YEARS = np.array([5.0, 6.0, 1.5, 2.0])
# Category mix per channel (order as catalog.CATEGORIES): companies buy office, IT and industrial
# supplies; consumers buy appliances, food and household goods.
CATEGORY_MIX = np.array(
    [
        [0.25, 0.20, 0.05, 0.08, 0.10, 0.15, 0.12, 0.05],
        [0.15, 0.15, 0.15, 0.10, 0.10, 0.12, 0.13, 0.10],
        [0.08, 0.18, 0.22, 0.15, 0.15, 0.02, 0.02, 0.18],
        [0.10, 0.08, 0.10, 0.25, 0.25, 0.03, 0.02, 0.17],
    ]
)
PARETO_ALPHA = 1.7
PARETO_MAX = 100.0
EXISTING_SHARE = 0.45
VARIANT_SHARE = 0.25
ALT_CODE_SHARE = 0.015
REACTIVATION_SHARE = 0.15


@dataclass(frozen=True)
class Spells:
    """Active spells, one row each; ``start``/``stop`` are day offsets from the period start."""

    customer: np.ndarray
    start: np.ndarray
    stop: np.ndarray
    rate: np.ndarray


@dataclass(frozen=True)
class Population:
    company: np.ndarray
    channel: np.ndarray
    city: np.ndarray
    province: np.ndarray
    region: np.ndarray
    salesperson: np.ndarray
    value: np.ndarray
    size: np.ndarray
    discount: np.ndarray
    fav_category: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    """Day offset after which the customer never buys again (beyond the period when still active)."""
    spells: Spells
    code: list[str]
    alt_code: list[str]
    """A second customer code for the same company ("" when none): the duplicate an ERP accumulates."""
    slot_names: list[list[str]]
    """Four spellings per customer: registered name, bracketed variant, short variant, name under the alt code."""
    has_variants: np.ndarray
    has_alt: np.ndarray
    phone: list[str]
    email: list[str]
    address: list[str]
    industry: list[str]
    tax_id: list[str]
    salespeople: list[str]

    @property
    def n(self) -> int:
        return len(self.code)


def _bounded_pareto(rng: np.random.Generator, n: int, alpha: float, high: float) -> np.ndarray:
    u = rng.random(n)
    return (1 - u * (1 - high**-alpha)) ** (-1 / alpha)


def _assign_salespeople(rng: np.random.Generator, region: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Salespeople per region in proportion to the region's business (at least one each)."""
    weight = np.zeros(len(places.REGIONS))
    for p in places.PROVINCES:
        weight[places.REGIONS.index(p.region)] += p.weight
    seats = np.ones(len(places.REGIONS), dtype=int)
    extra = count - seats.sum()
    if extra > 0:
        share = weight / weight.sum() * extra
        seats += np.floor(share).astype(int)
        rest = count - seats.sum()
        seats[np.argsort(-(share - np.floor(share)), kind="stable")[:rest]] += 1
    owner_region = np.repeat(np.arange(len(places.REGIONS)), seats)
    first_seat = np.concatenate([[0], np.cumsum(seats)[:-1]])
    salesperson = first_seat[region] + (rng.random(len(region)) * seats[region]).astype(np.int64)
    return salesperson.astype(np.int16), owner_region


def build_population(
    rng: np.random.Generator, n: int, days: int, n_salespeople: int, intensity: np.ndarray
) -> Population:
    geo = places.geography()
    channel = rng.choice(len(calendar.CHANNELS), size=n, p=_CHANNEL_P).astype(np.int8)
    company = rng.random(n) < _COMPANY_P[channel]
    city = rng.choice(len(geo.cities), size=n, p=geo.city_weight)
    province = geo.province_of_city[city]
    region = np.asarray([places.REGIONS.index(p.region) for p in places.PROVINCES], dtype=np.int8)[province]
    salesperson, _ = _assign_salespeople(rng, region, n_salespeople)
    value = _bounded_pareto(rng, n, PARETO_ALPHA, PARETO_MAX)

    # Births: some customers predate the data; new ones arrive along their channel's traffic curve.
    birth = np.empty(n, dtype=np.int64)
    existing = rng.random(n) < EXISTING_SHARE
    lifetime_mean = _LIFETIME_YEARS[channel] * 365 * (0.75 + 0.25 * np.log(value))
    # Existing customers joined up to two mean lifetimes ago; some lapsed before the period began.
    birth[existing] = -np.ceil(rng.random(int(existing.sum())) * 2 * lifetime_mean[existing]).astype(np.int64)
    for ch in range(len(calendar.CHANNELS)):
        idx = np.flatnonzero(~existing & (channel == ch))
        cdf = np.cumsum(intensity[ch])
        birth[idx] = np.searchsorted(cdf, rng.random(len(idx)) * cdf[-1], side="right")
    death = birth + np.maximum(rng.exponential(lifetime_mean), 30).astype(np.int64)
    rate = _RATE[channel] * value**0.65 * rng.gamma(3.0, 1 / 3, n)

    # A share of customers who lapsed inside the period come back for a second spell.
    back = (death < days - 60) & (rng.random(n) < REACTIVATION_SHARE)
    back_idx = np.flatnonzero(back)
    back_start = death[back_idx] + rng.integers(60, 361, len(back_idx))
    back_stop = back_start + np.maximum(rng.exponential(lifetime_mean[back_idx] / 2), 30).astype(np.int64)
    spells = Spells(
        customer=np.concatenate([np.arange(n), back_idx]).astype(np.int32),
        start=np.clip(np.concatenate([birth, back_start]), 0, days),
        stop=np.clip(np.concatenate([death, back_stop]), 0, days),
        rate=np.concatenate([rate, rate[back_idx] * rng.uniform(0.4, 1.0, len(back_idx))]),
    )
    death[back_idx] = back_stop

    size = _SIZE[channel] * value**0.35 * rng.lognormal(0.0, 0.25, n)
    discount = np.clip(0.015 * np.log(value) + rng.normal(0, 0.01, n), 0, 0.1) * company
    discount += np.where(channel == calendar.DEALER, 0.05, 0.0)

    ids = _identities(rng, geo, company, city, province, birth)
    mix_fav = draw_categories(rng, CATEGORY_MIX[channel])
    industry_fav = np.asarray([names.INDUSTRIES[i].category for i in ids.industry_idx])
    fav_category = np.where(company & (rng.random(n) < 0.7), industry_fav, mix_fav).astype(np.int16)

    return Population(
        company=company,
        channel=channel,
        city=city.astype(np.int32),
        province=province,
        region=region,
        salesperson=salesperson,
        value=value,
        size=size,
        discount=discount,
        fav_category=fav_category,
        birth=birth,
        death=death,
        spells=spells,
        code=ids.code,
        alt_code=ids.alt_code,
        slot_names=ids.slot_names,
        has_variants=ids.has_variants,
        has_alt=ids.has_alt,
        phone=ids.phone,
        email=ids.email,
        address=ids.address,
        industry=ids.industry,
        tax_id=ids.tax_id,
        salespeople=names.unique_person_names(rng, n_salespeople),
    )


def draw_categories(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row from row-specific probabilities (inverse CDF, vectorised)."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cdf[:, -1:]
    return np.minimum((u > cdf).sum(axis=1), probs.shape[1] - 1)


@dataclass(frozen=True)
class _Identities:
    code: list[str]
    alt_code: list[str]
    slot_names: list[list[str]]
    has_variants: np.ndarray
    has_alt: np.ndarray
    phone: list[str]
    email: list[str]
    address: list[str]
    industry: list[str]
    tax_id: list[str]
    industry_idx: np.ndarray


def _identities(
    rng: np.random.Generator,
    geo: places.Geography,
    company: np.ndarray,
    city: np.ndarray,
    province: np.ndarray,
    birth: np.ndarray,
) -> _Identities:
    n = len(company)
    # Codes follow registration order, as in any ERP: the oldest customers have the lowest codes.
    order = np.argsort(birth, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    code = [f"KH{100001 + r}" for r in rank]

    comp_idx = np.flatnonzero(company)
    city_objs = [geo.cities[c] for c in city]
    prov_objs = [places.PROVINCES[p] for p in province]
    use_province = rng.random(n) < 0.3
    place_prefix = [
        prov_objs[i].short if use_province[i] else city_objs[i].short for i in comp_idx
    ]  # 广东华贸… or 深圳华贸…
    cn = names.company_names(rng, place_prefix)
    persons = names.person_names(rng, n)

    has_variants = np.zeros(n, dtype=bool)
    has_alt = np.zeros(n, dtype=bool)
    has_variants[comp_idx] = rng.random(len(comp_idx)) < VARIANT_SHARE
    has_alt[comp_idx] = rng.random(len(comp_idx)) < ALT_CODE_SHARE
    slot_names = [[p, p, p, p] for p in persons]
    industry = [""] * n
    industry_idx = np.full(n, len(names.INDUSTRIES) - 1)
    for j, i in enumerate(comp_idx):
        canon = cn.canonical[j]
        slot_names[i] = [
            canon,
            cn.bracketed[j] if has_variants[i] else canon,
            cn.short[j] if has_variants[i] else canon,
            cn.half_width[j] if has_alt[i] else canon,
        ]
        industry[i] = names.INDUSTRIES[cn.industry[j]].label
        industry_idx[i] = cn.industry[j]
    alt_rank = np.cumsum(has_alt) - 1
    alt_code = [f"KH{100001 + n + alt_rank[i]}" if has_alt[i] else "" for i in range(n)]

    mobile = names.mobiles(rng, n)
    style = rng.choice(4, size=n, p=[0.7, 0.12, 0.08, 0.1])
    fixed = company & (rng.random(n) < 0.45)
    locals_ = names.landline_locals(rng, np.asarray([c.local_digits for c in city_objs]))
    phone = [
        f"{city_objs[i].area_code}-{locals_[i]}" if fixed[i] else names.format_mobile(int(mobile[i]), int(style[i]))
        for i in range(n)
    ]

    email = [""] * n
    wants_mail = rng.random(n) < np.where(company, 0.6, 0.3)
    prefixes = ("sales", "info", "caigou", "service", "admin", "purchase")
    pre = rng.integers(0, len(prefixes), n)
    qq = rng.integers(10_000_000, 3_000_000_000, n)
    for j, i in enumerate(comp_idx):
        if wants_mail[i]:
            email[i] = f"{prefixes[pre[i]]}@{cn.domain[j]}"
    for i in np.flatnonzero(~company & wants_mail):
        email[i] = f"{qq[i]}@qq.com" if qq[i] % 3 else f"{mobile[i]}@163.com"

    district = geo.district_start[city] + (rng.random(n) * geo.district_count[city]).astype(np.int64)
    street = rng.integers(0, len(places.STREETS), n)
    number = rng.integers(1, 999, n)
    floor = rng.integers(2, 33, n)
    unit = rng.integers(1, 30, n)
    room = rng.integers(101, 2505, n)
    address = []
    for k in range(n):
        prov, cty = prov_objs[k], city_objs[k]
        head = prov.name + ("" if prov.municipality else cty.name) + geo.districts[district[k]]
        tail = f"{floor[k]}层" if company[k] else f"{unit[k]}栋{room[k]}室"
        address.append(f"{head}{places.STREETS[street[k]]}{number[k]}号{tail}")

    division = [prov_objs[i].code + ("0101" if prov_objs[i].municipality else "0100") for i in comp_idx]
    tax_id = [""] * n
    for i, t in zip(comp_idx, names.uscc_codes(rng, division), strict=True):
        tax_id[i] = t

    return _Identities(
        code=code,
        alt_code=alt_code,
        slot_names=slot_names,
        has_variants=has_variants,
        has_alt=has_alt,
        phone=phone,
        email=email,
        address=address,
        industry=industry,
        tax_id=tax_id,
        industry_idx=industry_idx,
    )
