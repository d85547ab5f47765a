"""The Jira Cloud and Data Center connectors against the fake Jira on 127.0.0.1 (tests/fakes/jira.py)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.connectors.base import Batch, SourceEvent, SourceStatus
from bot.connectors.cursor import KeySet
from bot.connectors.errors import BadCredentials, ConnectorError, NoPermission, NotFound, ServerError
from bot.connectors.http import HttpOptions
from bot.connectors.jira_base import JiraConnector
from bot.connectors.jira_cloud import JiraCloudConnector, JiraCloudSettings
from bot.connectors.jira_common import BoardColumn, SyncState, jql_since
from bot.connectors.jira_dc import JiraDataCenterConnector, JiraDataCenterSettings
from bot.connectors.mapping import default_stages, unmapped_statuses
from tests.fakes.jira import FakeJira

UTC = dt.UTC
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TODO, DOING, REVIEW, DONE = "10000", "3", "10001", "10002"


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


class Clock:
    """A settable clock for the sweep schedule."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def cloud() -> Iterator[FakeJira]:
    with FakeJira("cloud") as jira:
        yield jira


@pytest.fixture
def dc() -> Iterator[FakeJira]:
    with FakeJira("dc") as jira:
        yield jira


@pytest.fixture
def opened() -> Iterator[list[JiraConnector]]:
    """Connectors made by a test, closed after it (each holds an HTTP connection pool)."""
    connectors: list[JiraConnector] = []
    yield connectors
    for connector in connectors:
        connector.close()


@pytest.fixture
def cloud_connector(opened: list[JiraConnector]) -> Callable[..., JiraCloudConnector]:
    """Make a Cloud connector for the fake: project PAY, board 1, no real sleeping, a fixed clock."""

    def make(
        jira: FakeJira, clock: Clock | None = None, http: HttpOptions = HttpOptions(), **options: Any
    ) -> JiraCloudConnector:
        settings = options.pop("settings", None) or JiraCloudSettings(
            url=jira.url, email=jira.email, token=jira.token, project="PAY", board_id=1
        )
        sleeps: list[float] = options.pop("sleeps", [])
        http = replace(http, sleep=sleeps.append)
        connector = JiraCloudConnector(settings, http=http, clock=clock or Clock(), **options)
        opened.append(connector)
        return connector

    return make


@pytest.fixture
def dc_connector(opened: list[JiraConnector]) -> Callable[..., JiraDataCenterConnector]:
    """Make a Data Center connector for the fake: project PAY, no real sleeping, a fixed clock."""

    def make(jira: FakeJira, clock: Clock | None = None, **options: Any) -> JiraDataCenterConnector:
        settings = options.pop("settings", None) or JiraDataCenterSettings(
            url=jira.url, token=jira.token, project="PAY"
        )
        http = HttpOptions(sleep=lambda _: None)
        connector = JiraDataCenterConnector(settings, http=http, clock=clock or Clock(), **options)
        opened.append(connector)
        return connector

    return make


def sync(connector: JiraConnector, cursor: str | None = None) -> list[Batch]:
    return list(connector.fetch(cursor))


def events_of(batches: list[Batch]) -> list[SourceEvent]:
    """Every event, by issue key then time (batches follow `updated`, not the key)."""
    events = [event for batch in batches for event in batch.events]
    return sorted(events, key=lambda e: (int(e.item_id.split("-")[1]), e.timestamp))


def status_path(jira: FakeJira) -> None:
    """PAY-1: To Do → In Progress (flagged, then unflagged) → Done; PAY-2: created, never moved."""
    jira.add_issue(h(0), [(h(1), "In Progress"), (h(5), "Done")], flags=[(h(2), True), (h(3), False)])
    jira.add_issue(h(4), summary="Untouched", assignee="Bea")


