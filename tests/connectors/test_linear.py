"""The Linear connector against the fake Linear GraphQL API on 127.0.0.1 (tests/fakes/linear.py)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.base import Batch, SourceEvent, SourceStatus
from bot.connectors.cursor import KeySet
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, RateLimited
from bot.connectors.files import read_event_log
from bot.connectors.http import HttpOptions
from bot.connectors.linear import LinearConnector, LinearSettings
from bot.connectors.linear_events import SyncState
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from bot.store.models import Event, SyncRun
from tests.fakes.linear import DEFAULT_WORKFLOW_YAML, FakeLinear, FakeState, fake_id

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
BACKLOG, TODO, DOING, REVIEW, DONE, CANCELED = (fake_id("state", n) for n in range(1, 7))


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


class Clock:
    """A settable clock for the sweep schedule and rate-limit resets."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def linear() -> Iterator[FakeLinear]:
    with FakeLinear() as fake:
        yield fake


@pytest.fixture
def connect() -> Iterator[Callable[..., LinearConnector]]:
    """Make connectors for the fake (team PAY, no real sleeping, a fixed clock), closed after the test."""
    opened: list[LinearConnector] = []

    def make(linear: FakeLinear, **options: Any) -> LinearConnector:
        settings = options.pop("settings", None) or LinearSettings(
            team_key="PAY", api_key=linear.api_key, api_url=linear.url
        )
        sleeps: list[float] = options.pop("sleeps", [])
        options.setdefault("clock", Clock())
        http = replace(options.pop("http", HttpOptions()), sleep=sleeps.append)
        connector = LinearConnector(settings, None, http=http, **options)
        opened.append(connector)
        return connector

    yield make
    for connector in opened:
        connector.close()


def sync(connector: LinearConnector, cursor: str | None = None) -> list[Batch]:
    return list(connector.fetch(cursor))


def events_of(batches: list[Batch]) -> list[SourceEvent]:
    """Every event, by issue number then time (batches follow `updatedAt`, newest first)."""
    events = [event for batch in batches for event in batch.events]
    return sorted(events, key=lambda e: (int(e.item_id.split("-")[1]), e.timestamp))


def identity(event: SourceEvent) -> tuple[object, ...]:
    """What the store deduplicates events by."""
    return (event.item_id, event.timestamp, event.event, event.to_status)


def without_nones(events: list[SourceEvent]) -> list[dict[str, object]]:
    return [{k: v for k, v in asdict(event).items() if v is not None} for event in events]


def two_issues(linear: FakeLinear) -> None:
    """PAY-1: Todo → In Progress → (title edited) → Done; PAY-2: created, never moved."""
    linear.add_issue(h(0), [(h(1), "In Progress"), (h(5), "Done")], assignee="Bea", labels=("Bug",))
    linear.edit("PAY-1", h(2), "Renamed")
    linear.add_issue(h(4), title="Untouched", labels=())


EXPECTED = [
    {"item_id": "PAY-1", "timestamp": h(0), "event": "created", "to_status": TODO, "to_status_name": "Todo"},
    {"item_id": "PAY-1", "timestamp": h(1), "event": "status", "from_status": TODO, "to_status": DOING,
     "to_status_name": "In Progress"},
    {"item_id": "PAY-1", "timestamp": h(5), "event": "status", "from_status": DOING, "to_status": DONE,
     "to_status_name": "Done"},
    {"item_id": "PAY-2", "timestamp": h(4), "event": "created", "to_status": TODO, "to_status_name": "Todo"},
]  # fmt: skip


def test_backfill_delivers_items_and_events_in_the_contract_shape(linear, connect):
    """A backfill yields created and status events with state ids and names; edits are not events."""
    two_issues(linear)
    batches = sync(connect(linear))
    assert without_nones(events_of(batches)) == EXPECTED
    assert all(event.timestamp.tzinfo is not None for event in events_of(batches))
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["PAY-1"].title == "Renamed" and items["PAY-1"].assignee == "Bea"
    assert (
        items["PAY-1"].status == "Done" and items["PAY-1"].type == "Bug" and items["PAY-1"].created_at == h(0)
    )
    assert items["PAY-1"].url == "https://linear.app/acme/issue/PAY-1/renamed"
    assert items["PAY-2"].type is None and items["PAY-2"].assignee is None and items["PAY-2"].status == "Todo"
    [request, *_] = linear.requests
    assert request.variables["filter"] == {"team": {"key": {"eq": "PAY"}}}
    assert request.authorization == linear.api_key  # a personal key goes without "Bearer"


