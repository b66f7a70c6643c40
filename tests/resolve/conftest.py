"""The labelled ER generator lives in bench/data (it is benchmark data); tests load it from there."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "data" / "er_records.py"


@pytest.fixture(scope="session")
def er_records() -> ModuleType:
    spec = importlib.util.spec_from_file_location("er_records", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module
