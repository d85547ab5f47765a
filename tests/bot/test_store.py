"""The store on SQLite and PostgreSQL: migrations, idempotent upserts, resumable syncs, metrics parity."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, func, select

from analytics.document import metrics_document
from analytics.measures import board_metrics
from bot.connectors import file as file_connector
from bot.connectors.base import Batch, SourceEvent, SourceItem
from bot.connectors.file import FileConnector, FileSettings
from bot.connectors.files import load_workflow, read_event_log
from bot.sample import SAMPLE_ASOF, SAMPLE_EVENTS_PATH, SAMPLE_WORKFLOW_PATH
from bot.services.sync import sync_board
from bot.store.boards import add_board, board_workflow, get_board
from bot.store.db import MIGRATIONS, current_revision, session_factory, upgrade
from bot.store.eventstore import load_events, store_batch
from bot.store.models import Base, Board, Event, SyncRun

UTC = dt.UTC


def sample_board(engine: Engine) -> int:
    with session_factory(engine).begin() as session:
        board = add_board(
            session,
            "Payments",
            connector="file",
            settings={"path": str(SAMPLE_EVENTS_PATH)},
            encrypted_secrets=None,
            workflow_yaml=SAMPLE_WORKFLOW_PATH.read_text(encoding="utf-8"),
        )
        return board.id


HEAD = sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py"))[-1].split("_")[0]


def file_connector_for(engine: Engine, board_id: int) -> FileConnector:
    with session_factory(engine)() as session:
        board = session.get_one(Board, board_id)
        return FileConnector(FileSettings(path=board.connector_settings["path"]), board_workflow(board))


def test_migrations_create_exactly_the_models(engine):
    """After `db upgrade` the schema equals the models: no migration is missing."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": not_the_job_queue})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
    assert current_revision(engine) == HEAD


def not_the_job_queue(name: str | None, type_: str, _parents: object) -> bool:
    """procrastinate's tables are its schema, not our models (tests/scheduler checks them by use)."""
    return not (type_ == "table" and str(name).startswith(JOB_QUEUE_PREFIX))


JOB_QUEUE_PREFIX = "procrastinate_"


def test_the_job_queue_migration_applies_to_an_existing_database_and_reverts(engine):
    """From 0005 with a board in it: up to the head (job slots; on PostgreSQL procrastinate's schema, with
    its functions), down to 0005 (all of it gone, APScheduler's old table back), and up again."""
    from alembic import command
    from sqlalchemy import inspect as inspect_schema
    from sqlalchemy import text

    from bot.store.db import alembic_config

    command.downgrade(alembic_config(engine), "0005")
    sample_board(engine)
    postgres = engine.dialect.name == "postgresql"

    def tables() -> set[str]:
        return set(inspect_schema(engine).get_table_names())

    def queue_functions() -> int:
        with engine.connect() as connection:
            return int(
                connection.scalar(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'procrastinate%'"))
            )

    assert "job_slots" not in tables() and "apscheduler_jobs" in tables()
    upgrade(engine)
    assert "job_slots" in tables() and "apscheduler_jobs" not in tables()
    assert ("procrastinate_jobs" in tables()) is postgres
    if postgres:
        assert queue_functions() > 10
    command.downgrade(alembic_config(engine), "0005")
    assert not {name for name in tables() if name.startswith(JOB_QUEUE_PREFIX)}
    assert "job_slots" not in tables() and "apscheduler_jobs" in tables()
    if postgres:
        assert queue_functions() == 0
    upgrade(engine)
    assert current_revision(engine) == HEAD
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Board)) == 1


def test_slots_delivered_late_before_0010_keep_how_late_from_their_note(engine):
    """0010 moves "12 min late" from the note into ``late_by_s``; other notes stay without."""
    from alembic import command
    from sqlalchemy import text

    from bot.store.db import alembic_config

    command.downgrade(alembic_config(engine), "0009")
    board_id = sample_board(engine)
    with engine.begin() as connection:
        for slot, note in (("a", "12 min late"), ("b", "found in the channel after an interrupted post")):
            connection.execute(
                text(
                    "INSERT INTO job_slots (kind, board_id, slot, due_at, state, dispatched_at, dispatches, "
                    "note, parts_done) VALUES ('digest', :board, :slot, :at, 'delivered', :at, 1, :note, 0)"
                ),
                {"board": board_id, "slot": slot, "at": dt.datetime(2026, 12, 1, tzinfo=UTC), "note": note},
            )
    upgrade(engine)
    with engine.connect() as connection:
        late = dict(connection.execute(text("SELECT slot, late_by_s FROM job_slots")).all())
    assert late == {"a": 720, "b": None}


def test_upgrade_twice_is_harmless(engine):
    """Running the release step again changes nothing."""
    upgrade(engine)
    assert current_revision(engine) == HEAD