EXPECTED = [
    {"item_id": "PAY-1", "timestamp": h(0), "event": "created", "to_status": TODO, "to_status_name": "To Do"},
    {"item_id": "PAY-1", "timestamp": h(1), "event": "status", "from_status": TODO, "to_status": DOING,
     "to_status_name": "In Progress"},
    {"item_id": "PAY-1", "timestamp": h(2), "event": "blocked", "reason": "Impediment"},
    {"item_id": "PAY-1", "timestamp": h(3), "event": "unblocked"},
    {"item_id": "PAY-1", "timestamp": h(5), "event": "status", "from_status": DOING, "to_status": DONE,
     "to_status_name": "Done"},
    {"item_id": "PAY-2", "timestamp": h(4), "event": "created", "to_status": TODO, "to_status_name": "To Do"},
]  # fmt: skip


def identity(event: SourceEvent) -> tuple[object, ...]:
    """What the store deduplicates events by."""
    return (event.item_id, event.timestamp, event.event, event.to_status)


def without_nones(events: list[SourceEvent]) -> list[dict[str, object]]:
    return [{k: v for k, v in asdict(event).items() if v is not None} for event in events]


def test_backfill_delivers_items_and_events_in_the_contract_shape(cloud, cloud_connector):
    """A backfill yields each issue's created, status and blocked/unblocked events with ids and names."""
    status_path(cloud)
    batches = sync(cloud_connector(cloud))
    assert without_nones(events_of(batches)) == EXPECTED
    assert all(event.timestamp.tzinfo is not None for event in events_of(batches))
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["PAY-2"].title == "Untouched" and items["PAY-2"].assignee == "Bea"
    assert items["PAY-1"].status == "Done" and items["PAY-1"].type == "Story"
    assert items["PAY-1"].url == f"{cloud.url}/browse/PAY-1" and items["PAY-1"].created_at == h(0)


def test_created_event_starts_in_the_status_before_the_first_change(cloud, cloud_connector):
    """The created event's status is the `from` of the earliest status change, not the current status."""
    cloud.add_issue(h(0), [(h(1), "In Review"), (h(2), "Done")], initial="In Progress")
    [created, *_] = events_of(sync(cloud_connector(cloud)))
    assert (created.event, created.to_status, created.to_status_name) == (
        "created",
        DOING,
        "In Progress",
    )


def test_long_changelog_is_read_over_several_bulkfetch_pages(cloud, cloud_connector):
    """250 status changes arrive complete although bulkfetch pages hold 100 histories."""
    cloud.bulkfetch_page_size = 100
    moves = [(h(i + 1), "In Progress" if i % 2 == 0 else "In Review") for i in range(250)]
    cloud.add_issue(h(0), moves)
    cloud.add_issue(h(0.5), [(h(300), "Done")])
    events = events_of(sync(cloud_connector(cloud)))
    assert sum(1 for e in events if e.item_id == "PAY-1" and e.event == "status") == 250
    assert [e.to_status for e in events if e.item_id == "PAY-2"] == [TODO, DONE]
    assert cloud.count("/rest/api/3/changelog/bulkfetch") == 3
    requests = [r.body for r in cloud.requests if r.path == "/rest/api/3/changelog/bulkfetch"]
    assert requests[0]["fieldIds"] == ["status", "customfield_10021"]
    assert "nextPageToken" not in requests[0] and requests[1]["nextPageToken"]


def test_one_batch_per_search_page_each_with_a_resumable_cursor(cloud, cloud_connector):
    """250 issues at 100 a page come as three batches, each cursor counting the pages before it. Each page
    searches again from the minute of the newest issue so far (no offsets), so it re-reads that issue and
    delivers the next 99."""
    cloud.add_issues(250, changes=2, start=T0, spacing=dt.timedelta(minutes=1))
    batches = sync(cloud_connector(cloud))
    assert [len(batch.items) for batch in batches] == [100, 99, 51]
    cursors = [json.loads(batch.cursor or "") for batch in batches]
    assert cursors[0]["known"] == {"PAY": "1-100"} and cursors[-1]["known"] == {"PAY": "1-250"}
    assert cloud.count("/rest/api/3/search/jql") == 3 and cloud.count("/rest/api/3/changelog/bulkfetch") == 3
    searches = [r.body for r in cloud.requests if r.path == "/rest/api/3/search/jql"]
    assert all("nextPageToken" not in body for body in searches)
    # PAY-100 was updated at 12:39 UTC, 13:39 in Zurich: JQL dates are in the searching user's zone.
    assert searches[1]["jql"] == '(project = "PAY") AND updated >= "2026/01/05 13:39" ORDER BY updated ASC'


