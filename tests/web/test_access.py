"""The one row-level rule, run on a real warehouse with bound and unbound tables alike."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest
import web_support as support

from salescope.errors import PermissionDeniedError
from salescope.services.access import (
    ALL_ROWS,
    NO_ROWS,
    Principal,
    RowScope,
    canonical,
    compiled,
    customer_owners,
    reading,
    restrict,
    visible_customers_sql,
)
from salescope.services.workspace import Workspace

pytestmark = [support.IBIS_DEPRECATION]

WANG = Principal("wang", "sales", support.WANG)
LI = Principal("li", "sales", support.LI)


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    support.seed(workspace)
    return workspace


def _ids(ws: Workspace, who: Principal | RowScope, table: str = "sales") -> set[str | None]:
    with reading(ws) as wh:
        bound = restrict(wh.table(table), who, wh.backend)
        via_bound = set(wh.to_arrow(bound.select("customer_id")).column(0).to_pylist())
        via_sql = set(wh.arrow(compiled(restrict(canonical(table), who).select("customer_id"))).column(0).to_pylist())
    assert via_bound == via_sql, "bound and canonical tables must give the same rows"
    return via_sql


def test_owner_is_the_master_salesperson_else_the_latest_sale(ws: Workspace) -> None:
    with reading(ws) as wh:
        rows = wh.arrow(compiled(customer_owners())).to_pylist()
    owners = {r["customer_id"]: r["salesperson"] for r in rows}
    assert owners == {cid: support.owner_of(cid) for cid in support.customer_ids()}
    assert owners["C008"] == support.LI  # not in the master; 李强 sold to them last


def test_sales_user_sees_only_their_customers_rows(ws: Workspace) -> None:
    mine = {cid for cid in support.customer_ids() if support.owner_of(cid) == support.WANG}
    assert _ids(ws, WANG) == mine
    assert _ids(ws, WANG, "customer_scores") == mine
    assert None not in _ids(ws, WANG), "anonymous sales belong to no salesperson"
    assert _ids(ws, LI) == {cid for cid in support.customer_ids() if support.owner_of(cid) == support.LI}


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer"])
def test_other_roles_see_every_row(ws: Workspace, role: str) -> None:
    assert Principal("x", role).row_scope == ALL_ROWS
    assert _ids(ws, Principal("x", role)) == {s[3] for s in support.SALES}
    assert visible_customers_sql(Principal("x", role)) is None


@pytest.mark.parametrize(
    "principal",
    [Principal("x", "sales", None), Principal("x", "sales", ""), Principal("x", "auditor"), Principal("x", "")],
)
def test_unknown_roles_and_sales_without_salesperson_see_nothing(ws: Workspace, principal: Principal) -> None:
    assert principal.row_scope == NO_ROWS
    assert _ids(ws, principal) == set()
    assert principal.can("read") == (principal.role == "sales")  # a sales user may read, but has no rows


def test_master_salesperson_wins_over_the_sales_lines(ws: Workspace) -> None:
    """C001 belongs to 王芳 in the master; a later line sold by 李强 does not move the customer."""
    ws.warehouse.insert_arrow(
        "sales",
        pa.table(
            {
                "order_id": ["SO-2001"],
                "line_no": [1],
                "order_date": pa.array([date(2024, 7, 1)], pa.date32()),
                "customer_id": ["C001"],
                "product_id": ["P01"],
                "amount": pa.array([Decimal("10.00")], pa.decimal128(18, 4)),
                "salesperson": [support.LI],
                "batch_id": ["extra"],
                "source_row": [1],
            }
        ),
    )
    assert "C001" in _ids(ws, WANG)
    assert "C001" not in _ids(ws, LI)


def test_visible_customers_sql_is_the_same_rule(ws: Workspace) -> None:
    sql = visible_customers_sql(WANG)
    assert sql is not None
    with reading(ws) as wh:
        ids = set(wh.arrow(sql).column(0).to_pylist())
    assert ids == {cid for cid in support.customer_ids() if support.owner_of(cid) == support.WANG}


def test_capabilities_follow_the_roles() -> None:
    table = {
        role: {cap for cap in ("read", "write", "export", "manage_users", "audit") if Principal("u", role).can(cap)}
        for role in ("admin", "analyst", "sales", "viewer", "intruder")
    }
    assert table == {
        "admin": {"read", "write", "export", "manage_users", "audit"},
        "analyst": {"read", "write", "export"},
        "sales": {"read", "export"},
        "viewer": {"read"},
        "intruder": set(),
    }
    with pytest.raises(PermissionDeniedError, match="viewer role of user 'u' may not export data"):
        Principal("u", "viewer").require("export")
