"""The overview page: KPI cards, monthly revenue line and segment pie (ECharts, drawn by our static JS)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from salescope.i18n import translate
from salescope.services.overview import Overview, overview
from salescope.web.auth import PagePrincipal
from salescope.web.rendering import locale_of, render

router = APIRouter(include_in_schema=False)


def chart_data(data: Overview, locale: str) -> dict[str, Any]:
    """What the charts need, already in the page's language; embedded as JSON, never as script."""
    english = locale == "en"
    return {
        "locale": locale,
        "months": [{"month": m.month, "revenue": float(m.revenue), "orders": m.orders} for m in data.months],
        "segments": [
            {
                "segment": s.segment,
                "name": s.segment_en if english else s.segment_zh,
                "value": s.customers,
            }
            for s in data.segments
        ],
        "customers_url": "/customers?segment=",
        "labels": {key: translate(f"chart.{key}", locale) for key in ("revenue", "orders", "customers")},
    }


@router.get("/")
def overview_page(request: Request, principal: PagePrincipal) -> Response:
    data = overview(request.app.state.workspace, principal)
    locale = locale_of(request)
    return render(request, "overview.html", {"data": data, "charts": chart_data(data, locale)})
