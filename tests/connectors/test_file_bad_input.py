"""Bad event-log files synced into the store, on SQLite and PostgreSQL: each is refused before the database
with the file and line named, nothing of it is stored, and the sync run says why (issue 19 item 3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from bot.connectors.base import Batch, SourceEvent, SourceItem
from bot.connectors.errors import ConnectorError
from bot.connectors.file import FileConnector, FileSettings
from bot.connectors.files import load_workflow
from bot.sample import SAMPLE_WORKFLOW_PATH
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import session_factory
from bot.store.models import Event, SyncRun, WorkItem

HEADER = b"item_id,timestamp,event,from_status,to_status,title\n"
GOOD = b"PAY-1,2026-05-01T10:00:00+02:00,status,Backlog,In Progress,Checkout\n"


def sync_file(engine: Engine, path: Path) -> tuple[int, object]:
    """Add a file board for ``path`` and sync it once; the result, or the error the sync raised."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board_id = add_board(
            session,
            "Payments",
            connector="file",
            settings={"path": str(path)},
            encrypted_secrets=None,
            workflow_yaml=SAMPLE_WORKFLOW_PATH.read_text(encoding="utf-8"),
        ).id
    connector = FileConnector(FileSettings(path=str(path)), load_workflow(SAMPLE_WORKFLOW_PATH))
    try:
        return board_id, sync_board(sessions, board_id, connector)
    except ConnectorError as error:
        return board_id, error


def stored(engine: Engine) -> tuple[int, int]:
    with session_factory(engine)() as session:
        events = session.scalar(select(func.count()).select_from(Event))
        items = session.scalar(select(func.count()).select_from(WorkItem))
    return int(events or 0), int(items or 0)


def last_run(engine: Engine) -> SyncRun:
    with session_factory(engine)() as session:
        return session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()  # type: ignore[return-value]


LONG = "X" * 201


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(
            HEADER + GOOD + b"PAY-2,2026-05-02T10:00:00+02:00,status,Backlog,In \x00Progress,Refund\n",
            ":3: to_status contains a NUL character",
            id="nul-byte",
        ),
        pytest.param(
            HEADER + GOOD + f"{LONG},2026-05-02T10:00:00+02:00,status,Backlog,In Progress,Refund\n".encode(),
            ":3: item_id is 201 characters long; at most 200 can be stored",
            id="201-char-id",
        ),
        pytest.param(
            HEADER + GOOD + f"PAY-2,2026-05-02T10:00:00+02:00,status,Backlog,{LONG},Refund\n".encode(),
            ":3: to_status is 201 characters long; at most 200 can be stored",
            id="201-char-status",
        ),
        pytest.param(
            HEADER + GOOD + b"PAY-2,2026-05-02T10:00:00+02:00,status,Backlog,Done,Refund,extra\n"
            b"PAY-3,2026-05-03T10:00:00+02:00,status,Backlog,Done,Caf\xe9\n",
            ":4: not UTF-8 text",
            id="too-many-fields-then-not-utf8",
        ),
        pytest.param(
            HEADER + GOOD + b"PAY-1,2026-05-03T10:00:00+02:00,status,In Progress,Done,Checkout\n"
            b"PAY-1,2026-05-02T10:00:00+02:00,status,Backlog",
            ":4: the file ends in the middle of this row",
            id="truncated-last-line",
        ),
    ],
)
def test_a_bad_file_is_refused_by_line_and_nothing_is_stored(engine, tmp_path, content, message):
    """Each used to pass the reader and fail in PostgreSQL (a SQL dump, no line), to be stored as it was on
    SQLite, or to end in an internal UnicodeDecodeError; a cut-off file stored its last half row."""
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    _, outcome = sync_file(engine, path)
    assert isinstance(outcome, ConnectorError), outcome
    assert f"{path}{message}" in str(outcome)
    assert "INSERT" not in str(outcome) and "\x00" not in str(outcome)
    assert stored(engine) == (0, 0)
    run = last_run(engine)
    assert run.status == "failed" and f"{path}{message}" in (run.error or "")


