"""Identity service: merge candidates, merge, split and the workspace-wide pass, on a real warehouse."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from salescope.errors import InputError, NotFoundError
from salescope.resolve.identity import assign_ids
from salescope.services.identity import merge, merge_candidates, resolve_workspace, split
from salescope.services.workspace import Workspace

VALID_TAX_A = "91110108MA01C2LT9G"


def _valid_uscc(body: str) -> str:
    from salescope.resolve.normalize import uscc_check_char

    return body + uscc_check_char(body)


CUSTOMERS = pd.DataFrame(
    {
        "code": ["K1", "K2", "K3", "K4", "K5", "K6"],
        "name": [
            "北京华贸科技有限公司",
            "華貿科技（北京）有限公司",
            "北京华茂科技有限公司",
            "王建国",
            "王健国",
            "Acme Trading",
        ],
        "phone": ["010-62345678", "010-62345678", "010-69998888", "13812345678", "138 1234 5678", None],
        "tax_id": [None, None, None, None, None, VALID_TAX_A],
        "city": ["北京", "北京", "北京", "上海", "上海市", "上海"],
    }
)


def _load(ws: Workspace) -> dict[str, str]:
    """Import the customers through assign_ids (each code its own identity) and give each some sales lines."""
    a = assign_ids(CUSTOMERS, pd.DataFrame())
    wh = ws.warehouse
    ent = a.new_entities.assign(customer_id=a.new_entities["id"]).drop(columns=["id"])
    wh.insert_arrow("customers", pa.Table.from_pandas(ent, preserve_index=False))
    wh.insert_arrow("customer_sources", pa.Table.from_pandas(a.new_sources, preserve_index=False))
    ids = dict(zip(CUSTOMERS["code"], a.ids, strict=True))
    lines = []
    for n, cid in enumerate(a.ids):
        for k in range(n + 1):
            lines.append(
                {
                    "order_id": f"O{n}",
                    "line_no": k + 1,
                    "order_date": date(2024, 1, 1 + k),
                    "customer_id": cid,
                    "product_id": "P1",
                    "amount": 10.0 * (k + 1),
                    "batch_id": "B1",
                    "source_row": len(lines) + 1,
                }
            )
    wh.insert_arrow("sales", pa.Table.from_pylist(lines))
    return ids


def _snapshot(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    wh = ws.warehouse
    return {
        "customers": wh.rows("SELECT * FROM customers ORDER BY customer_id"),
        "sources": wh.rows("SELECT * FROM customer_sources ORDER BY source_key"),
        "sales": wh.rows("SELECT order_id, line_no, customer_id FROM sales ORDER BY order_id, line_no"),
    }


def test_merge_moves_everything_and_split_restores_exactly(workspace: Workspace) -> None:
    ids = _load(workspace)
    before = _snapshot(workspace)
    keep, gone = ids["K4"], ids["K5"]
    result = merge(workspace, keep, gone, user="ana")
    # K5 was the 5th customer: it had 5 sales lines (see _load), and one source key per key kind it brought.
    assert result["moved"]["sales"] == 5
    wh = workspace.warehouse
    assert wh.scalar("SELECT count(*) FROM sales WHERE customer_id = ?", [gone]) == 0
    assert wh.scalar("SELECT count(*) FROM customers WHERE customer_id = ?", [gone]) == 0
    assert (
        wh.scalar("SELECT count(*) FROM customer_sources WHERE customer_id = ? AND source_key = ?", [keep, "code:K5"])
        == 1
    )
    assert wh.scalar("SELECT merged_by FROM merge_log WHERE log_id = ?", [result["log_id"]]) == "ana"

    undone = split(workspace, result["log_id"], user="ana")
    assert undone["restored_id"] == gone
    after = _snapshot(workspace)
    assert after == before
    assert wh.scalar("SELECT status FROM merge_log WHERE log_id = ?", [result["log_id"]]) == "undone"


def test_split_by_a_moved_source_key_undoes_that_merge(workspace: Workspace) -> None:
    ids = _load(workspace)
    before = _snapshot(workspace)
    merge(workspace, ids["K4"], ids["K5"])
    split(workspace, "code:K5")
    assert _snapshot(workspace) == before


def test_retired_id_is_not_reissued_by_the_next_import(workspace: Workspace) -> None:
    ids = _load(workspace)
    last = max(ids.values())
    merge(workspace, ids["K1"], last)
    sources = workspace.warehouse.df("SELECT * FROM customer_sources")
    fresh = assign_ids(pd.DataFrame({"code": ["NEW"]}), sources)
    assert fresh.ids.iloc[0] > last


def test_conflicting_strong_keys_refuse_a_manual_merge(workspace: Workspace) -> None:
    ids = _load(workspace)
    # 华贸 vs 华茂: company names one character apart with different phones.
    with pytest.raises(InputError, match="cannot be merged"):
        merge(workspace, ids["K1"], ids["K3"])
    with pytest.raises(NotFoundError):
        merge(workspace, ids["K1"], "C999999")
    with pytest.raises(InputError):
        merge(workspace, ids["K1"], ids["K1"])


def test_chained_merges_undo_in_reverse_order_only(workspace: Workspace) -> None:
    ids = _load(workspace)
    first = merge(workspace, ids["K2"], ids["K1"])
    merge(workspace, ids["K6"], ids["K2"])
    with pytest.raises(InputError, match="undo merge"):
        split(workspace, first["log_id"])


def test_candidates_find_respellings_and_never_a_conflicting_pair(workspace: Workspace) -> None:
    ids = _load(workspace)
    found = {frozenset((c["keep_id"], c["merge_id"])): c for c in merge_candidates(workspace)}
    # The same company written with a bracketed region and in traditional script, and the same phone.
    assert frozenset((ids["K1"], ids["K2"])) in found
    # 王建国 / 王健国: one character apart, same mobile in two formats, same city.
    assert frozenset((ids["K4"], ids["K5"])) in found
    assert found[frozenset((ids["K4"], ids["K5"]))]["score"] >= 0.9
    assert frozenset((ids["K1"], ids["K3"])) not in found
    assert frozenset((ids["K2"], ids["K3"])) not in found
    pair = found[frozenset((ids["K4"], ids["K5"]))]
    # K5 has more sales lines than K4 (5 vs 4), so it is proposed as the one to keep.
    assert pair["keep_id"] == ids["K5"]


def test_resolve_workspace_proposes_then_applies(workspace: Workspace) -> None:
    ids = _load(workspace)
    proposed = resolve_workspace(workspace)
    assert proposed["applied"] == 0 and proposed["proposed"] >= 2
    assert workspace.warehouse.scalar("SELECT count(*) FROM customers") == len(ids)
    applied = resolve_workspace(workspace, apply=True, user="bot")
    assert applied["applied"] == proposed["proposed"]
    assert applied["identities"] == len(ids) - applied["applied"]
    assert merge_candidates(workspace, min_score=0.9) == []
    # Undoing one merge keeps it from being proposed again.
    split(workspace, applied["merges"][0]["log_id"])
    again = {frozenset((c["keep_id"], c["merge_id"])) for c in merge_candidates(workspace)}
    first = applied["merges"][0]
    assert frozenset((first["keep_id"], first["merged_id"])) not in again


def test_suppliers_merge_and_split_with_their_purchase_lines(workspace: Workspace) -> None:
    wh = workspace.warehouse
    suppliers = pd.DataFrame(
        {
            "supplier_id": ["S000001", "S000002", "S000003"],
            "name": ["深圳鼎盛电子有限公司", "鼎盛电子（深圳）有限公司", "Wonka Foods GmbH"],
            "phone": ["0755-26001234", "0755 2600 1234", None],
            "province": ["广东", "广东", None],
        }
    )
    wh.insert_arrow("suppliers", pa.Table.from_pandas(suppliers, preserve_index=False))
    sources = pd.DataFrame(
        {
            "source_key": ["code:V1", "code:V2", "code:V3"],
            "supplier_id": ["S000001", "S000002", "S000003"],
            "evidence": ["new"] * 3,
            "score": [1.0] * 3,
        }
    )
    wh.insert_arrow("supplier_sources", pa.Table.from_pandas(sources, preserve_index=False))
    purchases = [
        {
            "po_id": f"PO{i}",
            "line_no": 1,
            "order_date": date(2024, 2, 1),
            "supplier_id": sid,
            "product_id": "P1",
            "amount": 100.0,
            "batch_id": "B1",
            "source_row": i + 1,
        }
        for i, sid in enumerate(["S000001", "S000002", "S000002", "S000003"])
    ]
    wh.insert_arrow("purchases", pa.Table.from_pylist(purchases))
    before = wh.rows("SELECT po_id, supplier_id FROM purchases ORDER BY po_id")

    proposals = merge_candidates(workspace, kind="supplier")
    assert [(p["keep_id"], p["merge_id"]) for p in proposals] == [("S000002", "S000001")]  # S2 has 2 lines
    done = merge(workspace, "S000002", "S000001", kind="supplier")
    assert done["moved"] == {"purchases": 1, "supplier_sources": 1}
    assert wh.scalar("SELECT count(*) FROM purchases WHERE supplier_id = 'S000002'") == 3
    split(workspace, "code:V1", kind="supplier")
    assert wh.rows("SELECT po_id, supplier_id FROM purchases ORDER BY po_id") == before
    assert wh.scalar("SELECT supplier_id FROM supplier_sources WHERE source_key = 'code:V1'") == "S000001"
