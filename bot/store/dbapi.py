"""Plain SQL on a driver's own cursor, for the reads where SQLAlchemy's rows cost more than the query.

``bot/store/boardread.py`` and ``bot/store/eventlog_copy.py`` read through it, on ``sqlite3`` directly or
on the raw connection of a session or engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class Cursor:
    """A DBAPI cursor and its placeholder (``?`` for sqlite3, ``%s`` for psycopg): one SQL text for both."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self.cursor, self.placeholder = cursor, placeholder

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql.replace("?", self.placeholder), tuple(params))
        return list(self.cursor.fetchall())


def placeholder(paramstyle: str) -> str | None:
    """The positional placeholder of a DBAPI paramstyle; ``None`` for one this module does not write."""
    return {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(paramstyle)


def columns_of(rows: list[tuple[Any, ...]], width: int) -> list[np.ndarray]:
    """The rows' columns as object arrays (views of one table: each column is copied where it is used)."""
    table = np.empty((len(rows), width), dtype=object)
    if rows:
        table[:] = rows
    return [table[:, n] for n in range(width)]
