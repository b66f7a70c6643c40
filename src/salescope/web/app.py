"""The web app factory.

The app holds one read-write ``Workspace`` for its lifetime (DuckDB allows a single
writing process); each service call takes its own cursor on it, because DuckDB
connections must not be shared across the threads requests run on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from salescope.services import auth
from salescope.services.workspace import Workspace
from salescope.web import errors
from salescope.web.api.v1 import router as api_v1
from salescope.web.pages import router as pages
from salescope.web.security import SecurityHeaders, csrf_protect

STATIC = Path(__file__).parent / "static"

DESCRIPTION = (
    "Salescope's REST API. Authenticate with `Authorization: Bearer TOKEN` "
    "(create one with `salescope token create NAME`). Lists take `limit`/`offset` and answer "
    '`{"items": [...], "total": N}`; every error is `{"ok": false, "status": N, "error": "...", "errors": [...]}`.'
)


def create_app(workspace: Workspace | None = None) -> FastAPI:
    """Build the app over a workspace; ``None`` opens ``$SALESCOPE_WORKSPACE`` (uvicorn's factory mode)."""
    owned = workspace is None
    ws = workspace if workspace is not None else Workspace()
    # Open both databases now, on one thread, so requests never race to open them.
    ws.warehouse  # noqa: B018
    signing_key = auth.signing_key(ws)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            ws.close()

    app = FastAPI(
        title="Salescope",
        version="1",
        description=DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # Swagger UI would load from a CDN; the app must work offline
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.workspace = ws
    app.state.signing_key = signing_key
    errors.install(app)
    app.include_router(api_v1)
    app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # Outermost last: headers are added even to the 500 answers ErrorGuard writes.
    app.add_middleware(errors.ErrorGuard)
    app.add_middleware(SecurityHeaders)
    return app
