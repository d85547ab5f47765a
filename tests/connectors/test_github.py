"""The GitHub connector (Projects v2 and labels) against the fake GraphQL API of tests/fakes/github.py."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, replace

import pandas as pd
import pytest
from sqlalchemy import func, select

from analytics.document import metrics_document
from analytics.measures import board_metrics
from analytics.workflow import parse_workflow
from bot.connectors.base import Batch
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, RateLimited
from bot.connectors.files import read_event_log
from bot.connectors.github import GitHubConnector, GitHubSettings
from bot.connectors.github_labels import LabelState
from bot.connectors.github_project import ProjectState
from bot.connectors.http import HttpOptions
from bot.services.sync import sync_board
from bot.store.boards import add_board
from bot.store.db import make_engine, session_factory, upgrade
from bot.store.eventstore import load_events
from bot.store.models import Event
from tests.fakes.github import DEFAULT_WORKFLOW_YAML, FakeGitHub

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
TODO, DOING, REVIEW, DONE = "f75ad846", "47fc9ee4", "5ef0dc97", "98236657"


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture
def opened() -> Iterator[list[GitHubConnector]]:
    connectors: list[GitHubConnector] = []
    yield connectors
    for connector in connectors:
        connector.close()


@pytest.fixture
def connect(opened):
    """Make a connector for the fake: project 3 of acme, no real sleeping (waits are recorded)."""

    def make(github: FakeGitHub, sleeps: list[float] | None = None, **options) -> GitHubConnector:
        values = {"owner": github.owner, "project_number": 3, "token": github.token, "api_url": github.url}
        values |= options.pop("settings", {})
        waits = sleeps if sleeps is not None else []
        http = replace(options.pop("http", HttpOptions()), sleep=waits.append)
        connector = GitHubConnector(GitHubSettings.model_validate(values), http=http, **options)
        opened.append(connector)
        return connector

    return make


def events_of(batches: list[Batch]) -> list[dict[str, object]]:
    events = [{k: v for k, v in asdict(e).items() if v is not None} for b in batches for e in b.events]
    return sorted(events, key=lambda e: (str(e["item_id"]), e["timestamp"]))


def board(github: FakeGitHub) -> None:
    """#1: Todo → In Progress → Done, recorded in its timeline; #2: a draft moved without a record."""
    github.add_item(h(0), [(h(0.5), "Todo"), (h(1), "In Progress"), (h(5), "Done")], assignee="bea")
    github.add_item(h(2), [(h(3), "In Review")], kind="DraftIssue", title="Sketch")


def test_backfill_replays_timeline_history_and_dates_untracked_moves_by_the_value(github, connect):
    """Timeline entries become status events with option ids; a draft starts in No Status, then moves."""
    board(github)
    batches = list(connect(github).fetch(None))
    assert events_of(batches) == [
        {"item_id": "acme/web#1", "timestamp": h(0), "event": "created", "to_status": "no-status",
         "to_status_name": "No Status"},
        {"item_id": "acme/web#1", "timestamp": h(0.5), "event": "status", "from_status": "no-status",
         "to_status": TODO, "to_status_name": "Todo"},
        {"item_id": "acme/web#1", "timestamp": h(1), "event": "status", "from_status": TODO,
         "to_status": DOING, "to_status_name": "In Progress"},
        {"item_id": "acme/web#1", "timestamp": h(5), "event": "status", "from_status": DOING,
         "to_status": DONE, "to_status_name": "Done"},
        {"item_id": "draft-100002", "timestamp": h(2), "event": "created", "to_status": "no-status",
         "to_status_name": "No Status"},
        {"item_id": "draft-100002", "timestamp": h(3), "event": "status", "from_status": "no-status",
         "to_status": REVIEW, "to_status_name": "In Review"},
    ]  # fmt: skip
    items = {item.item_id: item for batch in batches for item in batch.items}
    issue, draft = items["acme/web#1"], items["draft-100002"]
    assert (issue.status, issue.assignee, issue.type, issue.created_at) == ("Done", "bea", "Issue", h(0))
    assert issue.url == "https://github.com/acme/web/issues/1"
    assert (draft.title, draft.type, draft.status) == ("Sketch", "Draft issue", "In Review")


