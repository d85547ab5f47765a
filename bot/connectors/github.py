"""GitHub as a flowcoach board: a Projects v2 board (by its Status field) or labels on a repository's issues.

- ``mode=project``: the items of ``projectV2(number)`` of an organization, or of a user when the owner is
  not an organization, through GraphQL (``POST {api_url}/graphql``), one :class:`Batch` per page of items.
  History is snapshot polling plus, on an item's first sight, its timeline's status changes; see
  ``github_project``.
- ``mode=labels``: a repository's issues, whose labels in ``labels`` are the statuses and whose closing is
  done; history from each issue's labeled, unlabeled, closed and reopened events; see ``github_labels``.

Auth is ``Authorization: Bearer`` for a classic or fine-grained personal access token or a GitHub App
installation token alike. Rate limits are waited out and retried (see ``github_api``); the hourly primary
limit is waited out until it resets, up to ``rate_limit_max_wait``, with the wait shown as progress.
Project items the token may not read (``FORBIDDEN``) are skipped and counted in a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from analytics.workflow import Workflow
from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceStatus
from bot.connectors.errors import ConnectorError, NotFound
from bot.connectors.github_api import GitHubGraphQL, GitHubNotFound
from bot.connectors.github_labels import ISSUES_QUERY, TIMELINE_PAGE_QUERY, LabelBoard
from bot.connectors.github_project import (
    HISTORIES_QUERY,
    HISTORY_PAGE_QUERY,
    ITEMS_QUERY,
    PROJECT_QUERY,
    STATUS_EVENTS_QUERY,
    ProjectState,
    change_events,
    current_status,
    first_events,
    item_from,
    item_key,
    owner_query,
    statuses_from,
)
from bot.connectors.http import HttpOptions, web_address

log = logging.getLogger("flowcoach.github")
PAGE_SIZE = 50  # items per page and batch; GraphQL allows 100, but items carry nested content
HISTORY_PAGE_SIZE = 100  # timeline entries per page, GitHub's maximum
# The primary limit resets hourly, so an hour covers any reset; a sync then waits rather than fails.
RATE_LIMIT_MAX_WAIT = 3600
OWNER_KINDS = ("organization", "user")


def graphql_documents() -> dict[str, str]:
    """Every GraphQL document the connector can send, by operation (and owner kind where it varies).

    The contract tests validate each against GitHub's published schema, so a field GitHub does not have
    fails there rather than on a user's board.
    """
    documents = {
        f"{name}/{kind}": owner_query(query, kind)
        for name, query in (("ProjectInfo", PROJECT_QUERY), ("ProjectItems", ITEMS_QUERY))
        for kind in OWNER_KINDS
    }
    return documents | {
        "ItemHistories": HISTORIES_QUERY,
        "ItemHistoryPage": HISTORY_PAGE_QUERY,
        "StatusEventSupport": STATUS_EVENTS_QUERY,
        "RepositoryIssues": ISSUES_QUERY,
        "IssueTimelinePage": TIMELINE_PAGE_QUERY,
    }


class GitHubSettings(BaseModel):
    """A GitHub board: a Projects v2 project (owner + number) or a repository's labels."""

    mode: Literal["project", "labels"] = Field(
        default="project", description="project (a Projects v2 board) or labels (issue labels as statuses)"
    )
    owner: str | None = Field(default=None, description="organization or user login owning the project")
    project_number: int | None = Field(default=None, description="the number in the project's URL")
    status_field: str = Field(default="Status", description="single-select field holding the status")
    repo: str | None = Field(default=None, description="labels mode: the repository, owner/name")
    labels: list[str] = Field(default_factory=list, description="labels mode: status labels, in flow order")
    token: SecretStr = Field(description="personal access token (classic or fine-grained) or app token")
    api_url: str = Field(default="https://api.github.com", description="API address (GitHub Enterprise)")
    rate_limit_max_wait: int = Field(
        default=RATE_LIMIT_MAX_WAIT,
        ge=0,
        description="longest wait in seconds for GitHub's rate limit to reset; a later reset fails the sync",
    )

    @field_validator("labels", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @field_validator("api_url")
    @classmethod
    def _url(cls, url: str) -> str:
        return web_address(url, "https://api.github.com")

    @model_validator(mode="after")
    def _scope(self) -> Self:
        if self.mode == "project" and (not self.owner or self.project_number is None):
            raise ValueError("a project board needs owner (organization or user login) and project_number")
        if self.mode == "labels" and (not self.repo or "/" not in self.repo or not self.labels):
            raise ValueError("a labels board needs repo (owner/name) and labels (comma-separated, in order)")
        return self


class GitHubConnector(ClosesOnExit):
    """A GitHub project or labelled repository as a flowcoach board (see the module docstring).

    Keyword options (tests set them): ``http`` how the HTTP client waits and retries; ``page_size`` items
    per page and batch; ``history_page_size`` timeline entries per page.
    """

    def __init__(
        self,
        settings: GitHubSettings,
        workflow: Workflow | None = None,
        *,
        http: HttpOptions = HttpOptions(),
        page_size: int = PAGE_SIZE,
        history_page_size: int = HISTORY_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= 100 or not 1 <= history_page_size <= 100:
            raise ValueError("GitHub pages hold 1 to 100 nodes")
        self.settings = settings
        self.page_size, self.history_page_size = page_size, history_page_size
        http = replace(http, max_rate_limit_wait=float(settings.rate_limit_max_wait))
        self.api = GitHubGraphQL(settings.api_url, settings.token.get_secret_value(), http=http)
        self._labels = (
            LabelBoard(self.api, settings.repo or "", settings.labels, page_size, history_page_size)
            if settings.mode == "labels"
            else None
        )
        self._owner_kind: str | None = None
        self._info: Mapping[str, Any] | None = None
        self._status_events: bool | None = None  # does the server know the status-changed event?

    def close(self) -> None:
        self.api.close()

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """The project (or repository) and the account, once the token has been shown to read it."""
        if self._labels is not None:
            return self._labels.check()
        info = self._project()
        project = info[self._kind()]["projectV2"]
        return (
            f"GitHub project '{project['title']}' (#{project['number']}) of {info[self._kind()]['login']}, "
            f"as {(info.get('viewer') or {}).get('login', 'this token')}"
        )

    def statuses(self) -> list[SourceStatus]:
        """The Status field's options (categories guessed from their names), and "No Status"."""
        if self._labels is not None:
            return self._labels.statuses()
        return statuses_from(self._options())

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """One batch per page of items: changed statuses since the cursor, all history on first sight."""
        done, total = 0, None

        def waiting(seconds: float) -> None:
            if progress is not None:
                progress(done, total, waiting=seconds)

        self.api.waiting = waiting
        try:
            if self._labels is not None:
                yield from self._labels.fetch(cursor, progress)
                return
            for batch, done, total in self._project_batches(cursor):
                yield batch
                if progress is not None:
                    progress(done, total)
        finally:
            self.api.waiting = None

    def _project_batches(self, cursor: str | None) -> Iterator[tuple[Batch, int, int | None]]:
        """Each page's batch, with the items done so far and the project's item count."""
        project = self._project()[self._kind()]["projectV2"]
        ids_by_name = {str(o["name"]): str(o["id"]) for o in self._options()}
        state = ProjectState.load(cursor)
        state.start_pass()
        query = owner_query(ITEMS_QUERY, self._kind())
        done, unreadable, told = 0, 0, False
        warnings: list[str] = []
        while True:
            variables = self._scope() | {"first": self.page_size, "after": state.after}
            data, forbidden = self.api.run_partial("ProjectItems", query, variables)
            items = data[self._kind()]["projectV2"]["items"]
            hidden = {path[4] for path in forbidden if path[1:4] == ("projectV2", "items", "nodes")}
            nodes = []
            for index, node in enumerate(items.get("nodes") or []):
                if index in hidden:
                    # Neither delivered nor taken as gone: the item is still there, only its content is
                    # out of the token's reach; its last known status stands.
                    unreadable += 1
                    if node and node["id"] in state.seen:
                        state.seen[node["id"]][2] = state.pass_number
                elif node:
                    nodes.append(node)
            news = [n for n in nodes if n["id"] not in state.seen]
            timelines, note = self._timelines(news, str(project["id"]))
            if note and not told:
                warnings.append(note)
                told = True
            fresh, events = [], []
            for node in nodes:
                known = state.seen.get(node["id"])
                if known is None:
                    content_id = str((node.get("content") or {}).get("id"))
                    events += first_events(node, timelines.get(content_id, []), ids_by_name)
                else:
                    events += change_events(node, str(known[1]))
                if known is None or known[3] != node.get("updatedAt") or known[0] != item_key(node):
                    fresh.append(item_from(node, str(project["url"])))
                status = current_status(node)[0]
                state.seen[node["id"]] = [item_key(node), status, state.pass_number, node.get("updatedAt")]
            page = items.get("pageInfo") or {}
            removed: tuple[str, ...] = ()
            if page.get("hasNextPage"):
                state.after = page.get("endCursor")
            else:
                removed = state.finish_pass()
                if unreadable:
                    warnings.append(
                        f"{unreadable} item{'s' if unreadable != 1 else ''} of the GitHub project could not "
                        "be read (FORBIDDEN: an issue or pull request in a repository this token may not "
                        "read) and were skipped; give the token read access to those repositories"
                    )
            done += len(nodes)
            batch = Batch(tuple(fresh), tuple(events), state.dump(), removed, tuple(warnings))
            yield batch, done, items.get("totalCount")
            warnings = []
            if not page.get("hasNextPage"):
                return

    # -- the project -------------------------------------------------------------------------------------

    def _scope(self) -> dict[str, Any]:
        s = self.settings
        return {"login": s.owner, "number": s.project_number, "field": s.status_field}

    def _kind(self) -> str:
        assert self._owner_kind is not None, "read the project first"
        return self._owner_kind

    def _project(self) -> Mapping[str, Any]:
        """The project, its Status field and who we are; read once (an organization's, else a user's)."""
        if self._info is not None:
            return self._info
        s = self.settings
        for kind in ("organization", "user"):
            try:
                info = self.api.run("ProjectInfo", owner_query(PROJECT_QUERY, kind), self._scope())
            except GitHubNotFound as missing:
                if missing.path == (kind,):
                    continue  # not an owner of this kind: try the other
                raise NotFound(
                    f"GitHub has no project #{s.project_number} of {s.owner} that this token can see: check "
                    "the number in the project's URL, and that the token may read the project"
                ) from None
            self._owner_kind, self._info = kind, info
            return info
        raise NotFound(f"GitHub has no organization or user {s.owner!r}: check the owner login")

    def _options(self) -> Sequence[Mapping[str, Any]]:
        status = self._project()[self._kind()]["projectV2"].get("field")
        name = self.settings.status_field
        if not status:
            raise NotFound(f"The GitHub project has no field named {name!r}: set status_field to its name")
        if status.get("__typename") != "ProjectV2SingleSelectField":
            raise ConnectorError(f"The GitHub project's field {name!r} is not a single-select field")
        return list(status.get("options") or [])

    def _timelines(
        self, nodes: Sequence[Mapping[str, Any]], project_id: str
    ) -> tuple[dict[str, list[Any]], str | None]:
        """This project's status changes from the timelines of these items' issues and pull requests, and
        a warning when the server keeps no such timeline (then every item's history is snapshots)."""
        ids = [str(c["id"]) for n in nodes if (c := n.get("content") or {}).get("id")]
        if not ids:
            return {}, None
        if not self._knows_status_events():
            return {}, (
                f"GitHub at {self.settings.api_url} has no status-changed timeline events (an older GitHub "
                "Enterprise Server): items seen for the first time show only their current status, since it "
                "was set; later moves are seen by comparing syncs"
            )
        found: dict[str, list[Any]] = {}
        first = {"first": self.history_page_size, "after": None}
        # A content the token may not read comes back null with a FORBIDDEN error: it simply has no timeline.
        data, _ = self.api.run_partial("ItemHistories", HISTORIES_QUERY, {"ids": ids} | first)
        for content in data["nodes"]:
            while content and content.get("timelineItems") is not None:
                timeline = content["timelineItems"]
                found.setdefault(str(content["id"]), []).extend(
                    entry
                    for entry in timeline.get("nodes") or []
                    if entry and (entry.get("project") or {}).get("id") == project_id
                )
                page = timeline.get("pageInfo") or {}
                if not page.get("hasNextPage"):
                    break
                variables = {"id": content["id"], "first": self.history_page_size, "after": page["endCursor"]}
                content = self.api.run("ItemHistoryPage", HISTORY_PAGE_QUERY, variables)["node"]
        return found, None

    def _knows_status_events(self) -> bool:
        """Asked once per connector: GitHub.com always knows the event, an older GHES does not."""
        if self._status_events is None:
            answer = self.api.run("StatusEventSupport", STATUS_EVENTS_QUERY, {})
            self._status_events = answer.get("__type") is not None
            if not self._status_events:
                log.warning("GitHub at %s has no status-changed timeline events", self.settings.api_url)
        return self._status_events