def test_progress_reports_issues_done_and_the_approximate_total(cloud, cloud_connector):
    """A backfill reports progress per page against Jira's approximate count."""
    cloud.add_issues(150, changes=1, start=T0, spacing=dt.timedelta(minutes=1))
    seen: list[tuple[int, int | None]] = []
    list(cloud_connector(cloud).fetch(None, lambda done, total: seen.append((done, total))))
    assert seen == [(100, 150), (150, 150)]


def test_incremental_sync_with_nothing_changed_is_one_search_and_no_changelog(cloud, cloud_connector):
    """Re-syncing an unchanged project costs one search request and reads no changelog."""
    cloud.add_issues(120, changes=3, start=T0, spacing=dt.timedelta(minutes=1))
    connector = cloud_connector(cloud)
    cursor = sync(connector)[-1].cursor
    cloud.clear_requests()
    assert sync(connector, cursor) == []
    assert cloud.count("/rest/api/3/search") == 1
    assert cloud.count("/rest/api/3/changelog") == 0 and cloud.count("/rest/api/3/issue") == 0


def test_incremental_sync_after_one_change_fetches_just_that_issue(cloud, cloud_connector):
    """One moved issue: one search, one bulkfetch for that issue only, and its new event."""
    cloud.add_issues(120, changes=3, start=T0, spacing=dt.timedelta(minutes=1))
    connector = cloud_connector(cloud)
    cursor = sync(connector)[-1].cursor
    cloud.move("PAY-7", "Done", h(500))
    cloud.clear_requests()
    [batch] = sync(connector, cursor)
    assert [item.item_id for item in batch.items] == ["PAY-7"]
    assert batch.events[-1].to_status == DONE and batch.events[-1].timestamp == h(500)
    [bulk] = [r.body for r in cloud.requests if r.path == "/rest/api/3/changelog/bulkfetch"]
    assert bulk["issueIdsOrKeys"] == [str(cloud.issues["PAY-7"].id)]
    assert cloud.count("/rest/api/3/search/jql") == 1
    cloud.clear_requests()
    assert sync(connector, batch.cursor) == [] and cloud.count("/rest/api/3/changelog") == 0


def test_incremental_query_uses_the_users_time_zone_minus_the_overlap(cloud, cloud_connector):
    """The `updated >=` date is written in /myself's time zone, 15 minutes before the newest update."""
    cloud.user_tz = zoneinfo.ZoneInfo("America/New_York")
    cloud.add_issue(h(0), [(h(1), "In Progress")])  # updated 10:00 UTC = 05:00 in New York
    connector = cloud_connector(cloud)
    cursor = sync(connector)[-1].cursor
    cloud.move("PAY-1", "Done", h(1) + dt.timedelta(seconds=30))  # within the overlap: must be found
    cloud.clear_requests()
    batches = sync(connector, cursor)
    [search] = [r.body for r in cloud.requests if r.path.endswith("/search/jql")]
    assert search["jql"] == '(project = "PAY") AND updated >= "2026/01/05 04:45" ORDER BY updated ASC'
    assert events_of(batches)[-1].to_status == DONE


def test_jql_date_is_moved_an_hour_back_when_the_local_time_is_ambiguous():
    """At a DST fall-back hour the JQL date is written before the repeated hour, never after it."""
    zone = zoneinfo.ZoneInfo("Europe/Zurich")
    first_pass = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST; 02:30 comes again at 01:30 UTC
    second_pass = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET
    assert '"2026/10/25 01:30"' in jql_since("project = X", first_pass, zone)
    assert '"2026/10/25 02:30"' in jql_since("project = X", second_pass, zone)
    assert '"2026/07/01 11:00"' in jql_since("project = X", dt.datetime(2026, 7, 1, 9, tzinfo=UTC), zone)


