"""Versioned warehouse migrations.

Each migration is a list of SQL statements applied once, in order, inside one
transaction, and recorded in ``schema_version``; a workspace created by an older
Salescope is brought forward on open. Never edit a released migration: add one.
"""

from __future__ import annotations

from dataclasses import dataclass

from salescope.schema.tables import (
    AGGREGATE_STATE,
    ANOMALIES,
    CLUSTER_PROFILES,
    CLV_RUNS,
    COHORT_RETENTION,
    CUSTOMER_ABC,
    CUSTOMER_CLUSTERS,
    CUSTOMER_CLV,
    CUSTOMER_FACTS,
    CUSTOMER_LIFECYCLE,
    CUSTOMER_SCORES,
    DATA_TABLES,
    FORECASTS,
    IDENTITY_TABLES,
    KPIS,
    LIFECYCLE_HISTORY,
    NEXT_BEST,
    ORDER_FACTS,
    PRODUCT_ABC,
    REPURCHASE_INTERVALS,
    RULES,
    SEGMENT_HISTORY,
    SYSTEM_TABLES,
    create_table_sql,
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


WAREHOUSE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "canonical tables",
        tuple(create_table_sql(t) for t in (*DATA_TABLES, *SYSTEM_TABLES, CUSTOMER_SCORES, SEGMENT_HISTORY)),
    ),
    Migration(
        2,
        "KPI, anomaly and forecast result tables",
        tuple(create_table_sql(t) for t in (KPIS, ANOMALIES, FORECASTS)),
    ),
    Migration(
        3,
        "customer value results (lifecycle, cohorts, repurchase) and sales aggregates",
        tuple(
            create_table_sql(t)
            for t in (
                CUSTOMER_LIFECYCLE,
                LIFECYCLE_HISTORY,
                COHORT_RETENTION,
                REPURCHASE_INTERVALS,
                ORDER_FACTS,
                CUSTOMER_FACTS,
                AGGREGATE_STATE,
            )
        ),
    ),
    Migration(
        4,
        "customer lifetime value results and CLV runs",
        tuple(create_table_sql(t) for t in (CUSTOMER_CLV, CLV_RUNS)),
    ),
    Migration(
        5,
        "product results: association rules, ABC-XYZ of products and customers, next best product",
        tuple(create_table_sql(t) for t in (RULES, PRODUCT_ABC, CUSTOMER_ABC, NEXT_BEST)),
    ),
    Migration(
        6,
        "identity: supplier sources, merge log and merge moves",
        tuple(create_table_sql(t) for t in IDENTITY_TABLES),
    ),
    Migration(
        7,
        "customer clusters and cluster profiles",
        tuple(create_table_sql(t) for t in (CUSTOMER_CLUSTERS, CLUSTER_PROFILES)),
    ),
)

APPDB_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "users, sessions, tokens, audit log",
        (
            """CREATE TABLE IF NOT EXISTS users (
                id INTEGER PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin','analyst','sales','viewer')),
                salesperson TEXT,
                created_at TEXT NOT NULL,
                failed_logins INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                active INTEGER NOT NULL DEFAULT 1
            )""",
            """CREATE TABLE IF NOT EXISTS sessions (
                token_hash TEXT PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL
            )""",
            """CREATE TABLE IF NOT EXISTS api_tokens (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                revoked_at TEXT
            )""",
            """CREATE TABLE IF NOT EXISTS audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                username TEXT,
                action TEXT NOT NULL,
                detail TEXT,
                address TEXT,
                success INTEGER NOT NULL DEFAULT 1
            )""",
            "CREATE INDEX IF NOT EXISTS audit_at ON audit_log(at)",
        ),
    ),
    Migration(
        2,
        "signing secrets, token last use, login-failure and session indexes",
        (
            "CREATE TABLE IF NOT EXISTS app_secrets "
            "(name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL)",
            "ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT",
            "ALTER TABLE sessions ADD COLUMN address TEXT",
            "CREATE INDEX IF NOT EXISTS audit_address ON audit_log(address, action, at)",
            "CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id)",
            "CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens(user_id)",
        ),
    ),
)