def test_timeline_entries_of_other_projects_are_ignored(github, connect):
    """Only this project's ProjectV2ItemStatusChangedEvents count; another board's moves are not ours."""
    item = github.add_item(h(0), [(h(1), "In Progress")])
    item.content.timeline.insert(0, github.status_event(h(0.5), "", "Shipped", project="PVT_other"))
    statuses = [e.get("to_status_name") for e in events_of(list(connect(github).fetch(None)))]
    assert statuses == ["No Status", "In Progress"]


def test_history_spanning_several_timeline_pages_is_read_whole(github, connect):
    """An issue with 25 status changes, timeline pages of 4, arrives with all 25 changes in order."""
    moves = [(h(i + 1), "In Progress" if i % 2 == 0 else "In Review") for i in range(24)] + [(h(30), "Done")]
    github.add_item(h(0), moves)
    events = events_of(list(connect(github, history_page_size=4).fetch(None)))
    assert [e["to_status"] for e in events if e["event"] == "status"][-3:] == [DOING, REVIEW, DONE]
    assert sum(1 for e in events if e["event"] == "status") == 25
    assert len(github.operations("ItemHistoryPage")) == 6  # 25 entries: one page in nodes(), six more


def test_one_batch_per_page_and_progress(github, connect):
    """Seven items at three a page come as three batches, progress counting against totalCount."""
    for n in range(7):
        github.add_item(h(n), [(h(n + 0.5), "Todo")])
    seen: list[tuple[int, int | None]] = []
    batches = list(connect(github, page_size=3).fetch(None, lambda done, total: seen.append((done, total))))
    assert [len(b.items) for b in batches] == [3, 3, 1]
    assert seen == [(3, 7), (6, 7), (7, 7)]
    assert [json.loads(b.cursor or "")["in_pass"] for b in batches] == [True, True, False]


def test_incremental_sync_delivers_only_changes_since_the_cursor(github, connect):
    """After a move, a new item and a deletion, the next sync reports exactly those and nothing else."""
    board(github)
    github.add_item(h(4), [(h(4.5), "Todo")])
    connector = connect(github, page_size=2)
    cursor = list(connector.fetch(None))[-1].cursor
    assert [e for b in connector.fetch(cursor) for e in b.events] == []
    github.move("acme/web#1", "In Review", h(10))  # from Done back to review
    github.move("draft-100002", None, h(11))  # cleared: back to No Status
    github.delete("acme/web#3")
    github.add_item(h(12), [(h(13), "In Progress")], repo="acme/api")
    github.requests.clear()
    batches = list(connector.fetch(cursor))
    assert [(e["item_id"], e["event"], e["to_status"]) for e in events_of(batches)] == [
        ("acme/api#4", "created", "no-status"),
        ("acme/api#4", "status", DOING),
        ("acme/web#1", "status", REVIEW),
        ("draft-100002", "status", "no-status"),
    ]
    moved = next(e for e in events_of(batches) if e["item_id"] == "acme/web#1")
    assert (moved["timestamp"], moved["from_status"]) == (h(10), DONE)
    assert [r for b in batches for r in b.removed] == ["acme/web#3"]
    assert {i.item_id for b in batches for i in b.items} == {"acme/api#4", "acme/web#1", "draft-100002"}
    assert len(github.operations("ItemHistories")) == 1  # only the new issue's timeline is read


