"""Who may see what: the principal behind a request and the one row-level rule.

A sales user sees only the customers whose salesperson is theirs, and everything
derived from those customers (orders, scores, alerts, exports). The rule lives
here, once, as an Ibis expression, so every service that returns customer-derived
rows — pages, API, exports, reports, alerts — restricts them the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import ibis

from salescope.errors import PermissionDeniedError

if TYPE_CHECKING:
    from ibis.backends.duckdb import Backend

    from salescope.engine.warehouse import Warehouse
    from salescope.services.workspace import Workspace

Capability = Literal["read", "write", "export", "manage_users", "audit"]

# Roles of DESIGN.md §5. Anything not listed is denied, so an unknown role sees nothing.
_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "admin": frozenset({"read", "write", "export", "manage_users", "audit"}),
    "analyst": frozenset({"read", "write", "export"}),
    "sales": frozenset({"read", "export"}),
    "viewer": frozenset({"read"}),
}
_ALL_ROWS_ROLES = frozenset({"admin", "analyst", "viewer"})


@dataclass(frozen=True)
class Principal:
    """The authenticated user a service acts for; ``salesperson`` is the name sales rows carry for them."""

    username: str
    role: str
    salesperson: str | None = None

    @property
    def sees_all_rows(self) -> bool:
        return self.role in _ALL_ROWS_ROLES

    def can(self, capability: Capability) -> bool:
        return capability in _CAPABILITIES.get(self.role, frozenset())

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDeniedError(f"The {self.role} role of user {self.username!r} may not {_VERBS[capability]}.")


_VERBS: dict[Capability, str] = {
    "read": "read data",
    "write": "change data (imports, undos, merges, analyses)",
    "export": "export data",
    "manage_users": "manage users and tokens",
    "audit": "read the audit log",
}


def customer_owners(backend: Backend) -> ibis.Table:
    """Each known customer with the salesperson who owns them.

    The customer master's salesperson wins; a customer missing from the master (or
    with no salesperson there) belongs to the salesperson of their latest sale, so
    loading order lines before the customer list never hides a customer from its owner.
    """
    cu = backend.table("customers").select("customer_id", "salesperson")
    s = backend.table("sales")
    s = s.filter(s.customer_id.notnull())
    latest = s.group_by("customer_id").aggregate(sale_salesperson=s.salesperson.argmax(s.order_date))
    both = latest.outer_join(cu, latest.customer_id == cu.customer_id)
    owners = both.select(
        customer_id=ibis.coalesce(cu.customer_id, latest.customer_id),
        salesperson=ibis.coalesce(cu.salesperson, latest.sale_salesperson),
    )
    # A plain relation rather than the join chain, so callers can join it to further tables.
    return owners.filter(owners.customer_id.notnull())


def visible_customer_ids(backend: Backend, principal: Principal) -> ibis.Table | None:
    """The customer ids a principal may see, or ``None`` when they may see every row."""
    if principal.sees_all_rows:
        return None
    owners = customer_owners(backend)
    if principal.role != "sales" or not principal.salesperson:
        return owners.filter(ibis.literal(False)).select("customer_id")
    return owners.filter(owners.salesperson == principal.salesperson).select("customer_id")


def restrict(table: ibis.Table, principal: Principal, backend: Backend, *, key: str = "customer_id") -> ibis.Table:
    """``table`` (any customer-keyed table or expression) limited to the rows the principal may see.

    Rows whose key is NULL (anonymous sales) belong to no salesperson, so a
    restricted principal never sees them.
    """
    ids = visible_customer_ids(backend, principal)
    if ids is None:
        return table
    return table.filter(table[key].isin(ids.customer_id))


def visible_customers_sql(backend: Backend, principal: Principal) -> str | None:
    """The same rule as SQL (``SELECT customer_id ...``) for services that build SQL; ``None`` means no limit."""
    ids = visible_customer_ids(backend, principal)
    return None if ids is None else str(ibis.to_sql(ids, dialect="duckdb"))


@contextmanager
def reading(ws: Workspace) -> Iterator[Warehouse]:
    """A private cursor on the workspace's warehouse for one call.

    The web app serves requests on many threads from one DuckDB connection, and a
    DuckDB connection must not be shared across threads; a cursor per call is cheap.
    """
    view = ws.warehouse.cursor()
    try:
        yield view
    finally:
        view.close()
