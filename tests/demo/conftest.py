"""One small demo generated per test session; tests read its files like an importer would."""

from __future__ import annotations

import json

import pytest
from demo_support import END, SEED, Demo

from salescope.demo.generator import generate


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo_small")
    files = generate(out, scale="small", seed=SEED, end=END)
    return Demo(out, files, json.loads((out / "manifest.json").read_text(encoding="utf-8")))
