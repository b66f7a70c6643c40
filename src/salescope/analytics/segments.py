"""The eight RFM segments, pinned once.

The table is the contract with users and with every page that labels a segment:
R, F and M each "high" or "low" gives eight cells. Much code that circulates online
swaps 重要发展 and 重要挽留 (and the 一般 pair); here high recency with low frequency and
high money (101) is *development* — a recent big spender to grow — and low recency with
low frequency and high money (001) is *win-back* — a big spender drifting away. The
table is kept as data so the labels cannot diverge between analytics, pages and exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir


@dataclass(frozen=True)
class Segment:
    code: str
    key: str
    zh: str
    en: str

    def label(self, locale: str) -> str:
        return self.zh if locale.lower().startswith("zh") else self.en


SEGMENTS: dict[str, Segment] = {
    s.code: s
    for s in (
        Segment("111", "important_value", "重要价值客户", "Important value"),
        Segment("101", "important_development", "重要发展客户", "Important development"),
        Segment("011", "important_retention", "重要保持客户", "Important retention"),
        Segment("001", "important_win_back", "重要挽留客户", "Important win-back"),
        Segment("110", "general_value", "一般价值客户", "General value"),
        Segment("100", "general_development", "一般发展客户", "General development"),
        Segment("010", "general_retention", "一般保持客户", "General retention"),
        Segment("000", "general_win_back", "一般挽留客户", "General win-back"),
    )
}
SEGMENTS_BY_KEY: dict[str, Segment] = {s.key: s for s in SEGMENTS.values()}
SEGMENT_KEYS: tuple[str, ...] = tuple(s.key for s in SEGMENTS.values())


def segment_for(r_high: bool, f_high: bool, m_high: bool) -> Segment:
    return SEGMENTS[f"{int(r_high)}{int(f_high)}{int(m_high)}"]


def segment_label(key: str, locale: str = "zh-CN") -> str:
    """The display name of a segment key; unknown keys (e.g. "new" in a migration) are shown as given."""
    seg = SEGMENTS_BY_KEY.get(key)
    return seg.label(locale) if seg else key


def high_low_code(r_high: ir.BooleanValue, f_high: ir.BooleanValue, m_high: ir.BooleanValue) -> ir.StringValue:
    """The "R F M" digit string as an expression, e.g. ``"101"``."""
    return ibis.ifelse(r_high, "1", "0").concat(ibis.ifelse(f_high, "1", "0")).concat(ibis.ifelse(m_high, "1", "0"))


def segment_columns(code: ir.StringValue) -> dict[str, ir.StringValue]:
    """Segment key and both labels for an ``rfm_code`` expression (a CASE, so it runs on any backend)."""
    return {
        "segment": code.substitute({c: s.key for c, s in SEGMENTS.items()}),
        "segment_zh": code.substitute({c: s.zh for c, s in SEGMENTS.items()}),
        "segment_en": code.substitute({c: s.en for c, s in SEGMENTS.items()}),
    }