def test_sweep_reports_deleted_and_moved_issues(cloud, cloud_connector):
    """After a day, the sweep lists the keys and reports those deleted or moved to another project."""
    cloud.add_issues(5, changes=1, start=T0, spacing=dt.timedelta(minutes=1))
    clock = Clock()
    connector = cloud_connector(cloud, clock)
    cursor = sync(connector)[-1].cursor
    cloud.delete("PAY-2")
    cloud.move_to_project("PAY-4", "OPS", h(100))
    clock.now = NOW + dt.timedelta(hours=1)
    assert sync(connector, cursor) == []  # not due yet
    clock.now = NOW + dt.timedelta(hours=25)
    batches = sync(connector, cursor)
    assert batches[-1].removed == ("PAY-2", "PAY-4")
    assert json.loads(batches[-1].cursor or "")["known"] == {"PAY": "1,3,5"}
    assert sync(connector, batches[-1].cursor) == []


def test_sweep_delivers_an_issue_the_syncs_never_saw(cloud, cloud_connector):
    """A key on the board but missing from the cursor (a skipped page) is fetched by the sweep."""
    cloud.add_issues(3, changes=2, start=T0, spacing=dt.timedelta(minutes=1))
    connector = cloud_connector(cloud)
    state = SyncState.load(sync(connector)[-1].cursor)
    state.known, state.swept_at = KeySet(["PAY-1", "PAY-3"]), NOW - dt.timedelta(days=2)
    batches = sync(connector, state.dump())
    assert [item.item_id for batch in batches for item in batch.items] == ["PAY-2"]
    assert [e.event for e in events_of(batches)] == ["created", "status", "status"]
    assert batches[-1].removed == ()


def test_a_killed_sync_resumes_without_losing_or_duplicating(cloud, cloud_connector):
    """Stopping after the first page and restarting from its cursor delivers every event."""
    cloud.add_issues(250, changes=3, start=T0, spacing=dt.timedelta(minutes=1))
    full = events_of(sync(cloud_connector(cloud)))
    first = next(cloud_connector(cloud).fetch(None))
    rest = sync(cloud_connector(cloud), first.cursor)
    delivered = {identity(e) for e in list(first.events) + events_of(rest)}
    assert delivered == {identity(e) for e in full} and len(full) == 250 * 4


def test_the_removed_search_endpoint_is_never_called_nor_changelog_expanded(cloud, cloud_connector):
    """The fake answers 410 on /rest/api/3/search like Jira; the connector only uses search/jql."""
    status_path(cloud)
    answer = httpx.get(
        f"{cloud.url}/rest/api/3/search", params={"jql": "project = PAY"}, auth=(cloud.email, cloud.token)
    )
    assert answer.status_code == 410 and "search/jql" in answer.json()["errorMessages"][0]
    cloud.clear_requests()
    connector = cloud_connector(cloud, Clock(NOW + dt.timedelta(days=3)))
    cursor = sync(connector)[-1].cursor
    sync(cloud_connector(cloud, Clock(NOW + dt.timedelta(days=9))), cursor)  # incremental and a sweep
    assert not [r for r in cloud.requests if r.path in ("/rest/api/3/search", "/rest/api/2/search")]
    searches = [r.body for r in cloud.requests if r.path == "/rest/api/3/search/jql"]
    assert searches and all("expand" not in body and body["fields"] for body in searches)


def test_429_is_retried_after_the_wait_jira_asks_for(cloud, cloud_connector):
    """A 429 with Retry-After: 7 makes the connector sleep 7 s and carry on."""
    status_path(cloud)
    cloud.fail("/rest/api/3/search/jql", 429, headers={"Retry-After": "7"})
    sleeps: list[float] = []
    batches = sync(cloud_connector(cloud, sleeps=sleeps))
    assert sleeps == [7.0] and without_nones(events_of(batches)) == EXPECTED