def test_killed_sync_resumes_from_the_last_batch_without_loss_or_duplicates(github, connect):
    """Stopping after the first batch and resuming from its cursor gives exactly one clean sync's events."""
    for n in range(7):
        github.add_item(h(n), [(h(n + 0.5), "Todo"), (h(n + 1), "In Progress")])
    clean = events_of(list(connect(github, page_size=3).fetch(None)))
    first = next(iter(connect(github, page_size=3).fetch(None)))
    github.requests.clear()
    rest = list(connect(github, page_size=3).fetch(first.cursor))
    resumed = events_of([first, *rest])
    assert resumed == clean and len(clean) == 21
    assert github.operations("ProjectItems")[0]["after"] is not None  # resumed mid-pass, not from the start
    assert [r for b in rest for r in b.removed] == []


@pytest.mark.parametrize("style", ["graphql", "primary", "secondary"])
def test_rate_limits_are_waited_out_and_retried(github, connect, style):
    """A 200 RATE_LIMITED error, a primary 403 and a secondary 403 are each waited out, then retried."""
    board(github)
    github.rate_limit(style, wait=42, times=2)
    sleeps: list[float] = []
    batches = list(connect(github, sleeps).fetch(None))
    assert len(events_of(batches)) == 6
    assert len(sleeps) == 2 and all(40 <= s <= 44 for s in sleeps)


def test_a_rate_limit_that_persists_ends_in_rate_limited(github, connect):
    """A limit outlasting the retries fails the sync with RateLimited, not with a permission error."""
    github.rate_limit("primary", times=10)
    with pytest.raises(RateLimited):
        list(connect(github, http=HttpOptions(max_retries=2)).fetch(None))


def test_a_primary_rate_limit_is_waited_out_until_it_resets_and_the_wait_is_shown(github, connect, caplog):
    """A reset 25 minutes away is one wait of 25 minutes (not five capped minutes and a failure), told to
    the progress callback before it starts and logged with the time it ends."""
    github.add_item(h(0), [(h(1), "Todo")])
    github.rate_limit("primary", wait=1500)
    sleeps: list[float] = []
    shown: list[tuple[int, int | None, float | None]] = []

    def progress(done: int, total: int | None, *, waiting: float | None = None) -> None:
        shown.append((done, total, waiting))

    with caplog.at_level("WARNING", logger="flowcoach.http"):
        batches = list(connect(github, sleeps).fetch(None, progress))
    assert len(sleeps) == 1 and 1495 <= sleeps[0] <= 1501
    assert shown == [(0, None, sleeps[0]), (1, 1, None)]
    assert {i.item_id for b in batches for i in b.items} == {"acme/web#1"}
    assert re.search(
        r"GitHub is rate-limiting requests .* waiting 2[56] min, until \d\d:\d\d:\d\d UTC", caplog.text
    )


def test_a_reset_beyond_the_longest_allowed_wait_fails_at_once(github, connect):
    """With rate_limit_max_wait=600, a reset 25 minutes away fails without waiting, saying when to retry."""
    github.add_item(h(0))
    github.rate_limit("primary", wait=1500, times=10)
    sleeps: list[float] = []
    connector = connect(github, sleeps, settings={"rate_limit_max_wait": 600})
    with pytest.raises(RateLimited, match=r"until \d\d:\d\d UTC, 2[56] min from now, longer than the 10 min"):
        list(connector.fetch(None))
    assert sleeps == []


def test_archived_items_are_read_and_archiving_a_seen_item_does_not_remove_it(github, connect):
    """GitHub lists archived items only when asked: finished work archived before the first sync still
    arrives with its history, and an item archived after it keeps its status instead of being removed."""
    github.add_item(h(0), [(h(1), "In Progress"), (h(3), "Done")])
    shipped = github.add_item(h(0.5), [(h(1), "In Progress"), (h(4), "Done")])
    github.archive(shipped.key, h(6))
    connector = connect(github)
    batches = list(connector.fetch(None))
    assert {i.item_id: i.status for b in batches for i in b.items} == {
        "acme/web#1": "Done",
        "acme/web#2": "Done",
    }
    assert (h(4), DONE) in {(e["timestamp"], e["to_status"]) for e in events_of(batches)
                             if e["item_id"] == "acme/web#2"}  # fmt: skip
    github.archive("acme/web#1", h(8))
    again = list(connector.fetch(batches[-1].cursor))
    assert [b.removed for b in again] == [()]
    assert events_of(again) == []