def test_created_event_starts_in_the_state_before_the_first_change(linear, connect):
    """The created event's status is the fromState of the earliest state change, not the current state."""
    linear.add_issue(h(0), [(h(1), "In Review"), (h(2), "Done")], initial="In Progress")
    [created, *_] = events_of(sync(connect(linear)))
    assert (created.event, created.to_status, created.to_status_name) == (
        "created",
        DOING,
        "In Progress",
    )


def test_a_history_longer_than_the_inline_page_is_read_over_several_pages(linear, connect):
    """40 state changes and 5 edits with 4 history entries inline: follow-up pages deliver all 40."""
    moves = [(h(i + 1), "In Progress" if i % 2 == 0 else "In Review") for i in range(40)]
    linear.add_issue(h(0), moves)
    for n in range(5):
        linear.edit("PAY-1", h(1.5 + n), f"Title {n}")
    linear.add_issue(h(0.5), [(h(50), "Done")])
    events = events_of(sync(connect(linear, history_page=4)))
    statuses = [e for e in events if e.item_id == "PAY-1" and e.event == "status"]
    assert [e.timestamp for e in statuses] == [h(i + 1) for i in range(40)]
    assert events[0].to_status == TODO and statuses[-1].to_status == REVIEW
    assert [e.to_status for e in events if e.item_id == "PAY-2"] == [TODO, DONE]
    # 45 entries: 4 inline, then pages of 100 — one follow-up for PAY-1, none for PAY-2.
    assert linear.count("IssueHistory") == 1
    [follow_up] = [r.variables for r in linear.requests if r.operation == "IssueHistory"]
    assert follow_up["id"] == linear.issues["PAY-1"].id and follow_up["after"]


def test_one_batch_per_page_each_with_a_resumable_cursor(linear, connect):
    """23 issues at 10 a page come as three batches; every cursor but the last names the next page."""
    linear.add_issues(23, changes=2, start=T0, spacing=dt.timedelta(minutes=10))
    batches = sync(connect(linear, page_size=10))
    assert [len(batch.items) for batch in batches] == [10, 10, 3]
    cursors = [json.loads(batch.cursor or "") for batch in batches]
    assert cursors[0]["paging"]["since"] is None and cursors[0]["paging"]["after"]
    assert cursors[-1]["paging"] is None and cursors[-1]["known"] == {"PAY": "1-23"}
    assert linear.count("Issues") == 3
    assert [r.variables["after"] for r in linear.requests][1:] == [c["paging"]["after"] for c in cursors[:2]]


def test_a_killed_sync_resumes_without_losing_or_duplicating(linear, connect):
    """Stopping after the first batch and restarting from its cursor delivers every event exactly once."""
    linear.add_issues(25, changes=3, start=T0, spacing=dt.timedelta(minutes=10))
    full = events_of(sync(connect(linear, page_size=10)))
    first = next(connect(linear, page_size=10).fetch(None))
    rest = sync(connect(linear, page_size=10), first.cursor)
    resumed = [identity(e) for e in list(first.events) + events_of(rest)]
    assert len(resumed) == len(set(resumed)) == len(full) == 25 * 4
    assert set(resumed) == {identity(e) for e in full}