def test_500s_are_retried_with_backoff_then_reported(cloud, cloud_connector):
    """Two 500s on bulkfetch are retried; 500s that do not stop end the sync with ServerError."""
    status_path(cloud)
    cloud.fail("/rest/api/3/changelog/bulkfetch", 500, times=2)
    sleeps: list[float] = []
    assert without_nones(events_of(sync(cloud_connector(cloud, sleeps=sleeps)))) == EXPECTED
    assert sleeps == [1.0, 2.0]
    cloud.fail("/rest/api/3/changelog/bulkfetch", 503, times=None)
    with pytest.raises(ServerError, match="503"):
        sync(cloud_connector(cloud, http=HttpOptions(max_retries=2)))


def test_401_is_bad_credentials(cloud, cloud_connector):
    """A refused token raises BadCredentials, and check() says what to do about it."""
    settings = JiraCloudSettings(url=cloud.url, email=cloud.email, token="wrong", project="PAY")
    connector = cloud_connector(cloud, settings=settings)
    with pytest.raises(BadCredentials, match="API token"):
        connector.check()
    with pytest.raises(BadCredentials):
        sync(connector)


def test_403_is_no_permission(cloud, cloud_connector):
    """A 403 on the search raises NoPermission; on the project, check() names the missing permission."""
    status_path(cloud)
    cloud.fail("/rest/api/3/search/jql", 403, times=None)
    with pytest.raises(NoPermission):
        sync(cloud_connector(cloud))
    cloud.fail("/rest/api/3/project/PAY", 403)
    with pytest.raises(NoPermission, match="Browse projects"):
        cloud_connector(cloud).check()


def test_bulkfetch_unavailable_falls_back_to_paging_each_issue_changelog(cloud, cloud_connector):
    """When bulkfetch answers 404, each issue's changelog is paged (100 a page), with the same events."""
    cloud.fail("/rest/api/3/changelog/bulkfetch", 404, times=None)
    status_path(cloud)
    cloud.add_issue(h(6), [(h(7 + i), "In Progress" if i % 2 == 0 else "In Review") for i in range(150)])
    events = events_of(sync(cloud_connector(cloud)))
    assert without_nones(events)[: len(EXPECTED)] == EXPECTED
    assert sum(1 for e in events if e.item_id == "PAY-3" and e.event == "status") == 150
    assert cloud.count("/rest/api/3/changelog/bulkfetch") == 1
    assert cloud.count("/rest/api/3/issue/PAY-3/changelog") == 2


def test_check_describes_the_account_project_and_board(cloud, cloud_connector):
    """check() reads /myself, the project and the board; an unknown project is NotFound."""
    assert cloud_connector(cloud).check() == (
        f"Jira Cloud at {cloud.url} as Lead, project PAY (Pay), board 1 (4 columns)"
    )
    settings = JiraCloudSettings(url=cloud.url, email=cloud.email, token=cloud.token, project="NOPE")
    with pytest.raises(NotFound, match="no project NOPE"):
        cloud_connector(cloud, settings=settings).check()


def test_statuses_columns_and_the_default_mapping(cloud, cloud_connector):
    """Statuses come with categories; the default stages follow the categories or the board's columns."""
    connector = cloud_connector(cloud)
    statuses = connector.statuses()
    assert statuses[1] == SourceStatus(DOING, "In Progress", "indeterminate")
    assert default_stages(statuses) == [
        {"name": "Backlog", "statuses": [TODO], "kind": "backlog"},
        {"name": "In Progress", "statuses": [DOING, REVIEW], "kind": "active"},
        {"name": "Done", "statuses": [DONE], "kind": "done"},
    ]
    columns = connector.columns()
    assert columns[0] == BoardColumn("To Do", (TODO,))
    assert [(s["name"], s["kind"]) for s in default_stages(statuses, columns)] == [
        ("To Do", "backlog"), ("In Progress", "active"), ("In Review", "active"), ("Done", "done")
    ]  # fmt: skip
    stages = default_stages(statuses, [BoardColumn("Doing", (DOING,)), BoardColumn("Done", (DONE,))])
    assert [s.name for s in unmapped_statuses(statuses, stages)] == ["To Do", "In Review"]