def test_redelivered_events_are_stored_once(engine):
    """The same batch twice adds its events once; attributes follow the latest delivery."""
    sessions = session_factory(engine)
    board_id = sample_board(engine)
    stamp = dt.datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    events = (
        SourceEvent("A", stamp, "created", to_status="To Do"),
        SourceEvent("A", stamp + dt.timedelta(hours=1), "blocked", reason="waiting"),
        SourceEvent("A", stamp + dt.timedelta(hours=2), "unblocked"),
    )
    first = Batch(items=(SourceItem("A", title="Old"),), events=events, cursor="c1")
    second = Batch(items=(SourceItem("A", title="New"),), events=events, cursor="c2")
    with sessions.begin() as session:
        assert store_batch(session, board_id, first) == 3
    with sessions.begin() as session:
        assert store_batch(session, board_id, second) == 0
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 3
        frame = load_events(session, board_id, board_workflow(get_board(session, "Payments")))
    assert list(frame["event"]) == ["created", "blocked", "unblocked"]
    assert set(frame["title"]) == {"New"}
    assert frame["timestamp"].iloc[0] == pd.Timestamp(stamp)
    assert str(frame["timestamp"].dtype) == "datetime64[ns, UTC]"


def test_removed_items_leave_the_metrics(engine):
    """An item the source no longer has (deleted or moved) is not part of the board's event log."""
    sessions = session_factory(engine)
    board_id = sample_board(engine)
    stamp = dt.datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    events = tuple(SourceEvent(item, stamp, "status", to_status="In Development") for item in "AB")
    with sessions.begin() as session:
        store_batch(
            session, board_id, Batch(items=(SourceItem("A"), SourceItem("B")), events=events, cursor=None)
        )
        store_batch(session, board_id, Batch(items=(), events=(), cursor=None, removed=("B",)))
    with sessions() as session:
        frame = load_events(session, board_id, board_workflow(get_board(session, "Payments")))
    assert list(frame["item_id"]) == ["A"]


def test_metrics_from_the_store_equal_metrics_from_the_file(engine):
    """Syncing the sample board and computing from the store gives the same document as the file."""
    board_id = sample_board(engine)
    result = sync_board(session_factory(engine), board_id, file_connector_for(engine, board_id))
    assert result.events_added > 2000
    workflow = load_workflow(SAMPLE_WORKFLOW_PATH)
    asof = pd.Timestamp(SAMPLE_ASOF)
    with session_factory(engine)() as session:
        stored = load_events(session, board_id, workflow)
    from_file = read_event_log(SAMPLE_EVENTS_PATH, workflow).events
    assert metrics_document(board_metrics(stored, workflow, asof)) == metrics_document(
        board_metrics(from_file, workflow, asof)
    )


def test_unchanged_file_syncs_nothing(engine):
    """A second sync of an unchanged file fetches no batch and adds nothing."""
    board_id = sample_board(engine)
    sessions = session_factory(engine)
    sync_board(sessions, board_id, file_connector_for(engine, board_id))
    again = sync_board(sessions, board_id, file_connector_for(engine, board_id))
    assert (again.batches, again.events_added) == (0, 0)


def test_sync_killed_mid_way_resumes_without_loss_or_duplicates(engine, monkeypatch):
    """An interrupted sync keeps its committed batches and says it was interrupted; the next one completes
    exactly."""
    monkeypatch.setattr(file_connector, "EVENTS_PER_BATCH", 500)
    board_id = sample_board(engine)
    sessions = session_factory(engine)

    class Interrupted(FileConnector):
        def fetch(self, cursor, progress=None):
            for number, batch in enumerate(super().fetch(cursor, progress)):
                if number == 2:
                    raise KeyboardInterrupt
                yield batch

    with pytest.raises(KeyboardInterrupt):
        sync_board(
            sessions,
            board_id,
            Interrupted(FileSettings(path=str(SAMPLE_EVENTS_PATH)), load_workflow(SAMPLE_WORKFLOW_PATH)),
        )
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 1000
        run = session.scalars(select(SyncRun)).one()
        assert run.status == "interrupted" and run.error == "stopped by KeyboardInterrupt"
    sync_board(sessions, board_id, file_connector_for(engine, board_id))
    expected = len(read_event_log(SAMPLE_EVENTS_PATH, load_workflow(SAMPLE_WORKFLOW_PATH)).events)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == expected


def test_timestamps_come_back_aware_and_naive_ones_are_refused(engine):
    """The store keeps UTC instants and refuses naive datetimes instead of guessing their zone."""
    sessions = session_factory(engine)
    board_id = sample_board(engine)
    zurich = dt.timezone(dt.timedelta(hours=1))
    event = SourceEvent("A", dt.datetime(2026, 1, 5, 10, 0, tzinfo=zurich), to_status="Done")
    with sessions.begin() as session:
        store_batch(session, board_id, Batch(items=(), events=(event,), cursor=None))
    with sessions() as session:
        stored = session.scalars(select(Event.timestamp)).one()
    assert stored == dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC) and stored.tzinfo is not None
    naive = SourceEvent("B", dt.datetime(2026, 1, 5, 10, 0), to_status="Done")
    with pytest.raises(ValueError, match="aware"), sessions.begin() as session:
        store_batch(session, board_id, Batch(items=(), events=(naive,), cursor=None))
