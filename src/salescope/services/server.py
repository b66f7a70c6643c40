"""Running the web app: the server process owns the workspace for writing.

uvicorn is started with the app factory named by import path so this layer does
not import the web adapter (the layers contract keeps services below web).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import uvicorn

from salescope.engine import lock

APP_FACTORY = "salescope.web.app:create_app"


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - only used to print a URL
    return f"http://{shown}:{port}/"


def serve(
    workspace: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted, holding the workspace lock so CLI writers get a clear message."""
    url = url_for(host, port)
    lock.acquire(workspace, url)
    os.environ["SALESCOPE_WORKSPACE"] = str(workspace)
    try:
        if on_ready is not None:
            on_ready(url)
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, log_level="warning")
    finally:
        lock.release(workspace)