def test_items_the_token_may_not_read_are_skipped_with_a_warning_that_counts_them(github, connect):
    """FORBIDDEN content (a repository the token cannot read) costs those items, not the sync: the others
    arrive, a warning says how many were skipped, and an item that becomes unreadable is not removed."""
    github.add_item(h(0), [(h(1), "Done")])
    for _ in range(2):
        github.add_item(h(0), [(h(1), "In Progress")], repo="acme/secret").content.readable = False
    later = github.add_item(h(0), [(h(2), "In Review")])
    connector = connect(github, page_size=2)
    batches = list(connector.fetch(None))
    assert {i.item_id for b in batches for i in b.items} == {"acme/web#1", "acme/web#4"}
    warnings = [w for b in batches for w in b.warnings]
    assert len(warnings) == 1 and warnings[0].startswith("2 items of the GitHub project could not be read")
    later.content.readable = False
    again = list(connector.fetch(batches[-1].cursor))
    assert [b.removed for b in again] == [(), ()]
    assert [w[:2] for b in again for w in b.warnings] == ["3 "]


def test_a_syncs_warnings_reach_its_result(github, connect, sessions):
    """What a connector could not see is logged and handed back with the sync's counts."""
    github.add_item(h(0), [(h(1), "Done")])
    github.add_item(h(0), [(h(1), "Done")], repo="acme/secret").content.readable = False
    with sessions.begin() as session:
        board_id = add_board(
            session, "Team", connector="github", settings={}, encrypted_secrets=None,
            workflow_yaml=DEFAULT_WORKFLOW_YAML,
        ).id  # fmt: skip
    result = sync_board(sessions, board_id, connect(github))
    assert [w[:40] for w in result.warnings] == ["1 item of the GitHub project could not b"]


def test_a_server_without_status_events_falls_back_to_snapshots_with_a_warning(connect):
    """An older GitHub Enterprise Server rejects any query naming the status-changed event: the first sync
    finds out, never sends one, and dates each item's status by its value, saying why history is short."""
    with FakeGitHub(status_events=False) as github:
        github.add_item(h(0), [(h(1), "In Progress"), (h(3), "Done")])
        connector = connect(github)
        batches = list(connector.fetch(None))
        assert [(e["timestamp"], e["to_status"]) for e in events_of(batches)] == [
            (h(0), "no-status"),
            (h(3), DONE),
        ]
        warnings = [w for b in batches for w in b.warnings]
        assert len(warnings) == 1 and "has no status-changed timeline events" in warnings[0]
        github.add_item(h(4), [(h(5), "Todo")])
        github.move("acme/web#1", "In Review", h(6))
        again = list(connector.fetch(batches[-1].cursor))
        assert {(e["item_id"], e["to_status"]) for e in events_of(again)} == {
            ("acme/web#2", "no-status"),
            ("acme/web#2", TODO),
            ("acme/web#1", REVIEW),
        }
        assert github.operations("ItemHistories") == [] and len(github.operations("StatusEventSupport")) == 1


def test_bad_token_is_bad_credentials_without_the_token(github, connect):
    """401 Bad credentials → BadCredentials whose message never shows the token."""
    connector = connect(github, settings={"token": "ghp_wrongwrongwrong"})
    with pytest.raises(BadCredentials) as error:
        connector.check()
    assert "ghp_" not in str(error.value) and "401" in str(error.value)


def test_forbidden_and_missing_scopes_are_no_permission(github, connect):
    """An HTTP 403 (SAML enforcement) and a token without read:project both raise NoPermission."""
    github.fail(403, {"message": "Resource protected by organization SAML enforcement."})
    with pytest.raises(NoPermission, match="single sign-on"):
        connect(github).check()
    github.scopes = ("repo",)
    with pytest.raises(NoPermission, match="read:project"):
        connect(github).check()


