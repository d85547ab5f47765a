"""The Azure DevOps Boards connector against the fake organization on 127.0.0.1 (tests/fakes/azure_devops)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.azure_devops import AzureDevOpsConnector, AzureDevOpsSettings
from bot.connectors.azure_devops_history import SyncState, decode_ids, encode_ids
from bot.connectors.base import Batch, SourceEvent, SourceStatus
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, RateLimited
from bot.connectors.files import read_event_log
from bot.connectors.http import HttpOptions
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from tests.fakes.azure_devops import WORKFLOW_YAML, FakeAzureDevOps

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def ado() -> Iterator[FakeAzureDevOps]:
    with FakeAzureDevOps() as fake:
        yield fake


@pytest.fixture
def make(ado: FakeAzureDevOps) -> Iterator[Callable[..., AzureDevOpsConnector]]:
    """Build connectors for the fake (no real sleeping); each is closed after the test."""
    opened: list[AzureDevOpsConnector] = []

    def build(sleeps: list[float] | None = None, **options: Any) -> AzureDevOpsConnector:
        values = {
            "organization": ado.organization,
            "project": ado.project,
            "pat": ado.pat,
            "api_url": ado.url,
        }
        values |= {k: options.pop(k) for k in list(options) if k in AzureDevOpsSettings.model_fields}
        sink = sleeps if sleeps is not None else []
        http = replace(options.pop("http", HttpOptions()), sleep=sink.append)
        connector = AzureDevOpsConnector(AzureDevOpsSettings(**values), http=http, **options)
        opened.append(connector)
        return connector

    yield build
    for connector in opened:
        connector.close()


def events_of(batches: list[Batch]) -> list[SourceEvent]:
    events = [event for batch in batches for event in batch.events]
    return sorted(events, key=lambda e: (int(e.item_id), e.timestamp))


def status_event(item: int, at: dt.datetime, before: str, after: str) -> SourceEvent:
    return SourceEvent(item_id=str(item), timestamp=at, event="status", from_status=before,
                       to_status=after, to_status_name=after)  # fmt: skip


def created_event(item: int, at: dt.datetime, status: str = "New") -> SourceEvent:
    return SourceEvent(item_id=str(item), timestamp=at, event="created", from_status=None,
                       to_status=status, to_status_name=status)  # fmt: skip


def test_backfill_turns_revisions_into_created_and_status_events(ado, make):
    """Every revision that changes the state is a status event; an edit alone is none; other types are out."""
    story = ado.add_item(h(0), [(h(1), "Active"), (h(5), "Resolved"), (h(6), "Closed")], assignee="Bea Cruz")
    ado.change(story, h(2), **{"System.Title": "Renamed"})  # a revision without a state change
    bug = ado.add_item(h(3), type="Bug", title="Crash")
    ado.add_item(h(4), [(h(5), "Active")], type="Task")  # not a board type
    batches = list(make().fetch(None))
    assert events_of(batches) == [
        created_event(story, h(0)),
        status_event(story, h(1), "New", "Active"),
        status_event(story, h(5), "Active", "Resolved"),
        status_event(story, h(6), "Resolved", "Closed"),
        created_event(bug, h(3)),
    ]
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert set(items) == {str(story), str(bug)}
    assert items[str(story)].title == "Renamed"
    assert items[str(story)].assignee == "Bea Cruz"
    assert items[str(story)].status == "Closed"
    assert items[str(story)].created_at == h(0)
    assert items[str(bug)].type == "Bug"
    assert items[str(bug)].url == f"{ado.url}/acme/Payments/_workitems/edit/{bug}"
    [query] = [r.query for r in ado.requests if r.path.endswith("/workitemrevisions")]
    assert query["includeDeleted"] == "true" and "System.State" in query["fields"].split(",")
    assert "continuationToken" not in query


def test_incremental_sync_reads_only_revisions_after_the_cursor(ado, make):
    """After a backfill, the next sync reads from the stored token and yields only the new transitions."""
    first = ado.add_item(h(0), [(h(1), "Active")])
    second = ado.add_item(h(2))
    cursor = list(make().fetch(None))[-1].cursor
    ado.move(first, "Resolved", h(10))
    ado.move(second, "Active", h(11))
    third = ado.add_item(h(12))
    ado.requests.clear()
    batches = list(make().fetch(cursor))
    assert events_of(batches) == [
        status_event(first, h(10), "Active", "Resolved"),
        status_event(second, h(11), "New", "Active"),
        created_event(third, h(12)),
    ]
    assert ado.requests[0].query["continuationToken"] == json.loads(cursor)["token"]
    # Caught up: one request, nothing new, no batch.
    ado.requests.clear()
    assert list(make().fetch(batches[-1].cursor)) == []
    assert ado.count("/workitemrevisions") == 1


def test_the_page_size_is_asked_with_the_specs_parameter_name(ado, make):
    """$maxPageSize, as the spec names it: Azure DevOps ignores maxPageSize (the fake refuses it), so the
    pages would silently keep its default size."""
    for n in range(5):
        ado.add_item(h(n), [(h(n + 0.5), "Active")])
    batches = list(make(page_size=3).fetch(None))
    assert [r.query.get("$maxPageSize") for r in ado.requests if r.path.endswith("/workitemrevisions")] == [
        "3", "3", "3", "3"
    ]  # fmt: skip
    assert [len(b.events) for b in batches] == [3, 3, 3, 1]


def test_an_items_history_spread_over_pages_keeps_its_from_statuses(ado, make):
    """With two revisions per page, each transition still names the state the item came from."""
    ado.page_size = 2
    path = ["Active", "Resolved", "Active", "Resolved", "Closed"]
    item = ado.add_item(h(0), [(h(i + 1), state) for i, state in enumerate(path)])
    batches = list(make(page_size=50).fetch(None))
    assert len(batches) == 3
    assert ado.requests[-1].query["$maxPageSize"] == "50"
    froms = ["New", *path[:-1]]
    assert events_of(batches) == [created_event(item, h(0))] + [
        status_event(item, h(i + 1), before, after)
        for i, (before, after) in enumerate(zip(froms, path, strict=True))
    ]


def test_a_sync_killed_after_one_page_resumes_without_loss_or_duplicates(ado, make):
    """Stopping after the first batch and resuming from its cursor gives exactly the clean sync's events."""
    ado.page_size = 3
    for n in range(5):
        ado.add_item(h(n), [(h(n + 1), "Active"), (h(n + 3), "Closed")])
    clean = events_of(list(make().fetch(None)))
    first = next(iter(make().fetch(None)))
    resumed = [first, *make().fetch(first.cursor)]
    assert events_of(resumed) == clean
    assert len(clean) == 15 and first.events and len(first.events) < len(clean)


