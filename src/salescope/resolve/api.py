"""The notebook entry point ``ss.resolve_customers(df)``."""

from __future__ import annotations

import pandas as pd

from salescope.resolve.linkage import DEFAULT_THRESHOLD
from salescope.resolve.matching import resolve_records


def resolve_customers(df: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pd.Series:
    """Cluster id per row of ``df`` (company or person records), aligned with ``df.index``.

    Uses whichever of name, phone, email, address, city, province, postcode, birth_date,
    id_number, tax_id (and kind: company | person) are present. Rows sharing a cluster id are
    one customer; ids are 0..k-1 in order of each cluster's first row. ``threshold`` is the
    match probability at which two records are linked; records whose valid tax ids or ID
    numbers differ are never linked, whatever the score.
    """
    return resolve_records(df, threshold=threshold).labels.rename("cluster_id")