def test_unknown_project_and_unknown_owner_are_not_found(github, connect):
    """A wrong project number or owner login raises NotFound naming what to check."""
    with pytest.raises(NotFound, match="no project #9 of acme"):
        connect(github, settings={"project_number": 9}).check()
    with pytest.raises(NotFound, match="no organization or user 'nobody'"):
        connect(github, settings={"owner": "nobody"}).check()
    with pytest.raises(NotFound, match="no field named 'Stage'"):
        connect(github, settings={"status_field": "Stage"}).statuses()


def test_check_describes_the_project_and_falls_back_to_a_user_owner(connect):
    """check() names the project, its number, its owner and the viewer, for an org or a user project."""
    with FakeGitHub(owner_kind="user", owner="mona", title="Side project") as github:
        assert connect(github).check() == "GitHub project 'Side project' (#3) of mona, as octocat"
        assert [op for op, _ in github.requests] == ["ProjectInfo", "ProjectInfo"]


def test_statuses_map_names_to_categories(github, connect):
    """Options get categories from their names (GitHub has none), and No Status is offered too."""
    found = {(s.name, s.category) for s in connect(github).statuses()}
    assert found == {("Todo", "new"), ("In Progress", "indeterminate"), ("In Review", "indeterminate"),
                     ("Done", "done"), ("No Status", "new")}  # fmt: skip


def test_settings_hide_the_token():
    """repr and model_dump show the token masked; labels may be given comma-separated."""
    settings = GitHubSettings(owner="acme", project_number=3, token="ghp_secret123")
    assert "ghp_secret123" not in repr(settings) and "ghp_secret123" not in str(settings.model_dump())
    assert settings.api_url == "https://api.github.com"
    labels = GitHubSettings(mode="labels", repo="acme/web", labels="todo, doing,review", token="x")  # type: ignore[arg-type]
    assert labels.labels == ["todo", "doing", "review"]
    with pytest.raises(ValueError, match="project_number"):
        GitHubSettings(owner="acme", token="x")


