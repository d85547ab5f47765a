"""A label-driven GitHub board: a repository's issues, whose labels are the statuses and closing is done.

Issues are read oldest update first (``filterBy: {since}``), so the cursor is the newest ``updatedAt`` seen;
each issue read brings its whole labeled/unlabeled/closed/reopened timeline, replayed into status events
(re-delivered events are harmless: the store keeps each once). An issue's status is the most recently added
of ``labels`` still on it, "Open" without one, and "Closed" while closed, whatever its labels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from bot.connectors.base import Batch, ProgressCallback, SourceEvent, SourceItem, SourceStatus
from bot.connectors.cursor import VersionedCursor
from bot.connectors.errors import NotFound
from bot.connectors.github_api import GitHubGraphQL, GitHubNotFound
from bot.connectors.github_project import category_of, parse_time

OPEN = SourceStatus("open", "Open", "new")
CLOSED = SourceStatus("closed", "Closed", "done")

_TIMELINE = """
      timelineItems(first: $history, after: $historyAfter,
                    itemTypes: [LABELED_EVENT, UNLABELED_EVENT, CLOSED_EVENT, REOPENED_EVENT]) {
        pageInfo { hasNextPage endCursor }
        nodes {
          __typename
          ... on LabeledEvent { createdAt label { name } }
          ... on UnlabeledEvent { createdAt label { name } }
          ... on ClosedEvent { createdAt }
          ... on ReopenedEvent { createdAt }
        }
      }"""

ISSUES_QUERY = f"""
query RepositoryIssues($owner: String!, $name: String!, $first: Int!, $after: String, $since: DateTime,
                       $history: Int!, $historyAfter: String) {{
  viewer {{ login }}
  repository(owner: $owner, name: $name) {{
    nameWithOwner
    issues(first: $first, after: $after, orderBy: {{field: UPDATED_AT, direction: ASC}},
           filterBy: {{since: $since}}) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id number title url createdAt updatedAt state
        assignees(first: 1) {{ nodes {{ login }} }}
        {_TIMELINE}
      }}
    }}
  }}
}}"""

TIMELINE_PAGE_QUERY = f"""
query IssueTimelinePage($id: ID!, $history: Int!, $historyAfter: String) {{
  node(id: $id) {{ ... on Issue {{ id {_TIMELINE} }} }}
}}"""


class LabelState(VersionedCursor):
    """The cursor: issues updated at or after ``since`` are read next; ``after`` resumes a killed pass.

    ``since`` is inclusive, so ``edge`` lists the issues already delivered at exactly ``newest``: the next
    sync reads them again and skips them unless they changed. ``mode`` tells it from a project's cursor.
    """

    SOURCE = "GitHub labels"
    LOG = "flowcoach.github"

    mode: Literal["labels"] = "labels"
    since: str | None = None
    after: str | None = None
    newest: str | None = None
    edge: list[str] = Field(default_factory=list)

    def delivered(self, issue: Mapping[str, Any]) -> bool:
        return issue.get("updatedAt") == self.since and str(issue["id"]) in self.edge

    def observe(self, issue: Mapping[str, Any]) -> None:
        updated = issue.get("updatedAt")
        if updated is None:
            return
        if self.newest is None or updated > self.newest:
            self.newest, self.edge = str(updated), []
        if updated == self.newest:
            self.edge = [*self.edge, str(issue["id"])]


def replay(
    key: str, issue: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]], labels: Sequence[str]
) -> tuple[list[SourceEvent], str]:
    """The issue's events from its timeline, and its status now."""
    tracked = set(labels)
    on: list[str] = []  # tracked labels on the issue, most recently added last
    closed = False

    def status() -> str:
        return CLOSED.id if closed else (on[-1] if on else OPEN.id)

    current = status()
    events = [SourceEvent(key, parse_time(str(issue["createdAt"])), "created", None, current, _name(current))]
    for entry in sorted(timeline, key=lambda e: parse_time(str(e["createdAt"]))):
        kind, label = entry.get("__typename"), (entry.get("label") or {}).get("name")
        if kind == "ClosedEvent":
            closed = True
        elif kind == "ReopenedEvent":
            closed = False
        elif label in tracked and kind == "LabeledEvent":
            on = [*(name for name in on if name != label), str(label)]
        elif label in tracked and kind == "UnlabeledEvent":
            on = [name for name in on if name != label]
        after = status()
        if after != current:
            at = parse_time(str(entry["createdAt"]))
            events.append(SourceEvent(key, at, "status", current, after, _name(after)))
            current = after
    return events, current


