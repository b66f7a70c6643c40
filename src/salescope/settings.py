"""Settings: defaults < ``salescope.toml`` in the workspace < ``SALESCOPE_*`` environment.

The workspace folder is the unit of deployment, so its own ``salescope.toml`` carries
the choices a team makes once (locale, currency, RFM thresholds, engine backend).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_WORKSPACE = "salescope-data"


class EngineSettings(BaseModel):
    backend: Literal["duckdb", "pyspark"] = "duckdb"
    memory_limit: str = "8GB"
    threads: int = 0
    spark_master: str = "local[2]"
    spark_warehouse: str = ""


class RfmSettings(BaseModel):
    threshold: Literal["mean", "quintile", "fixed"] = "mean"
    fixed_recency_days: float = 90.0
    fixed_frequency: float = 2.0
    fixed_monetary: float = 1000.0


class ImportSettings(BaseModel):
    chunk_rows: int = 200_000
    max_upload_mb: int = 200


class WebSettings(BaseModel):
    session_hours: int = 12
    login_max_failures: int = 5
    lockout_minutes: int = 15
    secure_cookies: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SALESCOPE_", env_nested_delimiter="__", extra="ignore")

    workspace: Path = Path(DEFAULT_WORKSPACE)
    locale: Literal["zh-CN", "en"] = "zh-CN"
    currency: str = "CNY"
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    engine: EngineSettings = EngineSettings()
    rfm: RfmSettings = RfmSettings()
    imports: ImportSettings = ImportSettings()
    web: WebSettings = WebSettings()


def load_settings(workspace: str | Path | None = None) -> Settings:
    """Resolve settings for a workspace: explicit path, else ``$SALESCOPE_WORKSPACE``, else default."""
    ws = Path(workspace or os.environ.get("SALESCOPE_WORKSPACE") or DEFAULT_WORKSPACE)
    data: dict[str, Any] = {}
    toml_path = ws / "salescope.toml"
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            data = tomllib.load(fh)
    env_settings = Settings()
    merged = Settings.model_validate({**data, **_explicit_env(env_settings)})
    merged.workspace = ws
    return merged


def _explicit_env(env_settings: Settings) -> dict[str, Any]:
    """Only the fields the environment actually set, so the TOML file is not overridden by defaults."""
    return env_settings.model_dump(exclude_defaults=True, exclude={"workspace"})
