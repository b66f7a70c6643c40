"""``/api/v1``: the JSON twins of the pages, authenticated by bearer token (or the browser's session)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from salescope.services import auth
from salescope.services.customers import MAX_LIMIT, get_customer, list_customers
from salescope.services.overview import overview
from salescope.web.api.v1 import schemas
from salescope.web.auth import ApiPrincipal

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorBody, "description": text}
    for code, text in (
        (401, "Missing, invalid, expired or revoked credentials"),
        (403, "The role may not do this"),
        (422, "Invalid parameters"),
    )
}

router = APIRouter(prefix="/api/v1", responses=_ERRORS)

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip")]


def _plain(value: Any) -> Any:
    """Dates and decimals inside free-form dicts (profile, scores) as JSON-friendly values."""
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get("/me", response_model=schemas.Me, tags=["auth"])
def me(principal: ApiPrincipal) -> Any:
    return principal


@router.get("/overview", response_model=schemas.Overview, tags=["dashboards"])
def overview_json(request: Request, principal: ApiPrincipal) -> Any:
    """KPI cards, monthly revenue and segment counts of the overview page, limited to the caller's rows."""
    return overview(request.app.state.workspace, principal)


@router.get("/customers", response_model=schemas.CustomerList, tags=["customers"])
def customers_json(
    request: Request,
    principal: ApiPrincipal,
    limit: Limit = 50,
    offset: Offset = 0,
    segment: str | None = None,
    q: Annotated[str | None, Query(description="Matches customer id or name")] = None,
) -> Any:
    return list_customers(request.app.state.workspace, principal, limit=limit, offset=offset, segment=segment, q=q)


@router.get(
    "/customers/{customer_id}",
    response_model=schemas.CustomerDetail,
    tags=["customers"],
    responses={404: {"model": schemas.ErrorBody, "description": "No such customer among the caller's rows"}},
)
def customer_json(request: Request, principal: ApiPrincipal, customer_id: str) -> Any:
    detail = get_customer(request.app.state.workspace, principal, customer_id)
    return {
        **asdict(detail.customer),
        "profile": {k: _plain(v) for k, v in detail.profile.items()},
        "scores": {k: _plain(v) for k, v in detail.scores.items()},
        "orders": detail.orders,
        "orders_total": detail.orders_total,
        "revenue": detail.revenue,
    }


@router.get("/users", response_model=schemas.UserList, tags=["admin"])
def users_json(request: Request, principal: ApiPrincipal) -> Any:
    principal.require("manage_users")
    users = auth.list_users(request.app.state.workspace)
    return {"items": users, "total": len(users)}


@router.get("/audit", response_model=schemas.AuditList, tags=["admin"])
def audit_json(
    request: Request,
    principal: ApiPrincipal,
    limit: Limit = 50,
    offset: Offset = 0,
    action: str | None = None,
) -> Any:
    principal.require("audit")
    rows, total = auth.list_audit(request.app.state.workspace, limit=limit, offset=offset, action=action)
    return {"items": rows, "total": total, "limit": limit, "offset": offset}
