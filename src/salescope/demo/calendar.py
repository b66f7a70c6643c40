"""The shape of a Chinese trading year: Spring Festival, Golden Weeks, 618 and Double 11.

Each sales channel gets its own daily intensity curve because the calendar hits them
differently: B2B buyers (直销, 经销商) stop for the Spring Festival and National Day and work
Monday–Friday; e-commerce peaks on the platform festivals; shops do their best trade at
weekends and in the 年货 weeks before the New Year.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from salescope.errors import InputError

# 春节 (first day of the lunar year), from the official holiday notices of the State Council
# General Office and the Hong Kong Observatory's Gregorian–lunar conversion tables.
SPRING_FESTIVAL: dict[int, dt.date] = {
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}

CHANNELS: tuple[str, ...] = ("直销", "经销商", "电商", "门店")
B2B, DEALER, ECOMMERCE, STORE = range(4)

# Monday … Sunday multipliers per channel.
_WEEKDAY = np.array(
    [
        [1.05, 1.10, 1.10, 1.05, 1.00, 0.30, 0.15],
        [1.05, 1.10, 1.10, 1.05, 1.00, 0.35, 0.15],
        [1.00, 1.00, 0.98, 0.97, 1.00, 1.08, 1.10],
        [0.85, 0.85, 0.90, 0.90, 1.05, 1.35, 1.30],
    ]
)
ANNUAL_GROWTH = 0.14


def default_end(today: dt.date | None = None) -> dt.date:
    """The last day of the month before ``today``, so a fresh demo ends on a complete month."""
    today = today or dt.date.today()
    return today.replace(day=1) - dt.timedelta(days=1)


def period(end: dt.date, years: int = 3) -> tuple[dt.date, dt.date]:
    """``years`` whole years ending on ``end`` (inclusive), checked against the Spring Festival table."""
    after = end + dt.timedelta(days=1)
    try:
        start = after.replace(year=after.year - years)
    except ValueError:  # 29 February
        start = after.replace(year=after.year - years, day=28) + dt.timedelta(days=1)
    first, last = min(SPRING_FESTIVAL), max(SPRING_FESTIVAL)
    if end < dt.date(first + years, 1, 1) or end.year > last:
        raise InputError(
            f"the demo cannot be generated to end on {end.isoformat()}",
            expected=f"an end date between {first + years}-01-01 and {last}-12-31 (the Spring Festival table's range)",
        )
    return start, end


def _day_arrays(start: dt.date, days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    dates = np.datetime64(start, "D") + np.arange(days)
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mdays = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return years, months, mdays, weekday


def _window(months: np.ndarray, mdays: np.ndarray, month: int, first: int, last: int) -> np.ndarray:
    return (months == month) & (mdays >= first) & (mdays <= last)


def channel_intensity(start: dt.date, days: int) -> np.ndarray:
    """Relative order intensity per channel (rows) and day (columns) from ``start``.

    Only ratios matter: the generator spreads a fixed number of orders along these curves.
    """
    _, months, mdays, weekday = _day_arrays(start, days)
    t = np.arange(days) / 365.25
    w = _WEEKDAY[:, weekday] * np.exp(ANNUAL_GROWTH * t)[None, :]

    # Spring Festival: offset of each day from that year's (or next year's) festival.
    epoch = np.datetime64(start, "D")
    sf_days = np.array([(np.datetime64(d, "D") - epoch).astype(np.int64) for d in SPRING_FESTIVAL.values()])
    offset = np.arange(days)[:, None] - sf_days[None, :]
    nearest = offset[np.arange(days), np.abs(offset).argmin(axis=1)]
    before = (nearest >= -10) & (nearest <= -3)
    holiday = (nearest >= -2) & (nearest <= 6)
    after = (nearest >= 7) & (nearest <= 15)
    for ch, (b, h, a) in enumerate([(0.75, 0.08, 0.6), (0.8, 0.08, 0.65), (1.1, 0.35, 0.85), (1.3, 0.4, 0.9)]):
        w[ch, before] *= b
        w[ch, holiday] *= h
        w[ch, after] *= a
    # 年货: shops and e-commerce sell gift boxes right up to the eve.
    w[STORE, (nearest >= -2) & (nearest <= -1)] *= 2.5

    national_day = _window(months, mdays, 10, 1, 7)
    labour_day = _window(months, mdays, 5, 1, 5)
    for ch, factor in enumerate([0.15, 0.2, 0.9, 1.25]):
        w[ch, national_day] *= factor
        w[ch, labour_day] *= min(1.0, factor * 2) if ch < ECOMMERCE else factor

    # Platform festivals: strongest online, echoed by companies buying on 企业购 promotions.
    festivals = [
        (_window(months, mdays, 6, 1, 15), 1.3, 1.1),
        (_window(months, mdays, 6, 16, 17), 1.8, 1.25),
        (_window(months, mdays, 6, 18, 18), 3.5, 1.5),
        (_window(months, mdays, 10, 20, 31), 1.2, 1.05),
        (_window(months, mdays, 11, 1, 10), 1.6, 1.5),
        (_window(months, mdays, 11, 11, 11), 6.0, 2.5),
        (_window(months, mdays, 11, 12, 13), 1.3, 1.2),
        (_window(months, mdays, 12, 12, 12), 1.8, 1.0),
    ]
    for mask, online, business in festivals:
        w[ECOMMERCE, mask] *= online
        w[STORE, mask] *= 1 + (online - 1) * 0.3
        w[B2B, mask] *= business
        w[DEALER, mask] *= business
    # Year-end budget spending for companies, the quiet month after the festival.
    december = months == 12
    w[B2B, december] *= 1.15
    w[DEALER, december] *= 1.1
    return w


def promo_days(start: dt.date, days: int) -> np.ndarray:
    """Days when online prices carry the festival discount (618 and Double 11 weeks)."""
    _, months, mdays, _ = _day_arrays(start, days)
    return _window(months, mdays, 6, 16, 18) | _window(months, mdays, 11, 1, 11)


def month_starts(start: dt.date, end: dt.date) -> list[tuple[int, int]]:
    """``(first_day, stop_day)`` offsets from ``start`` for each calendar month the period touches."""
    out: list[tuple[int, int]] = []
    cursor = start
    while cursor <= end:
        nxt = (cursor.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        stop = min(nxt, end + dt.timedelta(days=1))
        out.append(((cursor - start).days, (stop - start).days))
        cursor = nxt
    return out
