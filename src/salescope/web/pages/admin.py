"""Administration pages: the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from salescope.services import auth
from salescope.web.auth import PagePrincipal
from salescope.web.rendering import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100


@router.get("/admin/audit")
def audit_page(
    request: Request,
    principal: PagePrincipal,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    principal.require("audit")
    rows, total = auth.list_audit(request.app.state.workspace, limit=PAGE_SIZE, offset=offset)
    return render(request, "audit.html", {"rows": rows, "total": total, "offset": offset, "limit": PAGE_SIZE})
