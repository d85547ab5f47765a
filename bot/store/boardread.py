"""Reading a stored board's event log fast, and a whole board for a one-shot command without the ORM.

The event log is read on the driver's own cursor (no SQLAlchemy ``Row`` per event) from the board's columnar
copy and the events stored after it, or row by row (bot/store/eventlog_copy.py), and turned into the
analytics frame column by column: ``load_events`` (bot/store/eventstore.py) reads it so inside a session,
and :func:`read_stored_board` for ``flowcoach metrics --board`` and its siblings, which need neither the ORM
models, Slack's tables nor Alembic: the schema is known current when the ``alembic_version`` row names the
newest migration of ``migrations/versions``. Anything else (a schema
behind, no such board, a URL this module does not open itself) returns ``None``, and the caller takes the
ordinary way, which migrates, refuses or explains.

SQLite opens with the standard library's ``sqlite3`` (SQLAlchemy itself is not imported); other databases
through an engine of :func:`bot.store.db.make_engine`, on its raw DBAPI connection.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analytics.eventlog import EVENT_COLUMNS
from analytics.workflow import Workflow, parse_workflow
from bot.store.dbapi import Cursor, columns_of, placeholder
from bot.store.eventlog_copy import Coded, stored_events, take
from bot.store.revision import head_revision

if TYPE_CHECKING:
    from bot.store.board_settings import Thresholds

LOCAL_WORKSPACE = "local"  # as bot/store/boards.py (which imports the ORM models, so is not imported here)
ITEM_FIELDS = ("title", "type", "url", "assignee")


def read_events(cursor: Cursor, board_id: int, workflow: Workflow) -> pd.DataFrame:
    """The board's event log as the analytics frame (``analytics.eventlog``), oldest first (ties: stored
    order); items the source no longer has are left out. See ``load_events`` for the rules."""
    stored = stored_events(cursor, board_id).events
    columns = {name: stored.text[name] for name in ("item_id", "event", "from_status", "reason")}
    columns["to_status"] = _to_status(stored.text["to_status"], stored.text["to_status_name"], workflow)
    items = cursor.rows(
        "SELECT item_id, title, type, url, assignee, removed_at IS NOT NULL "
        "FROM work_items WHERE board_id = ?",
        [board_id],
    )
    # The item's attributes by position: item ids are unique per board (uq_work_items_board_id_item_id);
    # an event of no stored item (-1) keeps missing attributes, as the outer join it stands for.
    item_columns = columns_of(items, 2 + len(ITEM_FIELDS))
    item_ids = columns["item_id"]
    known = pd.Index(item_columns[0], dtype=object).get_indexer(item_ids.distinct)
    at = take(known, item_ids.codes, -1)
    for name, values in zip(ITEM_FIELDS, item_columns[1:-1], strict=True):
        columns[name] = Coded.of(values).at(at)
    timestamps = stored.timestamps
    removed = take(item_columns[-1].astype(bool), at, False)
    if removed.any():
        columns = {name: values[~removed] for name, values in columns.items()}
        timestamps = timestamps[~removed]
    frame = {name: columns[name].as_str() for name in EVENT_COLUMNS if name != "timestamp"}
    frame["timestamp"] = pd.Series(pd.to_datetime(timestamps, unit="ns", utc=True))
    # pandas' ``str`` dtype, missing values NaN, as ``analytics.eventlog`` reads files.
    return pd.DataFrame({name: frame[name] for name in EVENT_COLUMNS}, copy=False)  # its own columns


def _to_status(status: Coded, name: Coded, workflow: Workflow) -> Coded:
    """The tracker's id where the workflow lists it, else the display name (the id without one); '' (stored
    for "no status", see the unique key in models.py) is missing. Decided once per distinct value."""
    listed = pd.Index(status.distinct, dtype=object).isin(list(workflow.status_to_stage_index()))
    by_name = ~take(listed, status.codes, False) & (name.codes >= 0)
    distinct = np.concatenate([status.distinct, name.distinct])
    codes = np.where(by_name, name.codes + len(status.distinct), status.codes)
    empty = take(distinct == "", codes, True)  # '' and NULL alike
    return Coded(np.where(empty, -1, codes), distinct)


@dataclass(frozen=True)
class SyncOutcome:
    """The last sync run, as ``bot.cli.board_status.unsynced_warning`` reads it."""

    status: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


@dataclass(frozen=True)
class StoredBoard:
    """``thresholds`` is ``None`` when the board has no settings of its own: the defaults apply."""

    name: str
    workflow: Workflow
    thresholds: Thresholds | None
    events: pd.DataFrame
    last_synced_at: dt.datetime | None
    last_sync: SyncOutcome | None  # read only when the board never synced (what the warning needs)


def read_stored_board(url: str, name: str, team_id: str = LOCAL_WORKSPACE) -> StoredBoard | None:
    """The board ``name`` of the database at ``url`` with its event log, read in one transaction; ``None``
    when the schema is not the newest migration's, there is no such board, or ``url`` is one this module
    does not open (then ``bot.store.db.open_database`` and the ORM do it all)."""
    with _connected(url) as cursor:
        if cursor is None or _schema_revision(cursor) != head_revision():
            return None
        found = cursor.rows(
            "SELECT b.id, b.name, b.workflow_yaml, b.coaching_settings, b.last_synced_at "
            "FROM boards b JOIN workspaces w ON w.id = b.workspace_id "
            "WHERE w.slack_team_id = ? AND b.name = ?",
            [team_id, name],
        )
        if not found:
            return None
        board_id, board_name, workflow_yaml, settings, last_synced_at = found[0]
        if isinstance(settings, str):  # SQLite's JSON is text; psycopg decodes it
            settings = json.loads(settings)
        workflow = parse_workflow(workflow_yaml, source=f"workflow of board '{board_name}'")
        thresholds = None
        if settings:  # settings changed from Slack: pydantic validates them, as for every other use
            from bot.store.board_settings import apply_settings, load_board_settings

            loaded = load_board_settings(settings)
            workflow, thresholds = apply_settings(workflow, loaded), loaded.thresholds
        events = read_events(cursor, board_id, workflow)
        synced = _utc(last_synced_at)
        last = _last_sync(cursor, board_id) if synced is None else None
        return StoredBoard(board_name, workflow, thresholds, events, synced, last)


def _last_sync(cursor: Cursor, board_id: int) -> SyncOutcome | None:
    runs = cursor.rows(
        "SELECT status, started_at, finished_at, error FROM sync_runs WHERE board_id = ? "
        "ORDER BY started_at DESC, id DESC LIMIT 1",
        [board_id],
    )
    if not runs:
        return None
    status, started_at, finished_at, error = runs[0]
    started = _utc(started_at)
    assert started is not None
    return SyncOutcome(status, started, _utc(finished_at), error)


def _utc(value: str | dt.datetime | None) -> dt.datetime | None:
    """An aware UTC datetime, as ``UTCDateTime`` (models.py) gives it: SQLite stores naive UTC text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _schema_revision(cursor: Cursor) -> str | None:
    try:
        rows = cursor.rows("SELECT version_num FROM alembic_version")
    except Exception:  # no such table (an empty database): the ordinary way creates the schema or says so
        return None
    return rows[0][0] if len(rows) == 1 else None


@contextmanager
def _connected(url: str) -> Iterator[Cursor | None]:
    """A cursor in a read transaction on the database at ``url``, closed afterwards."""
    path = _sqlite_file(url)
    if path is not None:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN")  # one snapshot for every statement, as a session's transaction
            yield Cursor(connection.cursor(), "?")
        finally:
            connection.close()
        return
    if url.startswith("sqlite"):
        yield None  # in memory, a URI, a missing file (created and migrated the ordinary way)
        return
    from bot.store.db import make_engine

    engine = make_engine(url)
    try:
        mark = placeholder(engine.dialect.paramstyle)
        if mark is None:
            yield None
            return
        raw = engine.raw_connection()
        try:
            yield Cursor(raw.cursor(), mark)
            raw.rollback()
        finally:
            raw.close()
    finally:
        engine.dispose()


def _sqlite_file(url: str) -> str | None:
    """The existing file of a plain ``sqlite:///PATH`` URL (no driver, no query); ``None`` otherwise."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = url.removeprefix(prefix)
    if not path or path == ":memory:" or not Path(path).is_file():
        return None
    return path