def test_incremental_sync_with_nothing_changed_delivers_nothing(linear, connect):
    """Re-syncing an unchanged team is one issues query from the newest update minus the overlap."""
    linear.add_issues(12, changes=3, start=T0, spacing=dt.timedelta(minutes=10))
    connector = connect(linear)
    cursor = sync(connector)[-1].cursor
    linear.clear_requests()
    assert sync(connector, cursor) == []
    [request] = linear.requests
    newest = max(issue.updated for issue in linear.issues.values())
    since = (newest - dt.timedelta(minutes=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert request.variables["filter"]["updatedAt"] == {"gte": since}


def test_incremental_sync_after_one_change_delivers_just_that_issue(linear, connect):
    """One moved issue comes back alone with its new event; the next sync is empty again."""
    linear.add_issues(12, changes=3, start=T0, spacing=dt.timedelta(minutes=10))
    connector = connect(linear)
    cursor = sync(connector)[-1].cursor
    linear.move("PAY-7", "Canceled", h(500))
    [batch] = sync(connector, cursor)
    assert [item.item_id for item in batch.items] == ["PAY-7"]
    assert batch.events[-1].to_status == CANCELED and batch.events[-1].timestamp == h(500)
    assert sync(connector, batch.cursor) == []


def test_an_issue_updated_during_a_backfill_is_caught_by_the_next_sync(linear, connect):
    """An issue that moves to the front of the updatedAt order mid-backfill is delivered next time."""
    linear.add_issues(20, changes=1, start=T0, spacing=dt.timedelta(minutes=10))
    connector = connect(linear, page_size=10)
    batches = connector.fetch(None)
    first = next(batches)
    oldest = min(linear.issues.values(), key=lambda issue: issue.updated).identifier
    linear.move(oldest, "In Review", h(900))  # not read yet; now it sorts before the pages already read
    rest = list(batches)
    later = sync(connector, rest[-1].cursor)
    events = [identity(e) for e in list(first.events) + events_of(rest) + events_of(later)]
    assert (oldest, h(900), "status", REVIEW) in events and len(set(events)) == 20 * 2 + 1


def test_rate_limited_answers_wait_until_the_reset_linear_names(linear, connect):
    """RATELIMITED (HTTP 400, then 429) waits until X-RateLimit-Requests-Reset and carries on."""
    two_issues(linear)
    linear.rate_limit(NOW + dt.timedelta(seconds=7), operation="Issues")
    linear.rate_limit(NOW + dt.timedelta(seconds=2.5), operation="Issues", status=429)
    sleeps: list[float] = []
    batches = sync(connect(linear, sleeps=sleeps))
    assert sleeps == [7.0, 2.5] and without_nones(events_of(batches)) == EXPECTED
    linear.rate_limit(NOW + dt.timedelta(seconds=1), times=None)
    with pytest.raises(RateLimited, match="Linear is still rate-limiting"):
        sync(connect(linear, http=HttpOptions(max_retries=2)))


def test_server_errors_are_retried_with_backoff(linear, connect):
    """Two 502s on the issues query are retried after 1 s and 2 s; the sync is complete."""
    two_issues(linear)
    linear.fail(502, operation="Issues", times=2)
    sleeps: list[float] = []
    assert without_nones(events_of(sync(connect(linear, sleeps=sleeps)))) == EXPECTED
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_key_is_bad_credentials_without_the_key_in_the_message(linear, connect, status):
    """AUTHENTICATION_ERROR (as HTTP 400 or 401) raises BadCredentials that says what to do."""
    linear.auth_status = status
    settings = LinearSettings(team_key="PAY", api_key="lin_api_wrongwrongwrong", api_url=linear.url)
    connector = connect(linear, settings=settings)
    with pytest.raises(BadCredentials, match="refused the API key") as refused:
        connector.check()
    assert "wrongwrong" not in str(refused.value)
    with pytest.raises(BadCredentials):
        sync(connector)


def test_forbidden_is_no_permission(linear, connect):
    """FORBIDDEN (HTTP 400) and a bare HTTP 403 both raise NoPermission naming the team."""
    two_issues(linear)
    linear.readable = False
    with pytest.raises(NoPermission, match="may not read this team"):
        connect(linear).check()
    linear.readable = True
    linear.fail(403, operation="Issues")
    with pytest.raises(NoPermission, match="team PAY"):
        sync(connect(linear))


def test_an_oauth_token_is_sent_as_a_bearer_token(linear, connect):
    """A lin_oauth_ token goes as `Bearer <token>` and works; as a raw key it would be refused."""
    settings = LinearSettings(team_key="PAY", api_key=linear.oauth_token, api_url=linear.url)
    assert connect(linear, settings=settings).check().endswith("as Ann Lead")
    assert linear.requests[-1].authorization == f"Bearer {linear.oauth_token}"
    raw = LinearSettings(team_key="PAY", api_key=linear.oauth_token, api_url=linear.url, auth="api_key")
    with pytest.raises(BadCredentials):
        connect(linear, settings=raw).check()


def test_check_describes_team_workspace_project_and_account(linear, connect):
    """check() names the team, workspace, project and user; an unknown team or project is NotFound."""
    assert connect(linear).check() == "Linear team 'Payments' (PAY) of Acme, as Ann Lead"
    settings = LinearSettings(team_key="pay", project="checkout", api_key=linear.api_key, api_url=linear.url)
    assert connect(linear, settings=settings).check() == (
        "Linear team 'Payments' (PAY) of Acme, project 'Checkout', as Ann Lead"
    )
    unknown = LinearSettings(team_key="NOPE", api_key=linear.api_key, api_url=linear.url)
    with pytest.raises(NotFound, match="no team with key NOPE"):
        connect(linear, settings=unknown).check()
    missing = LinearSettings(team_key="PAY", project="Nope", api_key=linear.api_key, api_url=linear.url)
    with pytest.raises(NotFound, match="no project 'Nope'"):
        connect(linear, settings=missing).check()


def test_a_project_board_syncs_only_that_projects_issues(linear, connect):
    """With a project setting only its issues come, filtered by Linear, by name or by id."""
    linear.add_issue(h(0), project="Checkout")
    linear.add_issue(h(1))
    for project in ("Checkout", fake_id("project", 1)):
        settings = LinearSettings(team_key="PAY", project=project, api_key=linear.api_key, api_url=linear.url)
        items = [item.item_id for batch in sync(connect(linear, settings=settings)) for item in batch.items]
        assert items == ["PAY-1"]


def test_statuses_come_with_categories_from_linear_state_types(linear, connect):
    """Backlog and unstarted are new, started is in progress, completed and canceled are done (canceled
    marked discarded, for the proposed workflow)."""
    assert connect(linear).statuses() == [
        SourceStatus(BACKLOG, "Backlog", "new"),
        SourceStatus(TODO, "Todo", "new"),
        SourceStatus(DOING, "In Progress", "indeterminate"),
        SourceStatus(REVIEW, "In Review", "indeterminate"),
        SourceStatus(DONE, "Done", "done"),
        SourceStatus(CANCELED, "Canceled", "done", discarded=True),
    ]


def test_a_duplicate_state_is_proposed_as_discarded_like_canceled(connect):
    """Linear's "duplicate" type closes an issue without delivering it: done, discarded, and ordered with
    canceled (before, it was an unknown type and so in progress forever)."""
    states = (
        FakeState(TODO, "Todo", "unstarted", 0),
        FakeState(fake_id("state", 7), "Duplicate", "duplicate", 0),
        FakeState(DONE, "Done", "completed", 0),
    )
    with FakeLinear(states=states) as linear:
        assert connect(linear).statuses() == [
            SourceStatus(TODO, "Todo", "new"),
            SourceStatus(DONE, "Done", "done"),
            SourceStatus(fake_id("state", 7), "Duplicate", "done", discarded=True),
        ]


def test_an_archived_issue_keeps_its_archived_history(linear, connect):
    """Linear archives an issue's history with the issue: the history is asked with includeArchived, so
    an archived issue still arrives with every move, inline and on follow-up pages."""
    moves = [(h(n + 1), "In Progress" if n % 2 == 0 else "In Review") for n in range(5)] + [(h(9), "Done")]
    linear.add_issue(h(0), moves)
    linear.archive("PAY-1", h(20))
    events = events_of(sync(connect(linear, history_page=2)))
    assert [e.timestamp for e in events] == [h(0), h(1), h(2), h(3), h(4), h(5), h(9)]
    assert events[-1].to_status == DONE


def test_deleted_issues_are_removed_and_archived_ones_kept(linear, connect):
    """A trashed issue comes back as removed; an archived (auto-closed) one is still synced, not removed."""
    linear.add_issues(3, changes=1, start=T0, spacing=dt.timedelta(minutes=10))
    linear.archive("PAY-1", h(100))
    connector = connect(linear)
    backfill = sync(connector)
    assert sorted(item.item_id for batch in backfill for item in batch.items) == ["PAY-1", "PAY-2", "PAY-3"]
    linear.delete("PAY-2", h(200))
    [batch] = sync(connector, backfill[-1].cursor)
    assert batch.removed == ("PAY-2",) and batch.items == () and batch.events == ()


def test_sweep_reports_purged_issues_and_delivers_unseen_ones(linear, connect):
    """After a day the sweep lists the identifiers: a purged issue is removed, a never-seen one fetched."""
    linear.add_issues(4, changes=1, start=T0, spacing=dt.timedelta(minutes=10))
    linear.archive("PAY-4", h(300))
    clock = Clock()
    connector = connect(linear, clock=clock)
    cursor = sync(connector)[-1].cursor
    linear.purge("PAY-2")
    clock.now = NOW + dt.timedelta(hours=1)
    assert sync(connector, cursor) == []  # not due yet
    state = json.loads(cursor or "")
    state["known"] = {"PAY": "1-2,4"}  # as if PAY-3 had been skipped
    clock.now = NOW + dt.timedelta(hours=25)
    batches = sync(connector, json.dumps(state))
    assert [item.item_id for batch in batches for item in batch.items] == ["PAY-3"]
    assert batches[-1].removed == ("PAY-2",) and json.loads(batches[-1].cursor or "")["known"] == {
        "PAY": "1,3-4"
    }


def test_settings_hide_the_key_and_check_the_team_key():
    """The key never shows in repr, str or a model dump; a team key must look like one."""
    settings = LinearSettings(team_key=" pay ", api_key="lin_api_s3cret")
    assert settings.team_key == "PAY" and settings.api_url == "https://api.linear.app"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)
    assert "s3cret" not in json.dumps(settings.model_dump(mode="json"))
    assert not settings.uses_oauth() and LinearSettings(team_key="PAY", api_key="lin_oauth_x").uses_oauth()
    with pytest.raises(ValueError, match="team key"):
        LinearSettings(team_key="PAY-12", api_key="k")


# -- the store -------------------------------------------------------------------------------------------


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def new_board(sessions, name: str) -> int:
    with sessions.begin() as session:
        return add_board(
            session,
            name,
            connector="linear",
            settings={},
            encrypted_secrets=None,
            workflow_yaml=DEFAULT_WORKFLOW_YAML,
        ).id


def event_count(sessions, board_id: int) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.board_id == board_id))