def test_deleted_items_and_items_moved_off_the_board_are_removed(ado, make):
    """A deletion, a type change and an area move away each put the item in Batch.removed."""
    kept = ado.add_item(h(0), area="Payments\\Web")
    deleted = ado.add_item(h(1), area="Payments\\Web")
    retyped = ado.add_item(h(2), area="Payments\\Web\\Checkout")
    moved = ado.add_item(h(3), area="Payments\\Web")
    ado.add_item(h(4), area="Payments\\Mobile")
    connector = make(area_path="Payments\\Web")
    cursor = list(connector.fetch(None))[-1].cursor
    assert json.loads(cursor)["statuses"] == {"New": encode_ids([kept, deleted, retyped, moved])}
    ado.delete(deleted, h(5))
    ado.change(retyped, h(6), **{"System.WorkItemType": "Task"})
    ado.change(moved, h(7), **{"System.AreaPath": "Payments\\Mobile"})
    batches = list(connector.fetch(cursor))
    assert {n for batch in batches for n in batch.removed} == {str(deleted), str(retyped), str(moved)}
    assert json.loads(batches[-1].cursor)["statuses"] == {"New": str(kept)}


def test_rate_limiting_is_retried_and_a_pause_asked_on_success_is_honoured(ado, make):
    """429 with Retry-After waits as asked and retries; a Retry-After on a 200 pauses before going on."""
    ado.page_size = 1
    ado.add_item(h(0), [(h(1), "Active")])
    ado.fail("/workitemrevisions", 429, headers={"Retry-After": "3", "X-RateLimit-Resource": "ATCPU"})
    ado.slow_down("/workitemrevisions", 2)
    sleeps: list[float] = []
    events = events_of(list(make(sleeps).fetch(None)))
    assert sleeps == [3.0, 2.0]
    assert len(events) == 2
    assert ado.count("/workitemrevisions") == 3  # the refused one, then two pages


