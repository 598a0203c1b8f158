"""Whether the local SQLite MLflow store has a registry alias, asked without importing MLflow.

Importing MLflow and opening its store costs seconds; most `mlops evaluate` runs only need to
know that there is no champion yet. This module answers "provably absent" from the SQLite
file alone (read-only), and "ask MLflow" in every other case: a missing table, an unknown
layout or any database error never turns into "no champion".
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
