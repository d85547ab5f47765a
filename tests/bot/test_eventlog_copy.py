"""The columnar copy of a board's event log (bot/store/eventlog_copy.py): a read through it gives exactly the
event log the rows give (the ORM read of tests/bot/test_boardread.py is the reference), whatever happened
since the copy was written; anything the copy cannot vouch for is read row by row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot.connectors.base import Batch, SourceEvent, SourceItem
from bot.services.sync import sync_board
from bot.store import db as store_db
from bot.store.boardread import read_stored_board
from bot.store.boards import board_workflow, get_board, remove_board
from bot.store.dbapi import Cursor, placeholder
from bot.store.eventlog_copy import TEXT_COLUMNS, Coded, StoredEvents, decode, encode, stored_events
from bot.store.eventstore import load_events, refresh_event_log_copy, store_batch
from bot.store.models import EventLogCopy
from tests.bot.test_boardread import (
    WORKFLOW,
    _add,
    assert_identical,
    orm_load_events,
    sample_connector,
    synced_sample_board,
    tricky_board,
)

UTC = dt.UTC
T0 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the Zurich fall-back night


class RecordingCursor(Cursor):
    """The DBAPI cursor, with the statements it ran: which way a read went."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        super().__init__(cursor, placeholder)
        self.statements: list[str] = []

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.statements.append(sql)
        return super().rows(sql, params)

    def read_every_row(self) -> bool:
        return any("FROM events WHERE board_id = ? ORDER BY" in sql for sql in self.statements)


def read_way(session: Session, board_id: int) -> tuple[StoredEvents, RecordingCursor, bool]:
    connection = session.connection()
    raw = connection.connection.cursor()
    try:
        cursor = RecordingCursor(raw, str(placeholder(connection.dialect.paramstyle)))
        reading = stored_events(cursor, board_id)
    finally:
        raw.close()
    return reading.events, cursor, reading.copy_is_current


def refresh(engine: Engine, board_id: int) -> bool:
    with store_db.session_factory(engine).begin() as session:
        return refresh_event_log_copy(session, board_id)


def assert_reads_as_the_rows(engine: Engine, database_url: str, name: str) -> None:
    """``load_events`` and the command line's quick read both equal the ORM read of the rows."""
    with store_db.session_factory(engine)() as session:
        board = get_board(session, name)
        workflow = board_workflow(board)
        before = orm_load_events(session, board.id, workflow)
        assert_identical(load_events(session, board.id, workflow), before)
    quick = read_stored_board(database_url, name)
    assert quick is not None
    assert_identical(quick.events, before)


def copy_row(engine: Engine, board_id: int) -> EventLogCopy | None:
    with store_db.session_factory(engine)() as session:
        return session.get(EventLogCopy, board_id)


def test_a_sync_writes_the_copy_and_a_read_takes_it_without_reading_every_row(engine, database_url):
    board_id, workflow = synced_sample_board(engine)
    sessions = store_db.session_factory(engine)
    written = copy_row(engine, board_id)
    assert written is not None
    with sessions() as session:
        count = session.scalar(text("SELECT count(*) FROM events WHERE board_id = :b"), {"b": board_id})
        last = session.scalar(text("SELECT max(id) FROM events WHERE board_id = :b"), {"b": board_id})
        events, cursor, current = read_way(session, board_id)
    assert (written.events, written.last_event_id) == (count, last) and count > 2000
    assert current and len(events) == count and not cursor.read_every_row()
    assert_reads_as_the_rows(engine, database_url, "Payments")

    sync_board(sessions, board_id, sample_connector(workflow))  # nothing new: the copy stays as it was
    again = copy_row(engine, board_id)
    assert again is not None and again.written_at == written.written_at


def test_events_stored_after_the_copy_are_added_in_time_order(engine, database_url):
    board_id = tricky_board(engine)
    assert refresh(engine, board_id)
    later = (
        SourceEvent("Q-9", T0 - dt.timedelta(days=400), "created", to_status="To Do"),  # before them all
        SourceEvent(
            "Q-1", dt.datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC), "status", to_status="Done"
        ),
        SourceEvent("Q-9", T0, "status", from_status="To Do", to_status="10001", to_status_name="Doing"),
        SourceEvent("Q-2", T0, "blocked", reason=None),  # the same instant as the one above: stored order
    )
    items = (SourceItem("Q-9", title="Nine", type="Task"), SourceItem("Q-1", title="renamed", type="Bug"))
    with store_db.session_factory(engine).begin() as session:
        store_batch(session, board_id, Batch(items=items, events=later, cursor=None, removed=("Q-3",)))
    with store_db.session_factory(engine)() as session:
        events, cursor, current = read_way(session, board_id)
    assert not current and not cursor.read_every_row()
    assert any("id > ?" in sql for sql in cursor.statements)
    assert np.all(np.diff(events.timestamps) >= 0)
    assert_reads_as_the_rows(engine, database_url, "Quick")
    assert refresh(engine, board_id) and not refresh(engine, board_id)
    assert_reads_as_the_rows(engine, database_url, "Quick")