def test_rate_limiting_that_never_ends_fails_with_rate_limited(ado, make):
    """When every retry meets 429 too, the sync stops with RateLimited rather than looping."""
    ado.fail("/workitemrevisions", 429, times=None, headers={"Retry-After": "1"})
    with pytest.raises(RateLimited):
        list(make(http=HttpOptions(max_retries=2)).fetch(None))
    assert ado.count("/workitemrevisions") == 3


@pytest.mark.parametrize("refusal", [401, 203])
def test_a_refused_token_is_bad_credentials_without_the_token(ado, make, refusal):
    """401, and 203 with a sign-in page, both mean a bad PAT; the message never contains it."""
    ado.refusal = refusal
    connector = make(pat="wrong-pat-value")
    for call in (connector.check, lambda: list(connector.fetch(None))):
        with pytest.raises(BadCredentials) as refused:
            call()
        assert "personal access token" in str(refused.value)
        assert "wrong-pat-value" not in str(refused.value)


def test_a_token_without_work_item_access_is_no_permission(ado, make):
    """403 on the work items (token valid, scope or permission missing) is NoPermission, in check and sync."""
    ado.fail("/workitemrevisions", 403, times=2)
    connector = make()
    with pytest.raises(NoPermission, match="Work Items \\(Read\\)"):
        connector.check()
    with pytest.raises(NoPermission):
        list(connector.fetch(None))


def test_an_unknown_project_is_not_found(ado, make):
    """A project the organization lacks is NotFound, naming it."""
    with pytest.raises(NotFound, match="no project 'Payroll'"):
        make(project="Payroll").check()


def test_check_describes_the_project_and_the_user(ado, make):
    """check() names the project, organization, area and the token's user."""
    assert make(area_path="Payments\\Web").check() == (
        "Azure DevOps project 'Payments' of acme, area Payments\\Web, as Ann Lee"
    )
    assert make(use_board_column=True).check() == (
        "Azure DevOps project 'Payments' of acme, board columns of team 'Payments Team' (5 columns), "
        "as Ann Lee"
    )


def test_statuses_map_azure_devops_categories(ado, make):
    """States take their category from Azure DevOps (Resolved is in progress, Removed is done), once each."""
    assert make().statuses() == [
        SourceStatus("New", "New", "new"),
        SourceStatus("Active", "Active", "indeterminate"),
        SourceStatus("Resolved", "Resolved", "indeterminate"),
        SourceStatus("Closed", "Closed", "done"),
        SourceStatus("Removed", "Removed", "done", discarded=True),
    ]
    assert make(work_item_types=["Task"]).statuses()[-1] == SourceStatus(
        "Removed", "Removed", "done", discarded=True
    )
    with pytest.raises(NotFound, match="work_item_types"):
        make(work_item_types=["Epic"]).statuses()


def test_board_columns_become_statuses_and_events(ado, make):
    """With use_board_column, statuses are the story board's columns and moves between columns are events."""
    connector = make(use_board_column=True)
    assert [(s.name, s.category) for s in connector.statuses()] == [
        ("New", "new"), ("Ready", "indeterminate"), ("Doing", "indeterminate"), ("Review", "indeterminate"),
        ("Closed", "done"),
    ]  # fmt: skip
    item = ado.add_item(h(0))
    ado.move(item, "New", h(1), column="Ready")  # a column move within one state
    ado.move(item, "Active", h(2))
    assert events_of(list(connector.fetch(None))) == [
        created_event(item, h(0)),
        status_event(item, h(1), "New", "Ready"),
        status_event(item, h(2), "Ready", "Doing"),
    ]