def test_a_synced_board_in_sqlite_gives_the_same_metrics_as_its_events_in_a_file(
    linear, connect, sessions, tmp_path
):
    """Killed after one batch and resumed, the stored board gives the metrics of a CSV of the same events."""
    linear.add_issues(18, changes=4, start=T0, spacing=dt.timedelta(hours=7))
    linear.add_issue(h(3), [(h(4), "In Progress"), (h(30), "Canceled")])
    linear.add_issue(h(5), [(h(6), "In Progress")])

    class KilledAfterOneBatch(LinearConnector):
        def fetch(self, cursor, progress=None):
            for number, batch in enumerate(super().fetch(cursor, progress)):
                if number == 1:
                    raise KeyboardInterrupt
                yield batch

    board = new_board(sessions, "Team")
    settings = LinearSettings(team_key="PAY", api_key=linear.api_key, api_url=linear.url)
    with (
        pytest.raises(KeyboardInterrupt),
        KilledAfterOneBatch(settings, page_size=6, clock=Clock()) as killed,
    ):
        sync_board(sessions, board, killed)
    assert 0 < event_count(sessions, board) < 18 * 5 + 3 + 2
    sync_board(sessions, board, connect(linear, page_size=6))
    assert event_count(sessions, board) == 18 * 5 + 3 + 2
    with sessions() as session:
        runs = [run.status for run in session.scalars(select(SyncRun).where(SyncRun.board_id == board))]
        workflow = parse_workflow(DEFAULT_WORKFLOW_YAML)
        stored = load_events(session, board, workflow)
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "to_status", "title", "type", "url", "assignee"])
        for batch in connect(linear).fetch(None):
            items = {item.item_id: item for item in batch.items}
            for event in batch.events:
                item = items[str(event.item_id)]
                name = event.to_status_name or event.to_status or ""
                when = event.timestamp.isoformat()
                attributes = [item.title, item.type, item.url, item.assignee]
                writer.writerow([event.item_id, when, event.event, name, *attributes])
    from_file = read_event_log(path, workflow).events
    asof = pd.Timestamp("2026-02-01T00:00Z")
    assert runs == ["interrupted", "ok"]
    assert metrics_document(board_metrics(stored, workflow, asof)) == metrics_document(
        board_metrics(from_file, workflow, asof)
    )
    assert board_metrics(stored, workflow, asof).throughput_total == 18


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_CURSOR = (
    '{"version":1,"updated":"2026-01-05T09:00:00.500Z","paging":{"since":"2026-01-05T08:55:00.500Z",'
    '"after":"cursor-abc"},"recent":{"PAY-2":"2026-01-05T09:00:00.500Z"},"known":{"PAY":"1-2,4"},'
    '"swept_at":"2026-03-02T12:00:00+00:00"}'
)


def test_a_cursor_stored_by_earlier_versions_reads_back_the_same_and_is_written_the_same():
    """Same state from an old cursor (paging included), and the same bytes written back."""
    state = SyncState.load(OLD_CURSOR)
    assert state.updated == T0 + dt.timedelta(milliseconds=500)
    assert state.paging == {"since": "2026-01-05T08:55:00.500Z", "after": "cursor-abc"}
    assert state.recent == {"PAY-2": "2026-01-05T09:00:00.500Z"}
    assert state.known == KeySet(["PAY-1", "PAY-2", "PAY-4"]) and state.swept_at == NOW
    assert state.dump() == OLD_CURSOR
    assert SyncState().dump() == (
        '{"version":1,"updated":null,"paging":null,"recent":{},"known":{},"swept_at":null}'
    )
    assert SyncState.load(OLD_CURSOR.replace('"version":1', '"version":0')) == SyncState()
