"""The GitLab connector against the fake GitLab on 127.0.0.1 (tests/fakes/gitlab.py), and into the store."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.base import Batch, SourceEvent, SourceStatus
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, RateLimited
from bot.connectors.files import read_event_log
from bot.connectors.gitlab import GitLabConnector, GitLabSettings
from bot.connectors.gitlab_history import SyncState
from bot.connectors.http import HttpOptions
from bot.connectors.mapping import default_stages
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from tests.fakes.gitlab import DEFAULT_WORKFLOW_YAML, FakeGitLab

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture
def connect() -> Iterator[Callable[..., GitLabConnector]]:
    """Make connectors for the fake (project acme/web, no real sleeping), closed after the test."""
    opened: list[GitLabConnector] = []

    def make(fake: FakeGitLab, **options: Any) -> GitLabConnector:
        settings = options.pop("settings", None) or GitLabSettings(
            project="acme/web", token=fake.token, api_url=fake.api_url
        )
        sleeps: list[float] = options.pop("sleeps", [])
        http = replace(options.pop("http", HttpOptions()), sleep=sleeps.append)
        connector = GitLabConnector(settings, http=http, **options)
        opened.append(connector)
        return connector

    yield make
    for connector in opened:
        connector.close()


def sync(connector: GitLabConnector, cursor: str | None = None) -> list[Batch]:
    return list(connector.fetch(cursor))


def events_of(batches: list[Batch]) -> list[SourceEvent]:
    """Every event, by item then time (batches follow updated_at, not the item)."""
    events = [event for batch in batches for event in batch.events]
    return sorted(events, key=lambda e: (e.item_id, e.timestamp))


def identity(event: SourceEvent) -> tuple[object, ...]:
    """What the store deduplicates events by."""
    return (event.item_id, event.timestamp, event.event, event.to_status)


def ids(fake: FakeGitLab) -> dict[str, str]:
    return {name: str(fake.label(name).id) for name in ("Todo", "Doing", "Review", "Done")}


def test_backfill_turns_label_and_state_events_into_the_event_log(gitlab, connect):
    """Creation in its form label, scoped label moves, and closing become created and status events."""
    one = gitlab.add_issue(h(0), [(h(1), "Doing"), (h(3), "Review")], initial="Todo", assignee="bea")
    gitlab.move(one, "bug", h(2))  # not a workflow label: no event
    gitlab.close(one, h(5))  # closed while in Review: finished
    gitlab.add_issue(h(4), title="Untouched", issue_type="incident")
    s = ids(gitlab)
    expected = [
        ("acme/web#1", h(0), "created", None, s["Todo"], "Todo"),
        ("acme/web#1", h(1), "status", s["Todo"], s["Doing"], "Doing"),
        ("acme/web#1", h(3), "status", s["Doing"], s["Review"], "Review"),
        ("acme/web#1", h(5), "status", s["Review"], "closed", "Closed"),
        ("acme/web#2", h(4), "created", None, "opened", "Open"),
    ]
    batches = sync(connect(gitlab))
    got = [
        (e.item_id, e.timestamp, e.event, e.from_status, e.to_status, e.to_status_name)
        for e in events_of(batches)
    ]
    assert got == expected
    items = {item.item_id: item for batch in batches for item in batch.items}
    assert items["acme/web#1"].status == "Closed" and items["acme/web#1"].assignee == "bea"
    assert items["acme/web#1"].url == f"{gitlab.url}/acme/web/-/issues/1"
    assert items["acme/web#1"].created_at == h(0) and items["acme/web#1"].type == "issue"
    assert (items["acme/web#2"].title, items["acme/web#2"].type) == ("Untouched", "incident")


def test_closing_a_done_issue_keeps_it_done_and_reopening_returns_to_its_label(gitlab, connect):
    """Closed with workflow::Done stays Done; reopened goes back to the label it holds, or to Open."""
    done = gitlab.add_issue(h(0), [(h(1), "Doing"), (h(2), "Done")])
    gitlab.close(done, h(2.5))
    doing = gitlab.add_issue(h(0.5), [(h(1), "Doing")])
    gitlab.close(doing, h(3))
    gitlab.reopen(doing, h(4))
    gitlab.unlabel(doing, "Doing", h(5))
    s = ids(gitlab)
    moves = [(e.item_id, e.to_status) for e in events_of(sync(connect(gitlab)))]
    assert moves == [
        ("acme/web#1", "opened"), ("acme/web#1", s["Doing"]), ("acme/web#1", s["Done"]),
        ("acme/web#2", "opened"), ("acme/web#2", s["Doing"]), ("acme/web#2", "closed"),
        ("acme/web#2", s["Doing"]), ("acme/web#2", "opened"),
    ]  # fmt: skip


def test_without_scoped_exclusivity_removing_the_newest_label_falls_back_to_the_one_before():
    """On GitLab Free labels pile up: the newest one held is the status, and removing it reveals the older."""
    with FakeGitLab(scoped_exclusive=False) as fake:
        issue = fake.add_issue(h(0), [(h(1), "Doing"), (h(2), "Review")], initial="Todo")
        fake.unlabel(issue, "Review", h(3))
        settings = GitLabSettings(project="acme/web", token=fake.token, api_url=fake.api_url)
        with GitLabConnector(settings, http=HttpOptions(sleep=lambda _: None)) as connector:
            names = [e.to_status_name for e in events_of(sync(connector))]
    assert names == ["Todo", "Doing", "Review", "Doing"]


def test_long_label_history_is_read_over_several_event_pages(gitlab, connect):
    """Thirty label moves at five events a page arrive complete, each page asked for once."""
    moves = [(h(i + 1), "Doing" if i % 2 == 0 else "Review") for i in range(30)]
    gitlab.add_issue(h(0), moves, initial="Todo")
    events = events_of(sync(connect(gitlab, events_page_size=5)))
    assert [e.to_status_name for e in events] == ["Todo"] + ["Doing", "Review"] * 15
    # 1 add at creation, then each move removes one label and adds another: 61 events, 13 pages.
    assert gitlab.count("/projects/7/issues/1/resource_label_events") == 13
    pages = [r.query["page"] for r in gitlab.requests if r.path.endswith("/resource_label_events")]
    assert pages == [[str(n)] for n in range(1, 14)]


def test_one_batch_per_issues_page_each_with_a_resumable_cursor(gitlab, connect):
    """Seven issues at three a page: each next page starts at the newest update read, and is one batch.

    The issue at that update comes back once more (GitLab's updated_after is inclusive) and is skipped.
    """
    for n in range(7):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing")])
    batches = sync(connect(gitlab, page_size=3))
    assert [len(batch.items) for batch in batches] == [3, 2, 2]
    cursors = [json.loads(batch.cursor or "") for batch in batches]
    assert [c["updated"] for c in cursors] == ["2026-01-05T11:30:00.000Z", "2026-01-05T13:30:00.000Z",
                                              "2026-01-05T15:30:00.000Z"]  # fmt: skip
    listings = [r.query for r in gitlab.requests if r.path == "/projects/acme/web/issues"]
    assert listings[0]["order_by"] == ["updated_at"] and listings[0]["sort"] == ["asc"]
    assert "updated_after" not in listings[0]
    assert listings[1]["updated_after"] == ["2026-01-05T11:30:00.000Z"] and listings[1]["page"] == ["1"]


def test_incremental_sync_reads_only_what_changed_since_the_cursor(gitlab, connect):
    """Nothing changed: one listing, no history requests; one move: just that issue and its new event."""
    for n in range(5):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing")])
    connector = connect(gitlab, page_size=2)
    cursor = sync(connector)[-1].cursor
    gitlab.clear_requests()
    assert sync(connector, cursor) == []
    assert gitlab.count("/projects/acme/web/issues") == 1 and gitlab.count("/projects/7") == 0
    [listing] = gitlab.requests
    assert listing.query["updated_after"] == ["2026-01-05T13:25:00.000Z"]  # newest update − 5 min overlap
    gitlab.move(gitlab.issue(2), "Review", h(50))
    gitlab.clear_requests()
    [batch] = sync(connector, cursor)
    assert [item.item_id for item in batch.items] == ["acme/web#2"]
    assert batch.events[-1].to_status_name == "Review" and batch.events[-1].timestamp == h(50)
    assert gitlab.count("/projects/7/issues/") == 2  # its label and state events, nothing else
    gitlab.clear_requests()
    assert sync(connector, batch.cursor) == [] and gitlab.count("/projects/7/issues/") == 0


def test_a_change_within_the_overlap_is_found(gitlab, connect):
    """A change stamped just before the cursor's newest update (a late commit) is still delivered."""
    gitlab.add_issue(h(0), [(h(1), "Doing")])
    gitlab.add_issue(h(0), [(h(2), "Doing")])
    connector = connect(gitlab)
    cursor = sync(connector)[-1].cursor
    gitlab.move(gitlab.issue(1), "Review", h(2) - dt.timedelta(minutes=2))
    [batch] = sync(connector, cursor)
    assert [item.item_id for item in batch.items] == ["acme/web#1"]
    assert batch.events[-1].to_status_name == "Review"


def test_an_issue_updated_mid_backfill_does_not_make_a_later_one_be_skipped(gitlab, connect):
    """Moving an already-read issue shifts the list; the next page still starts where the last ended."""
    for n in range(6):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing")])
    fetching = connect(gitlab, page_size=3).fetch(None)
    first = next(fetching)
    gitlab.move(gitlab.issue(1), "Review", h(40))  # #1 jumps to the end; offset page 2 would skip #4
    rest = list(fetching)
    delivered = {item.item_id for batch in [first, *rest] for item in batch.items}
    assert delivered == {f"acme/web#{n}" for n in range(1, 7)}
    assert [e.to_status_name for e in events_of(rest) if e.item_id == "acme/web#1"][-1] == "Review"


def test_a_whole_page_with_one_updated_at_is_paged_by_offset_as_a_window(gitlab, connect):
    """Five issues updated in the same millisecond at two a page: that millisecond is read again as a closed
    window (updated_before too) paged by X-Next-Page, then the sync goes on after it."""
    for _ in range(5):
        gitlab.add_issue(h(0), [(h(1), "Doing")])
    batches = sync(connect(gitlab, page_size=2))
    assert sorted(item.item_id for batch in batches for item in batch.items) == [
        f"acme/web#{n}" for n in range(1, 6)
    ]
    listings = [r.query for r in gitlab.requests if r.path == "/projects/acme/web/issues"]
    assert [q["page"] for q in listings] == [["1"], ["1"], ["1"], ["2"], ["3"], ["1"]]
    assert ["updated_before" in q for q in listings] == [False, False, True, True, True, False]


def test_issues_leaving_a_crowded_millisecond_mid_sync_do_not_make_another_be_skipped(gitlab, connect):
    """Five issues share one updated_at at two a page, so the sync pages through them by offset. Two of them
    move on while it does (each jumps to the end, shifting the rest forward): no other is skipped, and after
    one more sync every stored status is GitLab's."""
    for _ in range(5):
        gitlab.add_issue(h(0), [(h(1), "Doing")])
    gitlab.add_issue(h(2), [(h(3), "Doing")])
    connector, stored = connect(gitlab, page_size=2), {}
    fetching, cursor = connector.fetch(None), None
    for number, batch in enumerate(fetching):
        stored |= {item.item_id: item.status for item in batch.items}
        cursor = batch.cursor
        if number in (0, 1):  # after the first and the second page: one read issue of that moment moves on
            gitlab.move(gitlab.issue(number + 1), "Review", h(40 + number))
    for batch in connector.fetch(cursor):
        stored |= {item.item_id: item.status for item in batch.items}
    assert stored == {f"acme/web#{n}": "Review" if n <= 2 else "Doing" for n in range(1, 7)}
    listings = [r.query for r in gitlab.requests if r.path == "/projects/acme/web/issues"]
    assert any("updated_before" in query for query in listings)


def test_a_killed_sync_resumes_without_losing_or_duplicating(gitlab, connect):
    """Stopping after the first page and restarting from its cursor delivers every event exactly once."""
    for n in range(8):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing"), (h(n + 0.7), "Done")], initial="Todo")
    full = events_of(sync(connect(gitlab, page_size=3)))
    first = next(connect(gitlab, page_size=3).fetch(None))
    rest = events_of(sync(connect(gitlab, page_size=3), first.cursor))
    resumed = [*first.events, *rest]
    assert sorted(map(identity, resumed), key=str) == sorted(map(identity, full), key=str)
    assert len(resumed) == len(full) == 8 * 3


def test_429_is_retried_after_the_wait_gitlab_asks_for(gitlab, connect):
    """Retry-After: 7 makes the connector sleep 7 s and carry on to the same events."""
    gitlab.add_issue(h(0), [(h(1), "Doing")])
    expected = events_of(sync(connect(gitlab)))
    gitlab.fail("/projects/acme/web/issues", 429, headers={"Retry-After": "7"}, reset_after=7)
    sleeps: list[float] = []
    assert events_of(sync(connect(gitlab, sleeps=sleeps))) == expected
    assert sleeps == [7.0]


def test_429_with_only_ratelimit_reset_waits_until_the_reset(gitlab, connect):
    """Without Retry-After the wait runs from the response's Date to RateLimit-Reset."""
    gitlab.add_issue(h(0), [(h(1), "Doing")])
    gitlab.fail("/projects/7/issues/1/resource_state_events", 429, reset_after=12)
    sleeps: list[float] = []
    assert len(sync(connect(gitlab, sleeps=sleeps))) == 1
    assert sleeps == [12.0]


def test_rate_limiting_that_does_not_stop_is_reported(gitlab, connect):
    """429 on every attempt ends the sync with RateLimited after the retries, naming no token."""
    gitlab.fail("/projects/acme/web/issues", 429, times=None, headers={"Retry-After": "1"})
    with pytest.raises(RateLimited) as raised:
        sync(connect(gitlab, http=HttpOptions(max_retries=2)))
    assert gitlab.token not in str(raised.value)


def test_refused_token_is_bad_credentials_and_missing_scope_no_permission(gitlab, connect):
    """401 → BadCredentials, 403 insufficient_scope → NoPermission naming read_api; no token in either."""
    wrong = GitLabSettings(project="acme/web", token="glpat-wrong", api_url=gitlab.api_url)
    with pytest.raises(BadCredentials, match="refused the access token") as refused:
        connect(gitlab, settings=wrong).check()
    with pytest.raises(BadCredentials):
        sync(connect(gitlab, settings=wrong))
    gitlab.scopes = ("read_user",)
    with pytest.raises(NoPermission, match="read_api") as denied:
        connect(gitlab).check()
    with pytest.raises(NoPermission):
        sync(connect(gitlab))
    for error in (refused.value, denied.value):
        assert "glpat" not in str(error)


def test_check_describes_project_group_and_labels(gitlab, connect):
    """check() names the project or group, the user and the label count; an unknown project is NotFound."""
    assert connect(gitlab).check() == (
        f"GitLab project 'Acme / Web' (acme/web) at {gitlab.url}, as lead; 4 workflow:: labels"
    )
    group = GitLabSettings(group="acme", token=gitlab.token, api_url=gitlab.api_url, token_type="oauth")
    assert connect(gitlab, settings=group).check().startswith("GitLab group 'Acme' (acme) at")
    missing = GitLabSettings(project="acme/nope", token=gitlab.token, api_url=gitlab.api_url)
    with pytest.raises(NotFound, match="no project acme/nope"):
        connect(gitlab, settings=missing).check()


def test_oauth_tokens_are_sent_as_bearer_tokens(gitlab, connect):
    """token_type=oauth sends Authorization: Bearer and no PRIVATE-TOKEN header."""
    settings = GitLabSettings(
        project="acme/web", token=gitlab.token, api_url=gitlab.api_url, token_type="oauth"
    )
    connect(gitlab, settings=settings).check()
    headers = {k.lower(): v for k, v in gitlab.requests[0].headers.items()}
    assert headers["authorization"] == f"Bearer {gitlab.token}" and "private-token" not in headers


def test_group_boards_hold_issues_of_every_project(gitlab, connect):
    """A group's issues come from all its projects, each keyed by its own project path."""
    api = gitlab.add_project("api")
    gitlab.add_issue(h(0), [(h(1), "Doing")])
    gitlab.add_issue(h(2), [(h(3), "Review")], project=api)
    settings = GitLabSettings(group="acme", token=gitlab.token, api_url=gitlab.api_url)
    events = events_of(sync(connect(gitlab, settings=settings)))
    assert [(e.item_id, e.to_status_name) for e in events] == [
        ("acme/api#1", "Open"), ("acme/api#1", "Review"), ("acme/web#1", "Open"), ("acme/web#1", "Doing")
    ]  # fmt: skip
    assert gitlab.count("/groups/acme/issues") == 1 and gitlab.count(f"/projects/{api}/issues/1/") == 2


def test_statuses_are_the_workflow_labels_between_open_and_closed(gitlab, connect):
    """Labels with the prefix become statuses with categories by name; Open and Closed bracket them."""
    gitlab.add_label("workflow::Blocked by vendor")
    statuses = connect(gitlab).statuses()
    s = ids(gitlab)
    assert [(x.name, x.category) for x in statuses] == [
        ("Open", "new"), ("Todo", "new"), ("Blocked by vendor", "indeterminate"), ("Doing", "indeterminate"),
        ("Review", "indeterminate"), ("Done", "done"), ("Closed", "done"),
    ]  # fmt: skip
    assert statuses[3] == SourceStatus(s["Doing"], "Doing", "indeterminate")
    assert [r.query["search"] for r in gitlab.requests] == [["workflow::"]]
    assert default_stages(statuses)[-1] == {"name": "Done", "statuses": [s["Done"], "closed"], "kind": "done"}


def test_a_group_board_sees_workflow_labels_of_its_subgroups_and_projects(gitlab, connect):
    """GitLab lists a group's own labels only unless asked for descendants' and projects' too: a group board
    gets them all, one status per name however many projects define it."""
    api = gitlab.add_project("api")
    gitlab.add_label("workflow::QA", project_id=api)
    gitlab.add_label("workflow::QA", project_id=gitlab.project_id)
    gitlab.add_label("workflow::Deploying", subgroup="platform")
    group = GitLabSettings(group="acme", token=gitlab.token, api_url=gitlab.api_url)
    names = [s.name for s in connect(gitlab, settings=group).statuses()]
    assert names == ["Open", "Todo", "Deploying", "Doing", "QA", "Review", "Done", "Closed"]
    assert "Deploying" not in [s.name for s in connect(gitlab).statuses()]  # a project sees its ancestors'


def test_settings_need_one_scope_and_hide_the_token():
    """Exactly one of project and group; the API URL must be http(s); the token never shows."""
    with pytest.raises(ValidationError, match="either project"):
        GitLabSettings(token="t")
    with pytest.raises(ValidationError, match="either project"):
        GitLabSettings(project="a/b", group="a", token="t")
    with pytest.raises(ValidationError, match="https://"):
        GitLabSettings(project="a/b", token="t", api_url="gitlab.example.com")
    settings = GitLabSettings(project="/acme/web/", token="glpat-s3cret")
    assert settings.api_url == "https://gitlab.com/api/v4" and settings.project == "acme/web"
    shown = [repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()]
    assert not [text for text in shown if "s3cret" in text]
    connector = GitLabConnector(settings)
    assert "s3cret" not in repr(connector.http._client.auth)
    connector.close()


def test_metrics_from_the_store_equal_metrics_from_the_same_events_in_a_file(gitlab, tmp_path):
    """A GitLab sync stored in SQLite (resumed after a kill) gives the same metrics as its events as CSV."""
    for n in range(12):
        moves = [(h(7 * n + 2), "Doing"), (h(7 * n + 9), "Review"), (h(7 * n + 20), "Done")]
        issue = gitlab.add_issue(h(7 * n), moves[: 1 + n % 3], initial="Todo")
        if n % 4 == 0:
            gitlab.close(issue, h(7 * n + 30))
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        board = add_board(
            session, "Web", connector="gitlab", settings={}, encrypted_secrets=None,
            workflow_yaml=DEFAULT_WORKFLOW_YAML,
        ).id  # fmt: skip
    settings = GitLabSettings(project="acme/web", token=gitlab.token, api_url=gitlab.api_url)

    class KilledAfterOnePage(GitLabConnector):
        def fetch(self, cursor, progress=None):
            for number, batch in enumerate(super().fetch(cursor, progress)):
                if number == 1:
                    raise KeyboardInterrupt
                yield batch

    with pytest.raises(KeyboardInterrupt), KilledAfterOnePage(settings, page_size=5) as killed:
        sync_board(sessions, board, killed)
    with GitLabConnector(settings, page_size=5) as source:
        result = sync_board(sessions, board, source)
    workflow = parse_workflow(DEFAULT_WORKFLOW_YAML)
    with sessions() as session:
        stored = load_events(session, board, workflow)
    engine.dispose()
    path = tmp_path / "events.csv"
    with GitLabConnector(settings) as source, path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "to_status", "title", "type", "url", "assignee"])
        batches = list(source.fetch(None))
        items = {item.item_id: item for batch in batches for item in batch.items}
        events = [event for batch in batches for event in batch.events]
        for event in events:
            item = items[str(event.item_id)]
            when, name = event.timestamp.isoformat(), event.to_status_name
            writer.writerow(
                [event.item_id, when, event.event, name, item.title, item.type, item.url, item.assignee]
            )
    from_file = read_event_log(path, workflow).events
    assert len(stored) == len(from_file) == len(events) and result.events_added < len(events)
    asof = pd.Timestamp("2026-01-20T00:00Z")
    from_store_metrics = board_metrics(stored, workflow, asof)
    assert metrics_document(from_store_metrics) == metrics_document(board_metrics(from_file, workflow, asof))
    # Done: the four moved to workflow::Done (n = 2, 5, 8, 11) and two closed from Doing or Review (0, 4).
    assert from_store_metrics.throughput_total == 6


