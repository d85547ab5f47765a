"""Writing synced batches and reading a board's event log back as the analytics frame.

A batch lands in one transaction with the cursor that follows it, and events are inserted with
``ON CONFLICT DO NOTHING`` on their identity, so a re-delivered event (an overlap window, a retried page, a
sync killed after its commit) changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from analytics.workflow import Workflow
from bot.connectors.base import Batch, SourceEvent, SourceItem
from bot.store.boardread import read_events
from bot.store.dbapi import Cursor, placeholder
from bot.store.eventlog_copy import encode, stored_events
from bot.store.models import Event, EventLogCopy, WorkItem, utcnow
from bot.store.revision import head_revision


def store_batch(session: Session, board_id: int, batch: Batch) -> int:
    """Upsert the items, insert the new events, mark removed items; returns how many events were new."""
    _upsert_items(session, board_id, batch.items)
    added = insert_events(session, board_id, batch.events)
    if batch.removed:
        session.execute(
            update(WorkItem)
            .where(WorkItem.board_id == board_id, WorkItem.item_id.in_(batch.removed))
            .values(removed_at=utcnow())
        )
    return added


def insert_events(session: Session, board_id: int, events: Iterable[SourceEvent]) -> int:
    """Insert events, skipping ones already stored; returns how many were new."""
    rows = [_event_row(board_id, event) for event in events]
    if not rows:
        return 0
    # One compiled statement executed for many parameter sets: SQLAlchemy batches it ("insertmanyvalues"),
    # where building a VALUES clause per row would spend the time compiling SQL.
    statement = _insert(session, Event.__table__).on_conflict_do_nothing().returning(Event.__table__.c.id)
    return len(session.execute(statement, rows).all())


def _event_row(board_id: int, event: SourceEvent) -> dict[str, Any]:
    timestamp = event.timestamp
    if isinstance(timestamp, pd.Timestamp):
        timestamp = timestamp.to_pydatetime()
    if not isinstance(timestamp, dt.datetime) or timestamp.tzinfo is None:
        raise ValueError(f"event of {event.item_id!r} needs an aware datetime, got {timestamp!r}")
    return {
        "board_id": board_id,
        "item_id": event.item_id,
        "timestamp": timestamp,
        "event": event.event,
        "from_status": event.from_status,
        "to_status": event.to_status or "",  # '' rather than NULL: see the unique key in models.py
        "to_status_name": event.to_status_name,
        "reason": event.reason,
    }


def _upsert_items(session: Session, board_id: int, items: Sequence[SourceItem]) -> None:
    if not items:
        return
    now = utcnow()
    rows = [
        {
            "board_id": board_id,
            "item_id": item.item_id,
            "title": item.title,
            "type": item.type,
            "url": item.url,
            "status": item.status,
            "assignee": item.assignee,
            "created_at": item.created_at,
            "seen_at": now,
            "removed_at": None,
        }
        for item in items
    ]
    statement = _insert(session, WorkItem.__table__)
    updated = {name: statement.excluded[name] for name in ("title", "type", "url", "status", "assignee")}
    updated |= {"created_at": statement.excluded.created_at, "seen_at": now, "removed_at": None}
    upsert = statement.on_conflict_do_update(index_elements=["board_id", "item_id"], set_=updated)
    session.execute(upsert, rows)


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL speak it)."""
    dialect = session.get_bind().dialect.name
    insert: Insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert


def load_events(session: Session, board_id: int, workflow: Workflow) -> pd.DataFrame:
    """The board's event log in the analytics frame format (``analytics.eventlog``), oldest first.

    Items the source no longer has (deleted, moved away) are left out. ``to_status`` is the tracker's id
    where the workflow lists that id, else the display name, so a workflow may be written with either.
    """
    # On the driver's cursor, in the session's transaction, straight into columns: SQLAlchemy's rows and
    # building the frame from them were most of the time (bot/store/boardread.py).
    with _cursor(session) as cursor:
        return read_events(cursor, board_id, workflow)


def refresh_event_log_copy(session: Session, board_id: int) -> bool:
    """Write the board's event-log copy (bot/store/eventlog_copy.py) anew unless it already holds every
    stored event; returns whether it was written. A sync calls it after its last batch."""
    with _cursor(session) as cursor:
        reading = stored_events(cursor, board_id)
    if reading.copy_is_current:
        return False
    events = reading.events
    row = {
        "board_id": board_id,
        "schema_revision": head_revision(),
        "events": len(events),
        "last_event_id": events.last_id(),
        "written_at": utcnow(),
        "columns": encode(events),
    }
    statement = _insert(session, EventLogCopy.__table__)
    replaced = {name: statement.excluded[name] for name in row if name != "board_id"}
    session.execute(statement.on_conflict_do_update(index_elements=["board_id"], set_=replaced), [row])
    return True


@contextmanager
def _cursor(session: Session) -> Iterator[Cursor]:
    connection = session.connection()
    mark = placeholder(connection.dialect.paramstyle)
    if mark is None:
        raise ValueError(f"no placeholder for the driver's paramstyle {connection.dialect.paramstyle!r}")
    cursor = connection.connection.cursor()
    try:
        yield Cursor(cursor, mark)
    finally:
        cursor.close()
