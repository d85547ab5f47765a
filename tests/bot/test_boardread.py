"""The quick read of a stored board (bot/store/boardread.py) against the ORM read it replaced, on SQLite and
PostgreSQL: the same event log to the last dtype, time zone, value and row order; the same board."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select, text, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType

from analytics.eventlog import EVENT_COLUMNS
from analytics.workflow import Workflow
from bot.cli.board_status import unsynced_warning
from bot.connectors.base import Batch, SourceEvent, SourceItem
from bot.connectors.file import FileConnector, FileSettings
from bot.sample import SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.boards import board_data
from bot.services.sync import sync_board
from bot.store import db as store_db
from bot.store.boardread import read_stored_board
from bot.store.boards import add_board, board_workflow, get_board, last_sync_run
from bot.store.eventstore import load_events, store_batch
from bot.store.models import Board, Event, SyncRun, WorkItem
from bot.store.revision import head_revision

UTC = dt.UTC
WORKFLOW = """
name: Quick
timezone: Europe/Zurich
stages:
  - {name: Backlog, kind: backlog, statuses: ["10000", "To Do"]}
  - {name: Doing, kind: active, statuses: ["10001"]}
  - {name: Done, kind: done, statuses: [Done]}
"""


def orm_load_events(session: Session, board_id: int, workflow: Workflow) -> pd.DataFrame:
    """``load_events`` as it was before the quick read (commit 4cb2c38): SQLAlchemy Core rows, then pandas."""
    events = (
        select(
            Event.item_id,
            type_coerce(Event.timestamp, NullType()).label("timestamp"),
            Event.event,
            Event.from_status,
            Event.to_status,
            Event.to_status_name,
            Event.reason,
        )
        .join(
            WorkItem,
            (WorkItem.board_id == Event.board_id) & (WorkItem.item_id == Event.item_id),
            isouter=True,
        )
        .where(Event.board_id == board_id, WorkItem.removed_at.is_(None))
        .order_by(Event.timestamp, Event.id)
    )
    connection = session.connection()
    fields = ["item_id", "timestamp", "event", "from_status", "to_status", "to_status_name", "reason"]
    frame = _frame(connection.execute(events).all(), fields)
    item_fields = select(WorkItem.item_id, WorkItem.title, WorkItem.type, WorkItem.url, WorkItem.assignee)
    items = _frame(
        connection.execute(item_fields.where(WorkItem.board_id == board_id)).all(),
        ["item_id", "title", "type", "url", "assignee"],
    )
    known = set(workflow.status_to_stage_index())
    by_id = frame["to_status"].isin(known)
    named = frame["to_status_name"].where(frame["to_status_name"].notna(), frame["to_status"])
    frame["to_status"] = np.where(by_id, frame["to_status"], named)
    frame["to_status"] = frame["to_status"].replace("", None)
    frame = frame.merge(items, on="item_id", how="left", sort=False)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601").dt.as_unit("ns")
    for name in [name for name in EVENT_COLUMNS if name != "timestamp"]:
        frame[name] = frame[name].astype("str").where(frame[name].notna())
    return frame[list(EVENT_COLUMNS)].reset_index(drop=True)


def _frame(rows: Any, columns: list[str]) -> pd.DataFrame:
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pd.DataFrame(
        {name: pd.Series(column, dtype=object) for name, column in zip(columns, values, strict=True)}
    )


def assert_identical(quick: pd.DataFrame, before: pd.DataFrame) -> None:
    assert list(quick.columns) == list(before.columns) == list(EVENT_COLUMNS)
    assert quick.dtypes.to_dict() == before.dtypes.to_dict()
    assert str(quick["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert isinstance(quick.index, pd.RangeIndex) and quick.index.equals(before.index)
    pd.testing.assert_frame_equal(quick, before, check_exact=True)
    for name in EVENT_COLUMNS:  # the same missing values, not only equal-looking ones
        assert quick[name].isna().tolist() == before[name].isna().tolist(), name


def _add(engine: Engine, name: str, workflow_yaml: str, path: str = "unused.csv") -> int:
    with store_db.session_factory(engine).begin() as session:
        return add_board(
            session,
            name,
            connector="file",
            settings={"path": path},
            encrypted_secrets=None,
            workflow_yaml=workflow_yaml,
        ).id


def tricky_board(engine: Engine) -> int:
    """Ids and names, '' and NULL statuses, equal instants, microseconds, removed items, events of an item
    never stored, text a CSV would mangle, and a second board whose events must stay out."""
    board_id = _add(engine, "Quick", WORKFLOW)
    other = _add(engine, "Other", WORKFLOW)
    t0 = dt.datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)  # just before the Zurich DST change
    at = [t0 + dt.timedelta(microseconds=n) for n in range(6)]
    events = (
        SourceEvent("Q-2", at[0], "created", to_status="10000", to_status_name="Backlog"),
        SourceEvent("Q-1", at[0], "created", to_status="To Do"),  # same instant: kept in stored order
        SourceEvent("Q-1", at[1], "status", from_status="To Do", to_status="10001", to_status_name="Doing"),
        SourceEvent("Q-2", at[1], "status", from_status="10000", to_status="99", to_status_name="Done"),
        SourceEvent("Q-1", at[2], "blocked", reason='waits for «legal», "quoted"\nnext line'),
        SourceEvent("Q-1", at[3], "unblocked", reason=""),
        SourceEvent("Q-3", at[2], "status", to_status="77"),  # an id with no name, not in the workflow
        SourceEvent("GONE-1", at[4], "created", to_status="10000"),  # its item is removed below
        SourceEvent("ORPHAN", at[5], "status", to_status="Done", to_status_name=""),  # no stored item
        SourceEvent("Q-1", dt.datetime(2025, 1, 1, tzinfo=UTC), "created", to_status="Done"),  # out of order
    )
    items = (
        SourceItem("Q-1", title="Ünïcode title", type="Bug", url="https://x/Q-1", assignee="ana"),
        SourceItem("Q-2", title="", type=None),
        SourceItem("Q-3", title="Three", type="Story"),
        SourceItem("GONE-1", title="Gone"),
    )
    sessions = store_db.session_factory(engine)
    with sessions.begin() as session:
        store_batch(session, board_id, Batch(items=items, events=events, cursor=None))
        store_batch(session, board_id, Batch(items=(), events=(), cursor=None, removed=("GONE-1",)))
        store_batch(session, other, Batch(items=items[:1], events=events[:3], cursor=None))
    return board_id


def test_the_event_log_reads_exactly_as_before(engine, database_url):
    board_id = tricky_board(engine)
    with store_db.session_factory(engine)() as session:
        workflow = board_workflow(get_board(session, "Quick"))
        before = orm_load_events(session, board_id, workflow)
        assert_identical(load_events(session, board_id, workflow), before)
    quick = read_stored_board(database_url, "Quick")
    assert quick is not None
    assert_identical(quick.events, before)
    assert before["item_id"].tolist() == ["Q-1", "Q-2", "Q-1", "Q-1", "Q-2", "Q-1", "Q-3", "Q-1", "ORPHAN"]
    assert before["to_status"].tolist()[:5] == ["Done", "10000", "To Do", "10001", "Done"]
    assert before["to_status"].isna().tolist()[5:] == [True, False, True, False]


def sample_connector(workflow: Workflow) -> FileConnector:
    return FileConnector(FileSettings(path=str(SAMPLE_EVENTS_PATH)), workflow)


def synced_sample_board(engine: Engine) -> tuple[int, Workflow]:
    """The sample board as "Payments", synced once from its file; its id and workflow."""
    board_id = _add(
        engine, "Payments", SAMPLE_WORKFLOW_PATH.read_text(encoding="utf-8"), str(SAMPLE_EVENTS_PATH)
    )
    sessions = store_db.session_factory(engine)
    with sessions() as session:
        workflow = board_workflow(get_board(session, "Payments"))
    sync_board(sessions, board_id, sample_connector(workflow))
    return board_id, workflow


def test_the_sample_board_reads_exactly_as_before(engine, database_url):
    board_id, workflow = synced_sample_board(engine)
    sessions = store_db.session_factory(engine)
    with sessions() as session:
        before = orm_load_events(session, board_id, workflow)
        assert_identical(load_events(session, board_id, workflow), before)
        data = board_data(session, get_board(session, "Payments"))
    quick = read_stored_board(database_url, "Payments")
    assert quick is not None
    assert len(before) > 2000
    assert_identical(quick.events, before)
    assert (quick.name, quick.workflow, quick.thresholds) == (data.name, data.workflow, None)
    assert quick.last_synced_at is not None and quick.last_sync is None


def test_an_empty_board_reads_as_before(engine, database_url):
    board_id = _add(engine, "Empty", WORKFLOW)
    with store_db.session_factory(engine)() as session:
        workflow = board_workflow(get_board(session, "Empty"))
        before = orm_load_events(session, board_id, workflow)
        assert_identical(load_events(session, board_id, workflow), before)
    quick = read_stored_board(database_url, "Empty")
    assert quick is not None and len(quick.events) == 0
    assert_identical(quick.events, before)


def test_the_board_its_settings_and_its_last_sync_read_as_with_the_orm(engine, database_url):
    board_id = _add(engine, "Quick", WORKFLOW)
    sessions = store_db.session_factory(engine)
    settings = {
        "timezone": "America/New_York",
        "wip_limits": {"Doing": 2},
        "thresholds": {"stale_after_hours": 3},
    }
    started = dt.datetime(2026, 5, 1, 8, 0, 0, 123_456, tzinfo=UTC)
    with sessions.begin() as session:
        session.get_one(Board, board_id).coaching_settings = settings
        session.add(SyncRun(board_id=board_id, started_at=started - dt.timedelta(hours=1), status="ok"))
        ended = started + dt.timedelta(seconds=5)
        session.add(
            SyncRun(board_id=board_id, started_at=started, finished_at=ended, status="failed", error="x")
        )
    with sessions() as session:
        board = get_board(session, "Quick")
        data = board_data(session, board)
        last = last_sync_run(session, board_id)
        now = dt.datetime.now(UTC)
        expected = unsynced_warning(board, last, now)
    quick = read_stored_board(database_url, "Quick")
    assert quick is not None
    assert (quick.name, quick.workflow, quick.thresholds) == (data.name, data.workflow, data.thresholds)
    assert quick.workflow.timezone == "America/New_York" and quick.thresholds.stale_after_hours == 3
    assert last is not None and quick.last_sync is not None
    assert (quick.last_sync.status, quick.last_sync.error) == (last.status, last.error)
    assert (quick.last_sync.started_at, quick.last_sync.finished_at) == (last.started_at, last.finished_at)
    assert quick.last_sync.started_at.tzinfo is UTC
    assert unsynced_warning(quick, quick.last_sync, now) == expected
    assert expected is not None and "never synced successfully" in expected


def test_it_steps_aside_when_it_cannot_answer(engine, database_url):
    """No such board, a schema behind the code, an empty database: ``None``, for the ORM path to say why."""
    assert read_stored_board(database_url, "Nope") is None
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    assert read_stored_board(database_url, "Nope") is None
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    assert read_stored_board(database_url, "Nope") is None


def test_urls_it_does_not_open_itself(tmp_path):
    assert read_stored_board("sqlite://", "X") is None
    assert read_stored_board("sqlite:///:memory:", "X") is None
    assert read_stored_board(f"sqlite:///{tmp_path / 'not-yet.db'}", "X") is None
    assert not (tmp_path / "not-yet.db").exists()  # created (and migrated) only the ordinary way


def test_the_head_revision_is_alembics():
    assert head_revision() == store_db.head_revision()


def test_the_local_workspace_is_the_stores():
    from bot.store import boardread, boards

    assert boardread.LOCAL_WORKSPACE == boards.LOCAL_WORKSPACE


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_the_command_line_reads_database_url_as_the_settings_do(monkeypatch, given, expected):
    from bot.cli.database import database_url
    from bot.config import load_settings

    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url() == load_settings().database_url == expected
    monkeypatch.delenv("DATABASE_URL")
    assert database_url() == load_settings().database_url  # from .env or the default, via the settings
