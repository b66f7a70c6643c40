"""The eight RFM segments are pinned cell by cell (DESIGN.md §6).

Code copied around the web often swaps 重要发展 (101) and 重要挽留 (001); this table is the
reference every page, export and API response takes its labels from.
"""

from __future__ import annotations

from salescope.analytics.segments import SEGMENTS, segment_for, segment_label

PINNED = {
    # R F M: (key, zh, en)
    "111": ("important_value", "重要价值客户", "Important value"),
    "101": ("important_development", "重要发展客户", "Important development"),
    "011": ("important_retention", "重要保持客户", "Important retention"),
    "001": ("important_win_back", "重要挽留客户", "Important win-back"),
    "110": ("general_value", "一般价值客户", "General value"),
    "100": ("general_development", "一般发展客户", "General development"),
    "010": ("general_retention", "一般保持客户", "General retention"),
    "000": ("general_win_back", "一般挽留客户", "General win-back"),
}


def test_the_eight_cells_are_pinned() -> None:
    assert {code: (s.key, s.zh, s.en) for code, s in SEGMENTS.items()} == PINNED


def test_recent_big_spender_with_few_orders_is_development_not_win_back() -> None:
    # The commonly swapped pair: recent (R high) + large (M high) but infrequent is to be developed;
    # not recent + large + infrequent is the one to win back.
    assert segment_for(r_high=True, f_high=False, m_high=True).zh == "重要发展客户"
    assert segment_for(r_high=False, f_high=False, m_high=True).zh == "重要挽留客户"
    assert segment_for(r_high=True, f_high=False, m_high=False).zh == "一般发展客户"
    assert segment_for(r_high=False, f_high=False, m_high=False).zh == "一般挽留客户"


def test_labels_follow_the_locale() -> None:
    assert segment_label("important_value", "zh-CN") == "重要价值客户"
    assert segment_label("important_value", "en") == "Important value"
    assert segment_label("new", "en") == "new"