def test_settings_hide_the_token():
    """The PAT is a secret: repr, str and model_dump never show it; the defaults are Azure DevOps'."""
    settings = AzureDevOpsSettings(organization="acme", project="Payments", pat="very-secret-pat")
    assert "very-secret-pat" not in repr(settings) + str(settings) + str(settings.model_dump())
    assert "very-secret-pat" not in json.dumps(settings.model_dump(mode="json"))
    assert settings.api_url == "https://dev.azure.com"
    assert settings.work_item_types == ["User Story", "Bug", "Product Backlog Item", "Issue"]
    assert settings.use_board_column is False


def test_the_cursor_stores_statuses_as_runs_of_ids():
    """Consecutive ids in one status take one run, and the cursor reads back to the same state."""
    state = SyncState(token="42", statuses=dict.fromkeys(range(1, 1001), "Closed") | {2000: "Active"})
    cursor = state.dump()
    assert json.loads(cursor)["statuses"] == {"Active": "2000", "Closed": "1-1000"}
    assert SyncState.load(cursor) == state
    assert decode_ids("1-3,7") == [1, 2, 3, 7]
    assert SyncState.load("not json") == SyncState()


def test_metrics_from_the_store_equal_metrics_from_the_same_events_in_a_file(ado, make, tmp_path):
    """An Azure DevOps sync stored in SQLite gives the same metrics as its events written to a CSV file."""
    ado.page_size = 7
    for n in range(12):
        moves = [(h(n * 5 + 1), "Active"), (h(n * 5 + 9), "Resolved")]
        if n % 3:
            moves.append((h(n * 5 + 20), "Closed"))
        ado.add_item(h(n * 5), moves, type="Bug" if n % 4 == 0 else "User Story")
    engine = make_engine(f"sqlite:///{tmp_path / 'flow.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board = add_board(
            session, "Team", connector="azure-devops", settings={}, encrypted_secrets=None,
            workflow_yaml=WORKFLOW_YAML,
        ).id  # fmt: skip
    result = sync_board(sessions, board, make())
    assert result.batches > 1
    workflow = parse_workflow(WORKFLOW_YAML)
    with sessions() as session:
        stored = load_events(session, board, workflow)
    engine.dispose()
    path = tmp_path / "events.csv"
    batches = list(make().fetch(None))
    items = {item.item_id: item for batch in batches for item in batch.items}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "from_status", "to_status", "title", "type", "url"])
        for event in (event for batch in batches for event in batch.events):
            item = items[str(event.item_id)]
            writer.writerow(
                [event.item_id, event.timestamp.isoformat(), event.event, event.from_status or "",
                 event.to_status, item.title, item.type, item.url]
            )  # fmt: skip
    from_file = read_event_log(path, workflow).events
    asof = pd.Timestamp("2026-01-10T00:00Z")
    from_store = board_metrics(stored, workflow, asof)
    assert metrics_document(from_store) == metrics_document(board_metrics(from_file, workflow, asof))
    assert from_store.throughput_total == 8
    assert len(stored) == 12 + 24 + 8


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_CURSOR = '{"version":1,"token":"9001;2","statuses":{"Active":"3","Closed":"1-2,5","New":"7"}}'


def test_a_cursor_stored_by_earlier_versions_reads_back_the_same_and_is_written_the_same():
    """Same token and statuses from an old cursor, and the same bytes written back."""
    state = SyncState.load(OLD_CURSOR)
    statuses = {1: "Closed", 2: "Closed", 3: "Active", 5: "Closed", 7: "New"}
    assert state == SyncState(token="9001;2", statuses=statuses)
    assert state.dump() == OLD_CURSOR
    assert SyncState().dump() == '{"version":1,"token":null,"statuses":{}}'
    assert SyncState.load('{"version":1,"token":"1","statuses":["Closed"]}') == SyncState()