def test_labels_mode_turns_label_and_close_events_into_statuses(github, connect):
    """Labels in flow order become statuses, closing is done, reopening returns to the label's status."""
    issue = github.add_issue(
        h(0),
        [(h(1), "labeled", "doing"), (h(1.5), "labeled", "bug"), (h(2), "labeled", "review"),
         (h(3), "unlabeled", "review"), (h(4), "closed", None), (h(5), "reopened", None),
         (h(6), "closed", None)],
    )  # fmt: skip
    github.add_issue(h(7))
    connector = connect(github, settings={"mode": "labels", "repo": "acme/web", "labels": "doing,review"},
                        page_size=1, history_page_size=2)  # fmt: skip
    batches = list(connector.fetch(None))
    key = f"acme/web#{issue.number}"
    assert [(e["timestamp"], e["to_status"]) for e in events_of(batches) if e["item_id"] == key] == [
        (h(0), "open"), (h(1), "doing"), (h(2), "review"), (h(3), "doing"), (h(4), "closed"),
        (h(5), "doing"), (h(6), "closed"),
    ]  # fmt: skip
    cursor = batches[-1].cursor
    github.change_issue(issue, h(9), "reopened")
    again = list(connector.fetch(cursor))
    assert {i.item_id for b in again for i in b.items} == {key}
    assert ("status", "doing") in {(e["event"], e["to_status"]) for e in events_of(again)}


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def test_metrics_from_the_store_equal_metrics_from_the_same_events_in_a_file(
    github, connect, sessions, tmp_path
):
    """A GitHub board synced into SQLite gives the same metrics document as its events written to a CSV."""
    for n in range(12):
        moves = [(h(n + 0.5), "Todo"), (h(n + 2), "In Progress"), (h(n + 5), "In Review")]
        github.add_item(h(n), moves + ([(h(n + 8 + n % 3), "Done")] if n % 4 else []))
    with sessions.begin() as session:
        board_id = add_board(
            session, "Team", connector="github", settings={}, encrypted_secrets=None,
            workflow_yaml=DEFAULT_WORKFLOW_YAML,
        ).id  # fmt: skip
    sync_board(sessions, board_id, connect(github, page_size=5))
    github.move("acme/web#1", "Done", h(40))
    sync_board(sessions, board_id, connect(github, page_size=5))
    workflow = parse_workflow(DEFAULT_WORKFLOW_YAML)
    with sessions() as session:
        stored = load_events(session, board_id, workflow)
        count = session.scalar(select(func.count()).select_from(Event).where(Event.board_id == board_id))
    path = tmp_path / "events.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item_id", "timestamp", "event", "to_status", "title", "type", "url", "assignee"])
        source = connect(github, page_size=5)
        batches = list(source.fetch(None))
        items = {item.item_id: item for batch in batches for item in batch.items}
        rows = [e for b in batches for e in b.events]
        for e in rows:
            item = items[e.item_id]
            attributes = [item.title, item.type, item.url, item.assignee or ""]
            writer.writerow([e.item_id, e.timestamp.isoformat(), e.event, e.to_status_name, *attributes])
    assert count == len(rows) == 12 * 4 + 9 + 1
    from_file = read_event_log(path, workflow).events
    asof = pd.Timestamp("2026-01-10T00:00Z")
    stored_metrics = board_metrics(stored, workflow, asof)
    assert metrics_document(stored_metrics) == metrics_document(board_metrics(from_file, workflow, asof))
    assert stored_metrics.throughput_total == 10


# Written by the connector before cursors shared one base (commit a464682), as stored boards hold them.
OLD_PROJECT_CURSOR = (
    '{"version":1,"mode":"project","pass":2,"in_pass":true,"after":"Y3Vyc29y",'
    '"seen":{"PVTI_1":["acme/web#1","f75ad846",2,"2026-01-05T09:00:00Z"],'
    '"PVTI_2":["draft-7","no-status",1,null]}}'
)
OLD_LABELS_CURSOR = (
    '{"version":1,"mode":"labels","since":"2026-01-05T09:00:00Z","after":"Y3Vy",'
    '"newest":"2026-01-05T10:00:00Z","edge":["I_1","I_2"]}'
)


def test_cursors_stored_by_earlier_versions_read_back_the_same_and_are_written_the_same():
    """Same state from old project and labels cursors, the same bytes back; a mode never reads another's."""
    project = ProjectState.load(OLD_PROJECT_CURSOR)
    assert (project.pass_number, project.in_pass, project.after) == (2, True, "Y3Vyc29y")
    assert project.seen == {
        "PVTI_1": ["acme/web#1", "f75ad846", 2, "2026-01-05T09:00:00Z"],
        "PVTI_2": ["draft-7", "no-status", 1, None],
    }
    assert project.dump() == OLD_PROJECT_CURSOR
    assert ProjectState().dump() == (
        '{"version":1,"mode":"project","pass":0,"in_pass":false,"after":null,"seen":{}}'
    )
    labels = LabelState.load(OLD_LABELS_CURSOR)
    assert (labels.since, labels.after, labels.newest, labels.edge) == (
        "2026-01-05T09:00:00Z", "Y3Vy", "2026-01-05T10:00:00Z", ["I_1", "I_2"]
    )  # fmt: skip
    assert labels.dump() == OLD_LABELS_CURSOR
    assert LabelState().dump() == (
        '{"version":1,"mode":"labels","since":null,"after":null,"newest":null,"edge":[]}'
    )
    assert ProjectState.load(OLD_LABELS_CURSOR) == ProjectState()
    assert LabelState.load(OLD_PROJECT_CURSOR) == LabelState()
