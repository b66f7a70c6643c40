"""HTML pages; each has a JSON twin under ``/api/v1``."""

from fastapi import APIRouter

from salescope.web.pages import admin, customers, dashboard, login

router = APIRouter(include_in_schema=False)
for _module in (login, dashboard, customers, admin):
    router.include_router(_module.router)