def _insert_event(engine: Engine, event_id: int, board_id: int, item: str, when: dt.datetime) -> None:
    with store_db.session_factory(engine).begin() as session:
        session.execute(
            text(
                "INSERT INTO events (id, board_id, item_id, timestamp, event, to_status) "
                "VALUES (:id, :board, :item, :at, 'status', 'Done')"
            ).bindparams(at=when),
            {"id": event_id, "board": board_id, "item": item},
        )


def test_an_event_committed_late_below_the_copy_or_a_deleted_one_sends_the_read_row_by_row(
    engine, database_url
):
    """PostgreSQL hands out ids before commit: an event may commit after the copy with an id below its
    last one. The count tells; so it does for a deleted event."""
    board_id = tricky_board(engine)
    with store_db.session_factory(engine)() as session:
        top = session.scalar(text("SELECT max(id) FROM events"))
    _insert_event(engine, top + 100, board_id, "Q-1", T0)
    assert refresh(engine, board_id)
    _insert_event(engine, top + 50, board_id, "Q-2", T0 + dt.timedelta(hours=1))  # late, below the copy
    with store_db.session_factory(engine)() as session:
        events, cursor, current = read_way(session, board_id)
    assert cursor.read_every_row() and not current
    assert top + 50 in events.ids.tolist()
    assert_reads_as_the_rows(engine, database_url, "Quick")

    assert refresh(engine, board_id)
    with store_db.session_factory(engine).begin() as session:
        session.execute(text("DELETE FROM events WHERE id = :id"), {"id": top + 50})
    with store_db.session_factory(engine)() as session:
        events, cursor, _ = read_way(session, board_id)
    assert cursor.read_every_row() and top + 50 not in events.ids.tolist()
    assert_reads_as_the_rows(engine, database_url, "Quick")


@pytest.mark.parametrize(
    "spoil",
    [
        "UPDATE event_log_copies SET schema_revision = '0010'",  # written before a migration
        "UPDATE event_log_copies SET events = events + 1",
        "UPDATE event_log_copies SET last_event_id = last_event_id + 1",
    ],
)
def test_a_copy_it_cannot_vouch_for_is_read_around_and_the_next_refresh_rewrites_it(
    engine, database_url, spoil
):
    board_id = tricky_board(engine)
    assert refresh(engine, board_id)
    with engine.begin() as connection:
        connection.execute(text(spoil))
    with store_db.session_factory(engine)() as session:
        _, cursor, current = read_way(session, board_id)
    assert cursor.read_every_row() and not current
    assert_reads_as_the_rows(engine, database_url, "Quick")
    assert refresh(engine, board_id)
    with store_db.session_factory(engine)() as session:
        _, cursor, current = read_way(session, board_id)
    assert current and not cursor.read_every_row()


