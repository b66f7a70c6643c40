"""CRM opportunities, satisfaction surveys and sales targets that agree with the demo's sales.

Opportunities move through the stages Chinese B2B CRMs use (线索 → 需求确认 → 方案报价 → 谈判 →
赢单/输单) with stage-specific drop-out and lost reasons; a third of them are new business that
turns into the customer's first orders. Survey scores depend on whether the customer is about to
churn, so satisfaction predicts churn the way it should. Targets are set from last year's sales
plus growth, as sales managers set them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salescope.demo.catalog import Catalog
from salescope.demo.population import Population, draw_categories

STAGES: tuple[str, ...] = ("线索", "需求确认", "方案报价", "谈判")
WON, LOST = "赢单", "输单"
STATUS = {"open": "进行中", "won": "赢单", "lost": "输单"}
"""How the CRM export spells the canonical status values."""
PASS_RATE = np.array([0.6, 0.7, 0.65, 0.6])
LOST_REASONS: tuple[str, ...] = ("价格过高", "选择竞品", "预算不足", "时机未到", "需求变化", "联系中断")
# Lost-reason mix by the stage where the deal died: early deals go quiet, late ones lose on price.
_LOST_MIX = np.array(
    [
        [0.05, 0.10, 0.20, 0.25, 0.10, 0.30],
        [0.15, 0.15, 0.25, 0.20, 0.15, 0.10],
        [0.35, 0.25, 0.15, 0.10, 0.10, 0.05],
        [0.45, 0.30, 0.10, 0.05, 0.05, 0.05],
    ]
)
SOURCES: tuple[str, ...] = ("展会", "官网咨询", "老客户推荐", "电话营销", "招投标", "渠道伙伴")
_SOURCE_NEW = np.array([0.30, 0.25, 0.20, 0.10, 0.10, 0.05])
_SOURCE_EXISTING = np.array([0.10, 0.10, 0.35, 0.15, 0.20, 0.10])
NEW_BUSINESS_SHARE = 0.3
STAGE_DAYS = 18
"""Median days a deal spends in a stage."""
CRM_ADOPTION = 1.5
"""Growth of deal logging over the period (the last day logs 1 + this times the first day's rate)."""

SURVEY_KINDS = {"nps": "NPS", "csat": "CSAT"}
"""How the survey export spells the canonical feedback kinds."""
NPS_SAMPLE = 0.08
"""Share of active customers surveyed each quarter."""
CHURN_HORIZON_DAYS = 180
_NPS_HEALTHY = np.array([0.01, 0.01, 0.01, 0.02, 0.02, 0.03, 0.05, 0.10, 0.20, 0.25, 0.30])
_NPS_LEAVING = np.array([0.06, 0.05, 0.07, 0.08, 0.10, 0.12, 0.14, 0.14, 0.10, 0.08, 0.06])
_CSAT_HEALTHY = np.array([0.02, 0.04, 0.14, 0.40, 0.40])
_CSAT_LEAVING = np.array([0.12, 0.20, 0.30, 0.25, 0.13])
COMMENTS: dict[str, tuple[str, ...]] = {
    "negative": ("交货太慢", "价格偏高，考虑换供应商", "售后响应慢", "产品质量不稳定", "开票太慢", "业务员联系不上"),
    "neutral": ("整体还可以", "希望价格再优惠一些", "物流一般", "产品种类可以更丰富", "还行"),
    "positive": ("服务很好，会继续合作", "发货及时", "质量稳定", "业务员很专业", "性价比高", "推荐给了同行"),
}


@dataclass(frozen=True)
class Opportunities:
    customer: np.ndarray
    product: np.ndarray
    created: np.ndarray
    stage: list[str]
    stage_entered: np.ndarray
    amount_cents: np.ndarray
    expected_close: np.ndarray
    close_day: np.ndarray
    """-1 while open."""
    status: list[str]
    lost_reason: list[str]
    source: list[str]


@dataclass(frozen=True)
class Feedback:
    customer: np.ndarray
    day: np.ndarray
    kind: list[str]
    score: np.ndarray
    comment: list[str]


def _products_for(rng: np.random.Generator, catalog: Catalog, category: np.ndarray) -> np.ndarray:
    out = np.zeros(len(category), dtype=np.int64)
    for c in np.unique(category):
        members = np.flatnonzero(catalog.category == c)
        rows = np.flatnonzero(category == c)
        p = catalog.popularity[members]
        out[rows] = rng.choice(members, size=len(rows), p=p / p.sum())
    return out


def opportunities(
    rng: np.random.Generator, pop: Population, catalog: Catalog, n: int, days: int, b2b: np.ndarray
) -> Opportunities:
    # New business: companies born inside the period were prospects first.
    newcomers = np.flatnonzero(pop.company & (pop.birth >= 30) & (pop.birth < days))
    n_new = min(round(n * NEW_BUSINESS_SHARE), len(newcomers))
    new = np.sort(rng.choice(newcomers, size=n_new, replace=False)) if n_new else np.zeros(0, dtype=np.int64)
    weight = pop.value**0.5 * np.where(pop.company, 1.0, 0.1) * (pop.birth < days)
    existing = rng.choice(pop.n, size=n - n_new, p=weight / weight.sum())
    customer = np.concatenate([new, existing])
    is_new = np.arange(n) < n_new

    # The CRM was rolled out at the start of the period and its use keeps growing, so recent
    # months log more deals and the pipeline at the end is a realistic size.
    cdf = np.cumsum(b2b * np.linspace(1.0, 1.0 + CRM_ADOPTION, len(b2b)))
    created_existing = np.searchsorted(cdf, rng.random(n - n_new) * cdf[-1], side="right")
    created_new = np.maximum(pop.birth[new] - rng.integers(20, 121, n_new), 0)
    created = np.concatenate([created_new, created_existing]).astype(np.int64)

    durations = np.maximum(1, np.round(rng.lognormal(np.log(STAGE_DAYS), 0.7, (n, 4)))).astype(np.int64)
    enter = created[:, None] + np.concatenate([np.zeros((n, 1), dtype=np.int64), np.cumsum(durations, axis=1)], axis=1)
    passes = rng.random((n, 4)) < PASS_RATE
    passes[is_new] = True
    fail_at = np.where(passes.all(axis=1), 4, np.argmin(passes, axis=1))
    decided = enter[np.arange(n), np.minimum(fail_at + 1, 4)]
    # New business closes when the customer's first order became possible.
    decided = np.where(is_new, np.maximum(pop.birth[customer], created + 1), decided)
    closed = decided < days
    won = closed & (fail_at == 4)
    lost = closed & (fail_at < 4)
    reached = np.clip((enter[:, :4] < days).sum(axis=1) - 1, 0, 3)

    reason_idx = draw_categories(rng, _LOST_MIX[np.minimum(fail_at, 3)])
    stage = [WON if w else LOST if lo else STAGES[r] for w, lo, r in zip(won, lost, reached, strict=True)]
    status = [STATUS["won"] if w else STATUS["lost"] if lo else STATUS["open"] for w, lo in zip(won, lost, strict=True)]
    stage_entered = np.where(closed, decided, enter[np.arange(n), reached])
    source_new = rng.choice(len(SOURCES), size=n, p=_SOURCE_NEW)
    source_old = rng.choice(len(SOURCES), size=n, p=_SOURCE_EXISTING)
    source = [SOURCES[a if nw else b] for a, b, nw in zip(source_new, source_old, is_new, strict=True)]
    amount = np.round(pop.value[customer] ** 0.6 * rng.lognormal(np.log(30_000), 0.7, n), -2)

    order = np.argsort(created, kind="stable")
    return Opportunities(
        customer=customer[order],
        product=_products_for(rng, catalog, pop.fav_category[customer])[order],
        created=created[order],
        stage=[stage[i] for i in order],
        stage_entered=stage_entered[order],
        amount_cents=(amount * 100).astype(np.int64)[order],
        expected_close=(created + rng.integers(45, 121, n))[order],
        close_day=np.where(closed, decided, -1)[order],
        status=[status[i] for i in order],
        lost_reason=[LOST_REASONS[reason_idx[i]] if lost[i] else "" for i in order],
        source=[source[i] for i in order],
    )


def feedback(
    rng: np.random.Generator,
    pop: Population,
    survey_customer: np.ndarray,
    survey_day: np.ndarray,
    months: list[tuple[int, int]],
) -> Feedback:
    days = months[-1][1]
    # Quarterly NPS among customers active at the quarter end; CSAT a few days after sampled orders.
    sp = pop.spells
    nps_customer, nps_day = [], []
    for k in range(2, len(months), 3):
        t = months[k][1] - 1
        active = np.unique(sp.customer[(sp.start <= t) & (sp.stop > t)])
        chosen = active[rng.random(len(active)) < NPS_SAMPLE]
        nps_customer.append(chosen)
        nps_day.append(np.minimum(t + rng.integers(1, 15, len(chosen)), days - 1))
    n_cust = np.concatenate([*nps_customer, np.zeros(0, dtype=np.int64)])
    n_day = np.concatenate([*nps_day, np.zeros(0, dtype=np.int64)])
    c_day = np.minimum(survey_day + rng.integers(1, 8, len(survey_day)), days - 1)

    customer = np.concatenate([n_cust, survey_customer]).astype(np.int64)
    day = np.concatenate([n_day, c_day]).astype(np.int64)
    is_nps = np.arange(len(customer)) < len(n_cust)
    leaving = (pop.death[customer] - day) < CHURN_HORIZON_DAYS
    score = np.empty(len(customer), dtype=np.int64)
    for mask, probs, base in (
        (is_nps & ~leaving, _NPS_HEALTHY, 0),
        (is_nps & leaving, _NPS_LEAVING, 0),
        (~is_nps & ~leaving, _CSAT_HEALTHY, 1),
        (~is_nps & leaving, _CSAT_LEAVING, 1),
    ):
        score[mask] = base + rng.choice(len(probs), size=int(mask.sum()), p=probs)
    mood = np.where(is_nps, np.digitize(score, [7, 9]), np.digitize(score, [3, 4]))
    says = rng.random(len(customer)) < 0.45
    pick = rng.integers(0, 100, len(customer))
    labels = ("negative", "neutral", "positive")
    comment = [
        COMMENTS[labels[m]][p % len(COMMENTS[labels[m]])] if s else "" for m, p, s in zip(mood, pick, says, strict=True)
    ]
    order = np.lexsort((customer, day))
    kind = [SURVEY_KINDS["nps"] if is_nps[i] else SURVEY_KINDS["csat"] for i in order]
    return Feedback(customer[order], day[order], kind, score[order], [comment[i] for i in order])


def targets(rng: np.random.Generator, revenue_cents: np.ndarray, future: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Monthly revenue targets per salesperson (rows) for every month plus ``future`` months ahead.

    The first year's targets are as if set in advance (actuals within −8 %…+15 %); later
    months take the same month last year plus 10–20 % growth. Returns (per salesperson, total),
    in cents, rounded to 1,000 元 and 10,000 元 as managers round them.
    """
    n_sp, n_months = revenue_cents.shape
    total_months = n_months + future
    base = np.zeros((n_sp, total_months))
    for k in range(total_months):
        if k >= 12:
            base[:, k] = revenue_cents[:, k - 12] * rng.uniform(1.10, 1.20, n_sp)
        elif k < n_months:
            base[:, k] = revenue_cents[:, k] * rng.uniform(0.92, 1.15, n_sp)
        else:
            base[:, k] = revenue_cents[:, -1] * rng.uniform(1.0, 1.1, n_sp)
    per_sp = np.round(base / 100_000).astype(np.int64) * 100_000
    total = np.ceil(per_sp.sum(axis=0) * 1.03 / 1_000_000).astype(np.int64) * 1_000_000
    return per_sp, total