def _name(status: str) -> str:
    return {OPEN.id: OPEN.name, CLOSED.id: CLOSED.name}.get(status, status)


class LabelBoard:
    """The labels mode of :class:`bot.connectors.github.GitHubConnector`."""

    def __init__(
        self, api: GitHubGraphQL, repo: str, labels: Sequence[str], page_size: int, history_page_size: int
    ) -> None:
        self.api, self.repo, self.labels = api, repo, list(labels)
        self.owner, _, self.name = repo.partition("/")
        self.page_size, self.history_page_size = page_size, history_page_size

    def check(self) -> str:
        data = self._page(None, None, first=1)
        who = (data.get("viewer") or {}).get("login", "this token")
        repository = data["repository"]["nameWithOwner"]
        return f"GitHub repository {repository} (labels {', '.join(self.labels)}), as {who}"

    def statuses(self) -> list[SourceStatus]:
        return [OPEN, *(SourceStatus(name, name, category_of(name)) for name in self.labels), CLOSED]

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        state = LabelState.load(cursor)
        done = 0
        while True:
            issues = self._page(state.since, state.after, first=self.page_size)["repository"]["issues"]
            items, events = [], []
            for issue in issues.get("nodes") or []:
                if state.delivered(issue):
                    continue
                key = f"{self.repo}#{issue['number']}"
                history, status = replay(key, issue, self._timeline(issue), self.labels)
                events += history
                assignees = (issue.get("assignees") or {}).get("nodes") or []
                items.append(
                    SourceItem(
                        item_id=key,
                        title=issue.get("title"),
                        type="Issue",
                        url=issue.get("url"),
                        created_at=parse_time(str(issue["createdAt"])),
                        status=_name(status),
                        assignee=assignees[0].get("login") if assignees else None,
                    )
                )
                state.observe(issue)
            page = issues.get("pageInfo") or {}
            if page.get("hasNextPage"):
                state.after = page.get("endCursor")
            else:
                state.since, state.after = state.newest or state.since, None
            done += len(items)
            yield Batch(tuple(items), tuple(events), state.dump())
            if progress is not None:
                progress(done, issues.get("totalCount"))
            if not page.get("hasNextPage"):
                return

    def _page(self, since: str | None, after: str | None, *, first: int) -> dict[str, Any]:
        variables = {"owner": self.owner, "name": self.name, "first": first, "after": after, "since": since}
        variables |= {"history": self.history_page_size, "historyAfter": None}
        try:
            return self.api.run("RepositoryIssues", ISSUES_QUERY, variables)
        except GitHubNotFound:
            raise NotFound(
                f"GitHub has no repository {self.repo} that this token can see: check owner/name, and that "
                "the token may read its issues"
            ) from None

    def _timeline(self, issue: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Every timeline entry of the issue, paging beyond the first page the issue query brought."""
        timeline, entries = issue.get("timelineItems") or {}, []
        while True:
            entries += [entry for entry in timeline.get("nodes") or [] if entry]
            page = timeline.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return entries
            variables = {
                "id": issue["id"],
                "history": self.history_page_size,
                "historyAfter": page["endCursor"],
            }
            timeline = self.api.run("IssueTimelinePage", TIMELINE_PAGE_QUERY, variables)["node"][
                "timelineItems"
            ]
