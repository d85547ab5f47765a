"""Syncing Jira into the store: an interrupted backfill resumes exactly; stored metrics equal a file's."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.files import read_event_log
from bot.connectors.http import HttpOptions
from bot.connectors.jira_cloud import JiraCloudConnector, JiraCloudSettings
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from bot.store.models import Event, SyncRun
from tests.fakes.jira import DEFAULT_WORKFLOW_YAML as WORKFLOW
from tests.fakes.jira import FakeJira

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def jira():
    with FakeJira("cloud") as fake:
        fake.add_issues(23, changes=6, start=T0, spacing=dt.timedelta(hours=7))
        yield fake


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def new_board(sessions, name="Team"):
    with sessions.begin() as session:
        return add_board(
            session, name, connector="jira", settings={}, encrypted_secrets=None, workflow_yaml=WORKFLOW
        ).id


def connector(jira, **options):
    settings = JiraCloudSettings(url=jira.url, email=jira.email, token=jira.token, project=jira.project)
    return JiraCloudConnector(settings, http=HttpOptions(sleep=lambda _seconds: None), **options)


def event_count(sessions, board_id):
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.board_id == board_id))


def test_interrupted_backfill_resumes_without_loss_or_duplicates(sessions, jira):
    """Killed after the first page, the next sync completes the board exactly as one clean sync does."""
    clean_board, killed_board = new_board(sessions, "Clean"), new_board(sessions, "Killed")
    with connector(jira, page_size=5) as clean:
        sync_board(sessions, clean_board, clean)

    class KilledAfterOnePage(JiraCloudConnector):
        def fetch(self, cursor, progress=None):
            for number, batch in enumerate(super().fetch(cursor, progress)):
                if number == 1:
                    raise KeyboardInterrupt
                yield batch

    settings = JiraCloudSettings(url=jira.url, email=jira.email, token=jira.token, project=jira.project)
    with pytest.raises(KeyboardInterrupt), KilledAfterOnePage(settings, page_size=5) as killed:
        sync_board(sessions, killed_board, killed)
    partial = event_count(sessions, killed_board)
    assert 0 < partial < event_count(sessions, clean_board)
    with connector(jira, page_size=5) as resumed:
        sync_board(sessions, killed_board, resumed)
    assert event_count(sessions, killed_board) == event_count(sessions, clean_board) == 23 * 7
    with sessions() as session:
        statuses = [
            run.status for run in session.scalars(select(SyncRun).where(SyncRun.board_id == killed_board))
        ]
    assert statuses == ["interrupted", "ok"]


def test_rate_limit_and_server_errors_are_retried_into_a_complete_sync(sessions, jira):
    """429 with Retry-After and a 500 on the way are retried; the sync still stores everything once."""
    board = new_board(sessions)
    jira.fail("/rest/api/3/search/jql", 429, headers={"Retry-After": "2"})
    jira.fail("/rest/api/3/changelog/bulkfetch", 500)
    waits: list[float] = []
    settings = JiraCloudSettings(url=jira.url, email=jira.email, token=jira.token, project=jira.project)
    with JiraCloudConnector(settings, http=HttpOptions(sleep=waits.append)) as source:
        sync_board(sessions, board, source)
    assert 2.0 in waits
    assert event_count(sessions, board) == 23 * 7


def test_metrics_from_the_store_equal_metrics_from_the_same_events_in_a_file(sessions, jira, tmp_path):
    """The events a Jira sync stores, written to a CSV, give the same metrics document as the store."""
    board = new_board(sessions)
    with connector(jira) as source:
        sync_board(sessions, board, source)
    workflow = parse_workflow(WORKFLOW)
    with sessions() as session:
        stored = load_events(session, board, workflow)
    path = tmp_path / "events.csv"
    with connector(jira) as source, path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "from_status", "to_status"])
        for batch in source.fetch(None):
            for event in batch.events:
                name = event.to_status_name or event.to_status or ""
                writer.writerow([event.item_id, event.timestamp.isoformat(), event.event, "", name])
    from_file = read_event_log(path, workflow).events
    asof = pd.Timestamp("2026-01-20T00:00Z")
    assert metrics_document(board_metrics(stored, workflow, asof)) == metrics_document(
        board_metrics(from_file, workflow, asof)
    )
    assert board_metrics(stored, workflow, asof).throughput_total > 0
