"""The application database: users, sessions, API tokens and the audit log.

SQLite by default (one file in the workspace, safe across threads with WAL);
separate from the warehouse so logins never wait on an import's transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from salescope.schema.migrations import APPDB_MIGRATIONS


class AppDB:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA foreign_keys=ON")
            self._local.con = con
        return con

    def _migrate(self) -> None:
        con = self._connect()
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER, description TEXT)")
        current = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        for m in APPDB_MIGRATIONS:
            if m.version <= current:
                continue
            with self.transaction():
                for stmt in m.statements:
                    con.execute(stmt)
                con.execute("INSERT INTO schema_version VALUES (?, ?)", (m.version, m.description))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        con = self._connect()
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        else:
            con.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cur = self._connect().execute(sql, params)
        return cur.lastrowid or cur.rowcount

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        row = self._connect().execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._connect().execute(sql, params).fetchall()]

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None