def test_progress_counts_issues_against_gitlabs_total(gitlab, connect):
    """A backfill reports issues done per page against X-Total of the first listing."""
    for n in range(5):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing")])
    seen: list[tuple[int, int | None]] = []
    list(connect(gitlab, page_size=2).fetch(None, lambda done, total: seen.append((done, total))))
    assert seen == [(2, 5), (3, 5), (4, 5), (5, 5)]  # each page after the first repeats one issue


def test_an_issue_deleted_mid_sync_is_skipped_and_the_rest_delivered(gitlab, connect):
    """A 404 on one issue's history (deleted after the listing) skips it instead of failing the sync."""
    for n in range(3):
        gitlab.add_issue(h(n), [(h(n + 0.5), "Doing")])
    gitlab.fail("/projects/7/issues/2/resource_label_events", 404)
    batches = sync(connect(gitlab))
    assert [item.item_id for batch in batches for item in batch.items] == ["acme/web#1", "acme/web#3"]


def test_an_issue_closed_without_state_events_is_closed_at_closed_at(gitlab, connect):
    """Issues closed before GitLab kept state events still end in Closed, at their closed_at."""
    issue = gitlab.add_issue(h(0), [(h(1), "Doing")])
    gitlab.close(issue, h(6))
    issue.state_events.clear()  # as on an issue closed before resource state events existed
    events = events_of(sync(connect(gitlab)))
    assert [(e.to_status_name, e.timestamp) for e in events][-1] == ("Closed", h(6))


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_CURSOR = (
    '{"version":1,"scope":"/projects/acme%2Fweb","updated":"2026-01-05T09:15:30.123Z",'
    '"recent":{"acme/web#3":"2026-01-05T09:15:30.123Z"}}'
)


def test_a_cursor_stored_by_earlier_versions_reads_back_the_same_and_is_written_the_same():
    """Same state from an old cursor of the same scope, the same bytes back; another scope starts over."""
    state = SyncState.load(OLD_CURSOR, scope="/projects/acme%2Fweb")
    assert state.scope == "/projects/acme%2Fweb"
    assert state.updated == h(0.25) + dt.timedelta(seconds=30, milliseconds=123)
    assert state.recent == {"acme/web#3": "2026-01-05T09:15:30.123Z"}
    assert state.dump() == OLD_CURSOR
    assert SyncState(scope="/groups/acme").dump() == (
        '{"version":1,"scope":"/groups/acme","updated":null,"recent":{}}'
    )
    assert SyncState.load(OLD_CURSOR, scope="/groups/acme") == SyncState(scope="/groups/acme")