def test_settings_need_one_scope_a_web_address_and_hide_the_token():
    """Exactly one of project and jql; the URL must be http(s); the token never shows in a repr."""
    with pytest.raises(ValidationError, match="either project"):
        JiraCloudSettings(url="https://acme.atlassian.net", token="t")
    with pytest.raises(ValidationError, match="https://"):
        JiraDataCenterSettings(url="jira.example.com", token="t", project="PAY")
    settings = JiraCloudSettings(
        url="https://acme.atlassian.net/", email="a@b.c", token="s3cret", jql="x = 1"
    )
    assert settings.url == "https://acme.atlassian.net" and "s3cret" not in repr(settings)


def test_jql_boards_search_their_query_without_its_order(cloud, cloud_connector):
    """A board given as JQL is searched as that JQL, its own ORDER BY replaced by the connector's."""
    status_path(cloud)
    settings = JiraCloudSettings(
        url=cloud.url, email=cloud.email, token=cloud.token, jql="project = PAY ORDER BY rank"
    )
    batches = sync(cloud_connector(cloud, settings=settings))
    assert without_nones(events_of(batches)) == EXPECTED
    [search] = [r.body for r in cloud.requests if r.path == "/rest/api/3/search/jql"]
    assert search["jql"] == "project = PAY ORDER BY updated ASC"


def test_check_rejects_jql_that_jira_does_not_accept(cloud, cloud_connector):
    """A JQL board whose query Jira answers with 400 fails check() with a message naming the JQL."""
    settings = JiraCloudSettings(url=cloud.url, email=cloud.email, token=cloud.token, jql="status WAS Done")
    with pytest.raises(ConnectorError, match="did not accept the JQL 'status WAS Done'"):
        cloud_connector(cloud, settings=settings).check()


def test_data_center_pages_by_offset_with_full_changelogs_in_the_search(dc, dc_connector):
    """DC: keyset paging, histories from expand=changelog (even 150 of them), the same events as Cloud."""
    status_path(dc)
    dc.add_issue(h(6), [(h(7 + i), "In Progress" if i % 2 == 0 else "In Review") for i in range(150)])
    dc.add_issues(200, changes=1, start=h(200), spacing=dt.timedelta(minutes=1))
    batches = sync(dc_connector(dc))
    events = events_of(batches)
    assert without_nones(events)[: len(EXPECTED)] == EXPECTED
    assert sum(1 for e in events if e.item_id == "PAY-3" and e.event == "status") == 150
    searches = [r.query for r in dc.requests if r.path == "/rest/api/2/search"]
    assert [q["startAt"] for q in searches] == [["0"], ["0"], ["0"]]  # keyset pages: `updated >=`, no offset
    assert [q["jql"][0].count("updated >=") for q in searches] == [0, 1, 1]
    assert all(q["expand"] == ["changelog"] for q in searches)
    assert dc.count("/rest/api/2/issue") == 0 and [len(b.items) for b in batches] == [100, 99, 4]


def test_data_center_incremental_sync_with_nothing_changed_is_one_search(dc, dc_connector):
    """DC re-sync of an unchanged project is one search request; one change comes back alone."""
    dc.add_issues(120, changes=3, start=T0, spacing=dt.timedelta(minutes=1))
    connector = dc_connector(dc)
    cursor = sync(connector)[-1].cursor
    dc.clear_requests()
    assert sync(connector, cursor) == [] and dc.count("/rest/api/2/search") == 1
    dc.flag("PAY-9", h(900))
    [batch] = sync(connector, cursor)
    assert [i.item_id for i in batch.items] == ["PAY-9"] and batch.events[-1].event == "blocked"


