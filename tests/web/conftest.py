"""One seeded workspace and server shared by the read-only web tests; tests that lock accounts make their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import web_support as support
from web_support import Site

from salescope.services.workspace import Workspace
from salescope.web.app import create_app


@pytest.fixture(scope="session", autouse=True)
def _cheap_hashing() -> Iterator[None]:
    with support.cheap_hashing():
        yield


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    ws = Workspace(tmp_path_factory.mktemp("site") / "ws")
    support.seed(ws)
    tokens = support.add_users(ws)
    app = create_app(ws)
    with support.running(app) as server:
        yield Site(server.url, ws, app, tokens)
    ws.close()


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[Site]:
    """A server of its own, for tests that lock accounts or change users."""
    ws = Workspace(tmp_path / "ws")
    support.seed(ws)
    tokens = support.add_users(ws)
    app = create_app(ws)
    with support.running(app) as server:
        yield Site(server.url, ws, app, tokens)
    ws.close()