def test_an_unreadable_copy_is_read_around(engine, database_url):
    board_id = tricky_board(engine)
    assert refresh(engine, board_id)
    blob = copy_row(engine, board_id).columns  # type: ignore[union-attr]
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0xFF  # inside the arrays: the zip's checksum no longer matches
    for spoiled in (b"not a copy", bytes(flipped), blob[: len(blob) // 2]):
        with store_db.session_factory(engine).begin() as session:
            session.get_one(EventLogCopy, board_id).columns = spoiled
        with store_db.session_factory(engine)() as session:
            _, cursor, current = read_way(session, board_id)
        assert cursor.read_every_row() and not current
        assert_reads_as_the_rows(engine, database_url, "Quick")


def test_the_workflow_of_the_read_decides_id_or_name_not_the_copys(engine, database_url):
    """The copy keeps both the status id and its name: a workflow changed after it lists the id now."""
    board_id = tricky_board(engine)
    assert refresh(engine, board_id)
    with store_db.session_factory(engine).begin() as session:
        board = get_board(session, "Quick")
        board.workflow_yaml = WORKFLOW.replace('statuses: ["10001"]', 'statuses: ["10001", "99", "77"]')
    assert_reads_as_the_rows(engine, database_url, "Quick")
    with store_db.session_factory(engine)() as session:
        board = get_board(session, "Quick")
        frame = load_events(session, board_id, board_workflow(board))
    assert "99" in frame["to_status"].tolist()  # it read "Done" (the name) before


def test_removing_the_board_removes_its_copy(engine):
    board_id = tricky_board(engine)
    assert refresh(engine, board_id)
    with store_db.session_factory(engine).begin() as session:
        remove_board(session, "Quick")
    with store_db.session_factory(engine)() as session:
        assert session.scalars(select(EventLogCopy.board_id)).all() == []


# Any text a connector may store: NUL, surrogate-free Unicode, '' and NULL alike.
TEXT = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=6))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 2**40), st.integers(-(2**62), 2**62), *(TEXT for _ in TEXT_COLUMNS)),
        max_size=30,
    )
)
def test_encoding_keeps_every_value_and_none(rows):
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    times = np.array([row[1] for row in rows], dtype=np.int64)
    columns = {
        name: np.array([row[2 + n] for row in rows] + [0], dtype=object)[:-1]
        for n, name in enumerate(TEXT_COLUMNS)
    }
    # Split in two and joined again: a copy plus newer events repeats values in its dictionary.
    half = len(rows) // 2
    coded = {
        name: Coded.of(column[:half]).followed_by(Coded.of(column[half:])) for name, column in columns.items()
    }
    back = decode(encode(StoredEvents(ids, times, coded)))
    assert back.ids.tolist() == ids.tolist() and back.timestamps.tolist() == times.tolist()
    for name in TEXT_COLUMNS:
        expected = pd.Series(columns[name], dtype="str")  # as the frame holds it: NULL is NaN, '' stays ''
        pd.testing.assert_series_equal(back.text[name].as_str(), expected, check_exact=True)
        assert back.text[name].as_str().isna().tolist() == [v is None for v in columns[name]], name
        assert len(set(back.text[name].distinct.tolist())) == len(back.text[name].distinct)  # each once


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | st.builds(lambda n: b"PK\x03\x04" + bytes(n), st.integers(0, 200)))
def test_decoding_anything_else_is_a_value_error(data):
    with pytest.raises(ValueError, match="not an event-log copy"):
        decode(data)


STATUSES = ("10000", "To Do", "10001", "99", "77", "Done", "")
NAMES = (None, "", "Backlog", "Doing", "Done")
ITEMS = ("Q-1", "Q-2", "Q-3", "Q-4")


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Batches (events at few distinct instants, so ties are common; items renamed or removed) and
    refreshes of the copy, in any order."""
    steps: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            steps.append(("refresh", None))
            continue
        events = draw(
            st.lists(
                st.builds(
                    SourceEvent,
                    st.sampled_from(ITEMS),
                    st.integers(0, 5).map(lambda n: T0 + dt.timedelta(minutes=30 * n)),
                    st.sampled_from(("status", "created", "blocked")),
                    st.sampled_from((None, *STATUSES)),
                    st.sampled_from(STATUSES),
                    st.sampled_from(NAMES),
                    st.sampled_from((None, "", "waits")),
                ),
                max_size=8,
            )
        )
        items = draw(st.lists(st.builds(SourceItem, st.sampled_from(ITEMS), title=TEXT), max_size=3))
        removed = draw(st.lists(st.sampled_from(ITEMS), max_size=1))
        steps.append(
            ("batch", Batch(items=tuple(items), events=tuple(events), cursor=None, removed=tuple(removed)))
        )
    return steps


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_whatever_was_stored_and_whenever_the_copy_was_written_a_read_is_the_rows(engine, history):
    sessions = store_db.session_factory(engine)
    with sessions.begin() as session:  # a board of its own for each example, on the test's database
        session.execute(text("DELETE FROM boards"))
    board_id = _add(engine, "Quick", WORKFLOW)
    for step, batch in history:
        if step == "refresh":
            refresh(engine, board_id)
        else:
            with sessions.begin() as session:
                store_batch(session, board_id, batch)
        with sessions() as session:
            workflow = board_workflow(get_board(session, "Quick"))
            assert_identical(
                load_events(session, board_id, workflow), orm_load_events(session, board_id, workflow)
            )
