"""The local SQLite MLflow store, as far as it can be handled without importing MLflow in this process.

Importing MLflow and opening its store costs seconds; most `mlops evaluate` runs only need to
know that there is no champion yet. This module answers "provably absent" from the SQLite
file alone (read-only), and "ask MLflow" in every other case: a missing table, an unknown
layout or any database error never turns into "no champion". It also spares a new store
(every CI run) one fsync per schema migration.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

CHAMPION_ALIAS = "champion"
SQLITE_PREFIX = "sqlite:///"


def alias_is_absent(tracking_uri: str, registered_model: str, alias: str) -> bool:
    """True only when the SQLite store at ``tracking_uri`` provably has no ``alias`` for ``registered_model``."""
    if not tracking_uri.startswith(SQLITE_PREFIX):
        return False
    path = Path(tracking_uri.removeprefix(SQLITE_PREFIX))
    if not path.exists():
        return True  # no store yet, so no registry and no alias in it
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT 1 FROM registered_model_aliases WHERE name = ? AND alias = ? LIMIT 1", (registered_model, alias)
            ).fetchone()
    except sqlite3.Error:
        return False
    return row is None


def _store_path(tracking_uri: str) -> Path | None:
    return Path(tracking_uri.removeprefix(SQLITE_PREFIX)) if tracking_uri.startswith(SQLITE_PREFIX) else None


def is_new_store(tracking_uri: str) -> bool:
    """True for a local SQLite store whose file does not exist yet (CI: every run)."""
    path = _store_path(tracking_uri)
    return path is not None and not path.exists()


def skip_fsync(tracking_uri: str) -> None:
    """No fsync per commit (``PRAGMA synchronous=OFF``) on this process's connections to a new local store.

    Only for a store this run creates (``is_new_store`` before anything touched it).
    Creating MLflow's schema runs some 70 migrations, each committed: on a CI disk the fsyncs
    take seconds. A process crash still loses nothing committed; only an operating-system crash
    while the brand-new store is written could leave it unusable, and it then holds at most this
    one run. A store that already exists (a developer's registry) keeps SQLite's default.
    """
    path = _store_path(tracking_uri)
    if path is None:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    target = str(path.resolve())

    def unsynced(dbapi_connection, _record) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list").fetchall()]
            if target in files:
                dbapi_connection.execute("PRAGMA synchronous=OFF")

    event.listen(Engine, "connect", unsynced)