@pytest.mark.parametrize("content", [b"", HEADER], ids=["empty", "header-only"])
def test_a_file_without_events_syncs_with_a_warning(engine, tmp_path, content):
    """An empty file used to sync as a silent success; it now says that it held no events."""
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    _, outcome = sync_file(engine, path)
    assert not isinstance(outcome, Exception), outcome
    assert outcome.warnings == (f"{path}: no events in the file",)  # type: ignore[attr-defined]
    assert stored(engine) == (0, 0)


def test_a_complete_last_line_without_a_newline_is_accepted(engine, tmp_path):
    """Only a short last row is taken for a cut-off file: a whole one without a final newline is fine."""
    path = tmp_path / "events.csv"
    path.write_bytes(HEADER + GOOD.rstrip(b"\n"))
    _, outcome = sync_file(engine, path)
    assert not isinstance(outcome, Exception), outcome
    assert stored(engine) == (1, 1)


WHEN = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("item", "event", "message"),
    [
        (SourceItem("A" * 201), SourceEvent("A" * 201, WHEN, to_status="Done"), "item id is 201 characters"),
        (SourceItem("A", status="S" * 201), None, "status is 201 characters"),
        (SourceItem("A", type="T" * 101), None, "type is 101 characters"),
        (SourceItem("A", assignee="Ann\x00"), None, "assignee contains a NUL character"),
        (SourceItem("A", title="Fix\x00"), None, "title contains a NUL character"),
        (None, SourceEvent("A", WHEN, to_status="Done", reason="r\x00"), "reason contains a NUL character"),
        (None, SourceEvent("A", WHEN, from_status="F" * 201, to_status="D"), "from_status is 201 characters"),
        (None, SourceEvent("A", WHEN, to_status="D", to_status_name="N" * 201), "to_status_name is 201"),
    ],
)
def test_a_connector_batch_that_does_not_fit_the_store_is_refused_before_the_database(
    engine, tmp_path, item, event, message
):
    """Any connector's values are checked against the columns they go to; nothing of the batch is stored."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board_id = add_board(
            session,
            "Payments",
            connector="file",
            settings={"path": str(tmp_path / "x.csv")},
            encrypted_secrets=None,
            workflow_yaml=SAMPLE_WORKFLOW_PATH.read_text(encoding="utf-8"),
        ).id
    good = SourceEvent("B", WHEN, to_status="Done")

    class OneBatch:
        def fetch(self, cursor, progress=None):
            items = (SourceItem("B"),) + (() if item is None else (item,))
            yield Batch(items=items, events=(good,) + (() if event is None else (event,)), cursor="c")

        def close(self) -> None:
            pass

    with pytest.raises(ConnectorError) as raised:
        sync_board(sessions, board_id, OneBatch())  # type: ignore[arg-type]
    assert message in str(raised.value) and "item 'A" in str(raised.value)
    assert "\x00" not in str(raised.value)
    assert stored(engine) == (0, 0)


def test_the_limits_checked_are_the_lengths_of_the_columns():
    """The checks and the schema cannot drift apart: every field a connector delivers is checked against the
    column it is stored in (no limit for text columns, whose only refusal is a NUL character)."""
    from sqlalchemy import String, Text

    from bot.connectors.base import EVENT_LIMITS, ITEM_LIMITS
    from bot.store.models import Event, WorkItem

    for model, limits in ((WorkItem, ITEM_LIMITS), (Event, EVENT_LIMITS)):
        for name, limit in limits.items():
            column_type = model.__table__.c[name].type
            assert isinstance(column_type, Text if limit is None else String), name
            assert getattr(column_type, "length", None) == limit, name
    text_columns = {column.name for column in WorkItem.__table__.c if isinstance(column.type, String)}
    assert text_columns - {"item_id"} == set(ITEM_LIMITS) - {"item_id"}
