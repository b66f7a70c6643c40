"""Customer list (server-side search, segment filter, pagination) and a basic customer profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from salescope.services.customers import get_customer, list_customers, segment_choices
from salescope.web.auth import PagePrincipal
from salescope.web.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/customers")
def customers_page(
    request: Request,
    principal: PagePrincipal,
    q: str = "",
    segment: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    ws = request.app.state.workspace
    page = list_customers(ws, principal, limit=PAGE_SIZE, offset=offset, segment=segment or None, q=q or None)
    context = {"page": page, "q": q, "segment": segment, "segments": segment_choices(ws, principal)}
    # htmx asks for the results table alone when the search box or filter changes.
    partial = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "customer-results"
    return render(request, "_customer_results.html" if partial else "customers.html", context)


@router.get("/customers/{customer_id}")
def customer_page(request: Request, principal: PagePrincipal, customer_id: str) -> Response:
    detail = get_customer(request.app.state.workspace, principal, customer_id)
    return render(request, "customer.html", {"detail": detail})
