"""The workspace: one folder holding the warehouse, the app database, imported files and reports.

``Workspace`` is also the notebook entry point (``ss.Workspace("salescope-data")``),
so it stays a small facade over the service functions the CLI and web app call.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salescope.engine import lock
from salescope.engine.appdb import AppDB
from salescope.engine.warehouse import Warehouse
from salescope.settings import Settings, load_settings

if TYPE_CHECKING:
    from salescope.services.progress import Progress

DEFAULT_TOML = """# Salescope workspace settings (see docs/configuration.md)
locale = "zh-CN"
currency = "CNY"
fiscal_year_start_month = 1

[engine]
backend = "duckdb"
memory_limit = "8GB"

[rfm]
threshold = "mean"   # mean | quintile | fixed
"""


class Workspace:
    """A Salescope workspace folder; opens the warehouse lazily, for reading or writing."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        read_only: bool = False,
    ) -> None:
        self.settings = settings or load_settings(path)
        self.root = Path(self.settings.workspace)
        self.read_only = read_only
        self._warehouse: Warehouse | None = None
        self._appdb: AppDB | None = None
        if not read_only:
            self.init()

    # -- layout -----------------------------------------------------------------
    @property
    def warehouse_path(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def appdb_path(self) -> Path:
        return self.root / "app.sqlite"

    @property
    def imports_dir(self) -> Path:
        return self.root / "imports"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def init(self) -> None:
        for d in (self.root, self.imports_dir, self.reports_dir):
            d.mkdir(parents=True, exist_ok=True)
        toml = self.root / "salescope.toml"
        if not toml.exists():
            toml.write_text(DEFAULT_TOML, encoding="utf-8")

    # -- connections ------------------------------------------------------------
    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            if not self.read_only:
                lock.ensure_free(self.root)
            eng = self.settings.engine
            self._warehouse = Warehouse(
                self.warehouse_path,
                read_only=self.read_only,
                memory_limit=eng.memory_limit,
                threads=eng.threads,
                temp_directory=self.root / "tmp",
            )
        return self._warehouse

    @property
    def appdb(self) -> AppDB:
        if self._appdb is None:
            self._appdb = AppDB(self.appdb_path)
        return self._appdb

    # -- notebook API -------------------------------------------------------------
    def import_file(
        self,
        path: str | Path,
        *,
        kind: str | None = None,
        mapping: str | Path | None = None,
        sheet: str | None = None,
        encoding: str | None = None,
        progress: Progress | None = None,
        user: str | None = None,
    ) -> Any:
        from salescope.services.importing import import_file

        return import_file(
            self, Path(path), kind=kind, mapping=mapping, sheet=sheet, encoding=encoding, progress=progress, user=user
        )

    def analyze(self, as_of: Any = None, progress: Progress | None = None) -> Any:
        from salescope.services.analysis import run_analysis

        return run_analysis(self, as_of=as_of, progress=progress)

    def sql(self, query: str) -> pd.DataFrame:
        return self.warehouse.read_only_query(query).to_pandas()

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None
        if self._appdb is not None:
            self._appdb.close()
            self._appdb = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
