"""Clustering scored pairs into identities, with a veto that no score can overrule.

Two records whose strong keys conflict — different valid tax ids, different valid ID numbers,
or (for companies) different phones on names that are not identical — are never in one
cluster. The veto is applied twice: conflicting pairs are dropped before clustering, and any
cluster that still joins a conflicting pair through third records is split again, greedily
keeping the most probable links that do not join a conflict. So "zero merges across
conflicting strong keys" holds by construction, not by tuning.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

_STRONG: tuple[str, ...] = ("tax_id", "id_number")


def _values(features: pd.DataFrame, col: str) -> np.ndarray:
    if col not in features.columns:
        return np.full(len(features), None, dtype=object)
    return features[col].astype("object").where(features[col].notna(), None).to_numpy()


class ConflictRule:
    """Record-level veto over the feature table (rows indexed by unique_id = position)."""

    def __init__(self, features: pd.DataFrame) -> None:
        self.tax = _values(features, "tax_id")
        self.id_number = _values(features, "id_number")
        self.company = (_values(features, "kind") == "company") if "kind" in features.columns else np.zeros(0, bool)
        self.phone = _values(features, "phone")
        self.name = _values(features, "name_key")
        if len(self.company) != len(features):
            self.company = np.zeros(len(features), dtype=bool)

    def pairs(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """True where the pair (left[i], right[i]) must not be merged."""
        out = np.zeros(len(left), dtype=bool)
        for values in (self.tax, self.id_number):
            a, b = values[left], values[right]
            out |= _differ(a, b)
        same_tax = _both(self.tax[left], self.tax[right]) & (self.tax[left] == self.tax[right])
        companies = self.company[left] & self.company[right]
        phones = _differ(self.phone[left], self.phone[right])
        names = _differ(self.name[left], self.name[right]) | ~_both(self.name[left], self.name[right])
        out |= companies & phones & names & ~same_tax
        return out

    def any_between(self, group_a: Sequence[int], group_b: Sequence[int]) -> bool:
        a = np.repeat(np.asarray(group_a, dtype=np.int64), len(group_b))
        b = np.tile(np.asarray(group_b, dtype=np.int64), len(group_a))
        return bool(self.pairs(a, b).any())


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([x is not None and y is not None for x, y in zip(a, b, strict=True)], dtype=bool)


def _differ(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.array([x is not None and y is not None and x != y for x, y in zip(a, b, strict=True)], dtype=bool)


def cluster(n: int, edges: pd.DataFrame, rule: ConflictRule, threshold: float) -> np.ndarray:
    """Cluster label per record (0..k-1 in order of first record) from edges at or above ``threshold``.

    ``edges`` has unique_id_l, unique_id_r, match_probability. Edges that are vetoed are dropped;
    clusters that still contain a conflicting pair are split.
    """
    kept = edges[edges["match_probability"] >= threshold]
    left = kept["unique_id_l"].to_numpy(dtype=np.int64)
    right = kept["unique_id_r"].to_numpy(dtype=np.int64)
    allowed = ~rule.pairs(left, right) if len(kept) else np.zeros(0, dtype=bool)
    kept = kept[allowed]
    left, right = left[allowed], right[allowed]
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    sizes = np.bincount(labels, minlength=labels.max() + 1 if n else 0)
    big = np.flatnonzero(sizes > 1)
    if len(big):
        members = pd.Series(np.arange(n)).groupby(labels).apply(list)
        edge_label = labels[left] if len(left) else np.zeros(0, dtype=np.int64)
        next_label = int(labels.max()) + 1
        for comp in big:
            nodes = members.loc[comp]
            if not _has_conflict(nodes, rule):
                continue
            in_comp = kept[edge_label == comp]
            for part in _split(nodes, in_comp, rule)[1:]:
                labels[part] = next_label
                next_label += 1
    return _renumber(labels)


def _has_conflict(nodes: list[int], rule: ConflictRule) -> bool:
    idx = np.asarray(nodes, dtype=np.int64)
    for values in (rule.tax, rule.id_number):
        present = {v for v in values[idx] if v is not None}
        if len(present) > 1:
            return True
    companies = [i for i in nodes if rule.company[i] and rule.phone[i] is not None]
    if len(companies) < 2:
        return False
    a, b = np.triu_indices(len(companies), k=1)
    arr = np.asarray(companies, dtype=np.int64)
    return bool(rule.pairs(arr[a], arr[b]).any())


def _split(nodes: list[int], edges: pd.DataFrame, rule: ConflictRule) -> list[list[int]]:
    """Greedy: take links from most to least probable, skipping any that would join a conflict."""
    parent = {i: i for i in nodes}
    groups: dict[int, list[int]] = {i: [i] for i in nodes}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    ordered = edges.sort_values(
        ["match_probability", "unique_id_l", "unique_id_r"], ascending=[False, True, True], kind="stable"
    )
    for a, b in zip(ordered["unique_id_l"].tolist(), ordered["unique_id_r"].tolist(), strict=True):
        ra, rb = find(int(a)), find(int(b))
        if ra == rb or rule.any_between(groups[ra], groups[rb]):
            continue
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        parent[drop] = keep
        groups[keep].extend(groups.pop(drop))
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Labels 0..k-1 in order of each cluster's first record, so results do not depend on graph order."""
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    mapping = np.empty(len(order), dtype=np.int64)
    mapping[order] = np.arange(len(order))
    remap = dict(zip(np.unique(labels).tolist(), mapping.tolist(), strict=True))
    return np.array([remap[x] for x in labels.tolist()], dtype=np.int64)