def test_data_center_pages_the_changelog_when_a_server_truncates_it(dc, dc_connector):
    """If a server returns fewer histories than its total, the issue's changelog endpoint is paged."""
    dc.dc_changelog_limit, dc.dc_issue_changelog = 100, True
    dc.add_issue(h(0), [(h(1 + i), "In Progress" if i % 2 == 0 else "In Review") for i in range(230)])
    events = events_of(sync(dc_connector(dc)))
    assert sum(1 for e in events if e.event == "status") == 230
    assert events[0].to_status == TODO and dc.count("/rest/api/2/issue/PAY-1/changelog") == 3


def test_data_center_uses_the_pat_as_a_bearer_token(dc, dc_connector):
    """A wrong personal access token is BadCredentials with DC's advice; the right one passes check()."""
    assert dc_connector(dc).check().startswith(f"Jira Data Center at {dc.url} as Lead")
    settings = JiraDataCenterSettings(url=dc.url, token="expired", project="PAY")
    with pytest.raises(BadCredentials, match="personal access token"):
        dc_connector(dc, settings=settings).check()


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_CURSOR = (
    '{"version":1,"updated":"2026-01-05T10:15:30.123000+01:00","recent":{"PAY-12":"2026-01-05T09:10:00.000+00:00",'
    '"PAY-7":"2026-01-05T09:15:30.123+00:00"},"known":{"OPS":"9","PAY":"1-3,5"},'
    '"swept_at":"2026-03-02T12:00:00+00:00"}'
)


def test_a_cursor_stored_by_earlier_versions_reads_back_the_same_and_is_written_the_same():
    """Same state from an old cursor, and the same bytes written back, so an unchanged sync writes nothing."""
    state = SyncState.load(OLD_CURSOR)
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert state.updated == dt.datetime(2026, 1, 5, 10, 15, 30, 123000, tzinfo=plus_one)
    assert state.updated.utcoffset() == dt.timedelta(hours=1)
    assert state.recent == {
        "PAY-7": "2026-01-05T09:15:30.123+00:00", "PAY-12": "2026-01-05T09:10:00.000+00:00"
    }  # fmt: skip
    assert state.known == KeySet(["PAY-1", "PAY-2", "PAY-3", "PAY-5", "OPS-9"])
    assert state.swept_at == NOW
    assert state.dump() == OLD_CURSOR
    assert SyncState().dump() == '{"version":1,"updated":null,"recent":{},"known":{},"swept_at":null}'


def test_an_unreadable_or_other_version_cursor_starts_a_backfill(caplog):
    """A cursor that cannot be read is a fresh state (everything again), with a warning that says so."""
    other_version = OLD_CURSOR.replace('"version":1', '"version":2')
    for cursor in ("not json", "[1]", other_version, '{"version":1,"known":[1]}'):
        assert SyncState.load(cursor) == SyncState()
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["unreadable Jira sync cursor"] * 4
    assert "cursor version 2" in caplog.records[2].getMessage()


# -- changes made while a sync pages (issue 19) --------------------------------------------------------------


class Store:
    """What the store keeps of a board, folded from batches as ``bot/services/sync`` does: each item's
    latest delivered version (``status`` is its display name) and every event, deduplicated."""

    def __init__(self) -> None:
        self.status: dict[str, str | None] = {}
        self.events: dict[tuple[object, ...], SourceEvent] = {}
        self.cursor: str | None = None

    def sync(self, connector: JiraConnector) -> None:
        for batch in connector.fetch(self.cursor):
            self.status.update({item.item_id: item.status for item in batch.items})
            self.events.update({identity(event): event for event in batch.events})
            self.cursor = batch.cursor

    def last_status(self, key: str) -> str | None:
        moves = [e for e in self.events.values() if e.item_id == key and e.event in ("created", "status")]
        return max(moves, key=lambda e: (e.timestamp, e.event == "status")).to_status if moves else None


def churn(jira: FakeJira, edits: list[str], at: dt.datetime, *, pages: range) -> list[str]:
    """While a sync pages, move the issues named by ``edits`` to In Review, a few before each search of
    ``pages``; each edit makes the issue the newest, so it jumps to the end of an ``updated`` search."""
    edited: list[str] = []

    def edit(search: int) -> None:
        if search in pages:
            for key in edits[:3]:
                jira.move(key, "In Review", at + dt.timedelta(seconds=len(edited)))
                edited.append(key)
            del edits[:3]

    jira.on_search = edit
    return edited


