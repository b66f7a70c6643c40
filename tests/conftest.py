"""Shared fixtures: real workspaces on disk, the shared datasets beside the project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from salescope.services.workspace import Workspace

# Shared 2-core machines make per-example timings meaningless; the examples themselves still run.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"the shared datasets are not beside the project ({SHARED_DATA})")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace(tmp_path / "ws")
    yield ws
    ws.close()
