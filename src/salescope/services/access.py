"""Who may see what: the principal behind a request and the one row-level rule.

A sales user sees only the customers whose salesperson is theirs, and everything
derived from those customers (orders, scores, alerts, exports). The rule lives
here, once, as an Ibis expression, so every service that returns customer-derived
rows — pages, API, exports, reports, alerts — restricts them the same way.

A principal reduces to a ``RowScope`` (all rows, one salesperson's, or none): that
is all a restricted query depends on, so services can compile their SQL once per
scope and reuse it across requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

import ibis

from salescope.errors import PermissionDeniedError
from salescope.schema.tables import TABLES_BY_NAME

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

_VERBS: dict[Capability, str] = {
    "read": "read data",
    "write": "change data (imports, undos, merges, analyses)",
    "export": "export data",
    "manage_users": "manage users and tokens",
    "audit": "read the audit log",
}


@dataclass(frozen=True)
class RowScope:
    """The customer rows a principal may see: all of them, one salesperson's, or none."""

    all_rows: bool
    salesperson: str | None = None


ALL_ROWS = RowScope(all_rows=True)
NO_ROWS = RowScope(all_rows=False)


@dataclass(frozen=True)
class Principal:
    """The authenticated user a service acts for; ``salesperson`` is the name sales rows carry for them."""

    username: str
    role: str
    salesperson: str | None = None

    @property
    def sees_all_rows(self) -> bool:
        return self.role in _ALL_ROWS_ROLES

    @property
    def row_scope(self) -> RowScope:
        if self.sees_all_rows:
            return ALL_ROWS
        if self.role == "sales" and self.salesperson:
            return RowScope(all_rows=False, salesperson=self.salesperson)
        return NO_ROWS

    def can(self, capability: Capability) -> bool:
        return capability in _CAPABILITIES.get(self.role, frozenset())

    def require(self, capability: Capability) -> None:
        if not self.can(capability):
            raise PermissionDeniedError(f"The {self.role} role of user {self.username!r} may not {_VERBS[capability]}.")


_IBIS_TYPES = {
    "text": "string",
    "date": "date",
    "timestamp": "timestamp",
    "money": "decimal(18,4)",
    "decimal": "decimal(18,4)",
    "int": "int64",
    "float": "float64",
    "bool": "boolean",
}


@cache
def canonical(name: str) -> ibis.Table:
    """A canonical warehouse table as an unbound Ibis table: no database round trip to learn its schema."""
    spec = TABLES_BY_NAME[name]
    return ibis.table({c.name: _IBIS_TYPES[c.type] for c in spec.columns}, name=name)


def compiled(expr: ibis.Expr) -> str:
    """SQL for the warehouse (DuckDB) from an expression over canonical or warehouse tables."""
    return str(ibis.to_sql(expr, dialect="duckdb"))


def _table(name: str, backend: Backend | None) -> ibis.Table:
    return backend.table(name) if backend is not None else canonical(name)


def customer_owners(backend: Backend | None = None) -> ibis.Table:
    """Each known customer with the salesperson who owns them.

    The customer master's salesperson wins; a customer missing from the master (or
    with no salesperson there) belongs to the salesperson of their latest sale, so
    loading order lines before the customer list never hides a customer from its owner.
    """
    cu = _table("customers", backend).select("customer_id", "salesperson")
    s = _table("sales", backend)
    s = s.filter(s.customer_id.notnull())
    latest = s.group_by("customer_id").aggregate(sale_salesperson=s.salesperson.argmax(s.order_date))
    both = latest.outer_join(cu, latest.customer_id == cu.customer_id)
    owners = both.select(
        customer_id=ibis.coalesce(cu.customer_id, latest.customer_id),
        salesperson=ibis.coalesce(cu.salesperson, latest.sale_salesperson),
    )
    # A plain relation rather than the join chain, so callers can join it to further tables.
    return owners.filter(owners.customer_id.notnull())


def _scope(who: Principal | RowScope) -> RowScope:
    return who.row_scope if isinstance(who, Principal) else who


def visible_customer_ids(who: Principal | RowScope, backend: Backend | None = None) -> ibis.Table | None:
    """The customer ids a principal may see, or ``None`` when they may see every row."""
    scope = _scope(who)
    if scope.all_rows:
        return None
    owners = customer_owners(backend)
    if scope.salesperson is None:
        return owners.filter(ibis.literal(False)).select("customer_id")
    return owners.filter(owners.salesperson == scope.salesperson).select("customer_id")


def restrict(
    table: ibis.Table,
    who: Principal | RowScope,
    backend: Backend | None = None,
    *,
    key: str = "customer_id",
) -> ibis.Table:
    """``table`` (any customer-keyed table or expression) limited to the rows the principal may see.

    Pass the backend ``table`` is bound to, or none for expressions over ``canonical`` tables.
    Rows whose key is NULL (anonymous sales) belong to no salesperson, so a restricted
    principal never sees them.
    """
    ids = visible_customer_ids(who, backend)
    if ids is None:
        return table
    return table.filter(table[key].isin(ids.customer_id))


def visible_customers_sql(who: Principal | RowScope) -> str | None:
    """The same rule as SQL (``SELECT customer_id ...``) for services that build SQL; ``None`` means no limit."""
    ids = visible_customer_ids(who)
    return None if ids is None else compiled(ids)


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