def mismatches(jira: FakeJira, store: Store) -> list[str]:
    """Issues whose stored status (item and events alike) is not the tracker's."""
    wrong = []
    for key, issue in jira.issues.items():
        name = jira.statuses[issue.status].name
        if store.status.get(key) != name or store.last_status(key) != issue.status:
            wrong.append(f"{key}: stored {store.status.get(key)}, Jira {name}")
    return wrong


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_issues_edited_while_a_sync_pages_lose_no_change(flavour, cloud_connector, dc_connector):
    """Issues edited mid-sync jump to the end of the search; every other change still arrives, and after
    one more sync each issue's stored status is Jira's."""
    make = cloud_connector if flavour == "cloud" else dc_connector
    with FakeJira(flavour) as jira:
        jira.add_issues(40, changes=0, start=T0, spacing=dt.timedelta(minutes=1))
        connector, store = make(jira, page_size=10), Store()
        store.sync(connector)
        for n in range(40):  # every issue moves, a minute apart: the next sync pages through all of them
            jira.move(f"PAY-{n + 1}", "In Progress", h(100) + dt.timedelta(minutes=n))
        edited = churn(jira, [f"PAY-{n}" for n in range(1, 13)], h(200), pages=range(2, 6))
        store.sync(connector)
        jira.on_search = None
        assert len(edited) >= 6
        store.sync(connector)
        assert mismatches(jira, store) == []


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_minute_with_more_issues_than_a_page_is_read_whole_and_once(flavour, cloud_connector, dc_connector):
    """35 issues updated within one minute, 10 a page, with edits mid-sync: the sync neither stops early
    nor re-reads that minute forever (JQL dates stop at minutes), and every change is stored."""
    make = cloud_connector if flavour == "cloud" else dc_connector
    with FakeJira(flavour) as jira:
        jira.add_issues(35, changes=0, start=T0, spacing=dt.timedelta(minutes=1))
        connector, store = make(jira, page_size=10), Store()
        store.sync(connector)
        for n in range(35):
            jira.move(f"PAY-{n + 1}", "In Progress", h(100) + dt.timedelta(seconds=n))
        churn(jira, [f"PAY-{n}" for n in range(1, 7)], h(200), pages=range(2, 4))
        jira.clear_requests()
        store.sync(connector)
        jira.on_search = None
        assert jira.count(f"{jira.api}/search") <= 12
        assert any("key not in (PAY-" in search_jql(request) for request in jira.requests)
        store.sync(connector)
        assert mismatches(jira, store) == []


def search_jql(request: Any) -> str:
    """The JQL of a recorded search request, whether posted (Cloud, long DC queries) or in the URL."""
    if not request.path.endswith(("/search", "/search/jql")):
        return ""
    return str(request.body["jql"] if request.body else request.query["jql"][0])


def test_data_center_posts_a_search_whose_excluded_keys_make_it_too_long_for_a_url(dc, dc_connector):
    """350 issues moved in one minute, 100 a page: the third exclusion list is too long for a URL, so that
    search is posted (Data Center's POST /search takes the same fields), and every move arrives."""
    dc.add_issues(350, changes=0, start=T0, spacing=dt.timedelta(minutes=1))
    connector, store = dc_connector(dc), Store()
    store.sync(connector)
    for n in range(350):
        dc.move(f"PAY-{n + 1}", "Done", h(500) + dt.timedelta(milliseconds=100 * n))
    dc.clear_requests()
    store.sync(connector)
    assert mismatches(dc, store) == []
    posted = [r.body for r in dc.requests if r.path == "/rest/api/2/search" and r.method == "POST"]
    assert posted and all(body["expand"] == ["changelog"] and body["startAt"] == 0 for body in posted)
    assert all(len(body["jql"]) > 2000 for body in posted)
    assert dc.count("/rest/api/2/search") == 5  # the overlap, the minute, and its exclusions of 100, 200, 300
