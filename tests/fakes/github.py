"""A fake GitHub GraphQL API on 127.0.0.1 that answers with GitHub's real payload shapes.

``POST /graphql`` with ``{"query", "variables", "operationName"}`` and ``Authorization: Bearer <token>``.
The fake does not parse GraphQL: it answers the operations the connector sends by ``operationName``, and
reads the owner kind (``organization(`` or ``user(``) from the query text, as GitHub resolves either.

- ``ProjectInfo``: ``viewer``, the owner and its ``projectV2(number)`` with ``field(name)`` and its options;
  a wrong owner kind or project number answers ``NOT_FOUND`` errors with GitHub's messages and paths.
- ``ProjectItems``: ``items(first, after, archivedStates)`` in position order (the order items were added),
  with ``totalCount`` and ``pageInfo``; pages hold at most ``max_page`` items. As on GitHub, archived items
  are left out unless ``archivedStates`` asks for them. Each item carries its Status value
  (``name optionId updatedAt``) and its content (issue, pull request or draft issue); content in a
  repository the token may not read is ``null`` with a ``FORBIDDEN`` error naming its path.
- ``StatusEventSupport``: ``__type(name: "ProjectV2ItemStatusChangedEvent")``, ``null`` on a server built with
  ``status_events=False`` (an older GitHub Enterprise Server), which also rejects any query naming the type.
- ``ItemHistories`` / ``ItemHistoryPage``: ``nodes(ids)`` / ``node(id)`` with ``timelineItems`` of
  ``ProjectV2ItemStatusChangedEvent`` (``previousStatus``/``status`` names, ``project { id }``), paged.
- ``RepositoryIssues`` / ``IssueTimelinePage``: a repository's issues by ``updatedAt`` with
  ``filterBy: {since}``, and their labeled/unlabeled/closed/reopened timelines, paged.

Tokens without ``read:project`` get ``INSUFFICIENT_SCOPES``; a wrong token gets 401 ``Bad credentials``.
Scripted faults answer the next requests: rate limits in GitHub's three forms (``rate_limit``), or any
status and body (``fail``). Every request is recorded as (operation name, variables), and every GraphQL
answer with the query it answers in ``exchanges`` (tests/contracts checks them against GitHub's schema).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.fakes.graphql_args import field_arguments
from tests.fakes.server import FakeAnswers, LocalHttpServer

DEFAULT_OPTIONS = (
    ("f75ad846", "Todo"),
    ("47fc9ee4", "In Progress"),
    ("5ef0dc97", "In Review"),
    ("98236657", "Done"),
)
DEFAULT_WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [No Status, Todo], kind: backlog}
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Review, statuses: [In Review], kind: queue}
  - {name: Done, statuses: [Done], kind: done}
"""
DOCS = "https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"


def iso(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cursor(position: int) -> str:
    return base64.b64encode(f"cursor:v2:{position}".encode()).decode()


def position(text: str | None) -> int:
    return int(base64.b64decode(text).decode().rsplit(":", 1)[1]) if text else 0


@dataclass
class FakeContent:
    node_id: str
    number: int
    repo: str
    title: str
    created: dt.datetime
    kind: Literal["Issue", "PullRequest", "DraftIssue"]
    assignee: str | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)  # ready-made GraphQL nodes
    state: str = "OPEN"
    updated: dt.datetime | None = None
    readable: bool = True  # False: in a repository the token may not read


@dataclass
class FakeItem:
    node_id: str
    database_id: int
    content: FakeContent
    added: dt.datetime
    status: str | None = None  # option id
    status_set: dt.datetime | None = None
    updated: dt.datetime | None = None
    archived: bool = False

    @property
    def key(self) -> str:
        if self.content.kind == "DraftIssue":
            return f"draft-{self.database_id}"
        return f"{self.content.repo}#{self.content.number}"


@dataclass
class Scripted:
    status: int
    body: Any
    headers: dict[str, str]
    times: int


class FakeGitHub(LocalHttpServer):
    """The fake API; use as a context manager (``with FakeGitHub() as github: github.url``)."""

    def __init__(
        self,
        *,
        owner: str = "acme",
        owner_kind: Literal["organization", "user"] = "organization",
        project_number: int = 3,
        title: str = "Payments",
        options: tuple[tuple[str, str], ...] = DEFAULT_OPTIONS,
        token: str = "ghp_fakeFAKEfake0123456789",
        viewer: str = "octocat",
        scopes: tuple[str, ...] = ("read:project", "repo"),
        max_page: int = 100,
        status_events: bool = True,
    ) -> None:
        self.owner, self.owner_kind, self.project_number, self.title = (
            owner,
            owner_kind,
            project_number,
            title,
        )
        self.project_id = "PVT_kwDOBfakeproject"
        self.options = dict(options)
        self.token, self.viewer, self.scopes, self.max_page = token, viewer, scopes, max_page
        self.status_events = status_events
        self.items: dict[str, FakeItem] = {}  # by key, in position order
        self.issues: dict[str, FakeContent] = {}  # every issue, PR and draft, by node id
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.exchanges: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (query, variables, answer)
        self.scripted: list[Scripted] = []
        self._next = 1
        self._lock = threading.RLock()

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundHandler", (_Handler,), {"github": self})

    # -- building and changing the project ---------------------------------------------------------------

    def option_id(self, name: str) -> str:
        return next(i for i, n in self.options.items() if n == name)

    def add_item(
        self,
        created: dt.datetime,
        moves: list[tuple[dt.datetime, str | None]] | tuple[tuple[dt.datetime, str | None], ...] = (),
        *,
        kind: Literal["Issue", "PullRequest", "DraftIssue"] = "Issue",
        repo: str = "acme/web",
        title: str | None = None,
        assignee: str | None = None,
        recorded: bool = True,
    ) -> FakeItem:
        """Content created (and added to the project) at ``created``, then moved through ``moves``.

        ``recorded=False`` leaves the moves out of the timeline, as GitHub does for drafts and sometimes
        for issues, so only the current value and its ``updatedAt`` tell of them.
        """
        with self._lock:
            n = self._next
            self._next += 1
            content = FakeContent(f"I_kwDO{n:06d}", n, repo, title or f"Item {n}", created, kind, assignee)
            item = FakeItem(f"PVTI_lADO{n:06d}", 100_000 + n, content, created, updated=created)
            self.issues[content.node_id] = content
            self.items[item.key] = item
            for at, status in moves:
                self.move(item.key, status, at, recorded=recorded)
            return item

    def move(self, key: str, status: str | None, at: dt.datetime, *, recorded: bool = True) -> None:
        """Set the item's Status to the option named ``status`` (``None`` clears it) at ``at``."""
        with self._lock:
            item = self.items[key]
            before = self.options.get(item.status or "", "")
            item.status = self.option_id(status) if status else None
            item.status_set = at if status else None
            item.updated = at
            if recorded and item.content.kind != "DraftIssue":
                item.content.timeline.append(self.status_event(at, before, status or ""))

    def status_event(
        self, at: dt.datetime, before: str, after: str, project: str | None = None
    ) -> dict[str, Any]:
        return {
            "createdAt": iso(at),
            "previousStatus": before,
            "status": after,
            "project": {"id": project or self.project_id},
        }

    def delete(self, key: str) -> None:
        with self._lock:
            del self.items[key]

    def archive(self, key: str, at: dt.datetime) -> None:
        """Archive the item (it keeps its Status); GitHub then lists it only when asked for archived ones."""
        with self._lock:
            item = self.items[key]
            item.archived, item.updated = True, at

    # -- labelled issues ----------------------------------------------------------------------------------

    def add_issue(
        self,
        created: dt.datetime,
        changes: list[tuple[dt.datetime, str, str | None]] | tuple[()] = (),
        *,
        repo: str = "acme/web",
        title: str | None = None,
    ) -> FakeContent:
        """A repository issue (not on the project) and its ``changes``: (time, labeled|unlabeled|closed|
        reopened, label)."""
        with self._lock:
            n = self._next
            self._next += 1
            issue = FakeContent(f"I_kwDO{n:06d}", n, repo, title or f"Issue {n}", created, "Issue", None)
            issue.updated = created
            self.issues[issue.node_id] = issue
            for at, kind, label in changes:
                self.change_issue(issue, at, kind, label)
            return issue

    def change_issue(self, issue: FakeContent, at: dt.datetime, kind: str, label: str | None = None) -> None:
        with self._lock:
            names = {"labeled": "LabeledEvent", "unlabeled": "UnlabeledEvent"}
            names |= {"closed": "ClosedEvent", "reopened": "ReopenedEvent"}
            entry: dict[str, Any] = {"__typename": names[kind], "createdAt": iso(at)}
            if label is not None:
                entry["label"] = {"name": label}
            issue.timeline.append(entry)
            issue.state = {"closed": "CLOSED", "reopened": "OPEN"}.get(kind, issue.state)
            issue.updated = at

    # -- faults and requests ------------------------------------------------------------------------------

    def fail(
        self, status: int, body: Any = None, *, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            self.scripted.append(Scripted(status, body, dict(headers or {}), times))

    def rate_limit(
        self, style: Literal["graphql", "primary", "secondary"], *, wait: int = 42, times: int = 1
    ) -> None:
        """GitHub's rate-limit answers: a 200 ``RATE_LIMITED`` error, a primary 403, a secondary 403."""
        reset = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000"}
        reset["x-ratelimit-reset"] = str(int(time.time()) + wait)
        if style == "graphql":
            body = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
            self.fail(200, body, times=times, headers=reset)
        elif style == "primary":
            body = {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS}
            self.fail(403, body, times=times, headers=reset)
        else:
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you "
                "try again. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": DOCS,
            }
            self.fail(403, body, times=times, headers={"retry-after": str(wait)})

    def operations(self, name: str | None = None) -> list[dict[str, Any]]:
        return [variables for op, variables in self.requests if name is None or op == name]

    # -- answers ------------------------------------------------------------------------------------------

    def answer(self, name: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        if "read:project" not in self.scopes and name.startswith(("Project", "Item")):
            return {
                "data": None,
                "errors": [
                    {
                        "type": "INSUFFICIENT_SCOPES",
                        "locations": [{"line": 3, "column": 3}],
                        "message": "Your token has not been granted the required scopes to execute this "
                        "query. The 'projectV2' field requires one of the following scopes: "
                        f"['read:project'], but your token has only been granted the: {list(self.scopes)!r} "
                        "scopes. Please modify your token's scopes at: https://github.com/settings/tokens.",
                    }
                ],
            }
        if not self.status_events and re.search(r"\bon\s+ProjectV2ItemStatusChangedEvent\b", query):
            return _unknown_type("ProjectV2ItemStatusChangedEvent")
        handler = {
            "StatusEventSupport": self._status_event_support,
            "ProjectInfo": self._project_info,
            "ProjectItems": self._project_items,
            "ItemHistories": self._histories,
            "ItemHistoryPage": self._history_page,
            "RepositoryIssues": self._repository_issues,
            "IssueTimelinePage": self._issue_timeline,
        }[name]
        return handler(query, variables)

    def _owner(self, query: str, variables: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        kind = "organization" if "organization(" in query else "user"
        if kind != self.owner_kind or variables["login"] != self.owner:
            noun = "an Organization" if kind == "organization" else "a User"
            message = f"Could not resolve to {noun} with the login of '{variables['login']}'."
            return kind, {"type": "NOT_FOUND", "path": [kind], "locations": [{"line": 3, "column": 3}],
                          "message": message}  # fmt: skip
        if variables["number"] != self.project_number:
            message = f"Could not resolve to a ProjectV2 with the number {variables['number']}."
            where = [{"line": 5, "column": 5}]
            return kind, {
                "type": "NOT_FOUND",
                "path": [kind, "projectV2"],
                "locations": where,
                "message": message,
            }
        return kind, None

    def _project_info(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        kind, error = self._owner(query, variables)
        owner: dict[str, Any] | None = None
        if error is None or error["path"] != [kind]:
            owner = {"login": self.owner, "projectV2": None}
        if error is not None:
            return {"data": {"viewer": {"login": self.viewer}, kind: owner}, "errors": [error]}
        status = None
        if variables["field"] == "Status":
            status = {
                "__typename": "ProjectV2SingleSelectField",
                "id": "PVTSSF_lADOfakestatus",
                "name": "Status",
                "options": [{"id": i, "name": n} for i, n in self.options.items()],
            }
        url = f"https://github.com/{'orgs' if kind == 'organization' else 'users'}/{self.owner}/projects/3"
        project = {"id": self.project_id, "number": self.project_number, "title": self.title, "url": url}
        assert owner is not None
        owner["projectV2"] = project | {"field": status}
        return {"data": {"viewer": {"login": self.viewer}, kind: owner}}

    def _status_event_support(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        known = {"name": "ProjectV2ItemStatusChangedEvent"} if self.status_events else None
        return {"data": {"__type": known}}

    def _project_items(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        kind, error = self._owner(query, variables)
        if error is not None:
            return {"data": {kind: None}, "errors": [error]}
        wanted = (field_arguments(query, variables, "items") or {}).get("archivedStates") or ["NOT_ARCHIVED"]
        items = [i for i in self.items.values() if ("ARCHIVED" if i.archived else "NOT_ARCHIVED") in wanted]
        start = position(variables.get("after"))
        size = min(int(variables["first"]), self.max_page)
        page = items[start : start + size]
        connection = {
            "totalCount": len(items),
            "pageInfo": {
                "hasNextPage": start + size < len(items),
                "endCursor": cursor(start + len(page)) if page else None,
            },
            "nodes": [self._item_json(item) for item in page],
        }
        data = {"data": {kind: {"projectV2": {"items": connection}}}}
        forbidden = [
            _forbidden([kind, "projectV2", "items", "nodes", n, "content"])
            for n, item in enumerate(page)
            if not item.content.readable
        ]
        return data | ({"errors": forbidden} if forbidden else {})

    def _item_json(self, item: FakeItem) -> dict[str, Any]:
        content = item.content
        kind = {"Issue": "ISSUE", "PullRequest": "PULL_REQUEST", "DraftIssue": "DRAFT_ISSUE"}[content.kind]
        body: dict[str, Any] = {
            "__typename": content.kind,
            "title": content.title,
            "createdAt": iso(content.created),
        }
        body["assignees"] = {"nodes": [{"login": content.assignee}] if content.assignee else []}
        if content.kind != "DraftIssue":
            body |= {
                "id": content.node_id,
                "number": content.number,
                "url": f"https://github.com/{content.repo}/{'issues' if content.kind == 'Issue' else 'pull'}/"
                f"{content.number}",
                "repository": {"nameWithOwner": content.repo},
            }
        value = None
        if item.status is not None and item.status_set is not None:
            value = {
                "name": self.options[item.status],
                "optionId": item.status,
                "updatedAt": iso(item.status_set),
            }
        return {
            "id": item.node_id,
            "databaseId": item.database_id,
            "type": kind,
            "createdAt": iso(item.added),
            "updatedAt": iso(item.updated or item.added),
            "fieldValueByName": value,
            "content": body if content.readable else None,
        }

    def _timeline_json(
        self, entries: list[dict[str, Any]], variables: dict[str, Any], first: str, after: str
    ) -> dict[str, Any]:
        start = position(variables.get(after))
        size = min(int(variables[first]), self.max_page)
        page = entries[start : start + size]
        return {
            "pageInfo": {
                "hasNextPage": start + size < len(entries),
                "endCursor": cursor(start + len(page)) if page else None,
            },
            "nodes": page,
        }

    def _content_node(self, node_id: str, variables: dict[str, Any]) -> dict[str, Any] | None:
        content = self.issues.get(node_id)
        if content is None or content.kind == "DraftIssue":
            return None
        timeline = self._timeline_json(content.timeline, variables, "first", "after")
        return {"__typename": content.kind, "id": content.node_id, "timelineItems": timeline}

    def _histories(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        nodes = [self._content_node(i, variables) for i in variables["ids"]]
        unreadable = {i for i, content in self.issues.items() if not content.readable}
        hidden = [n for n, i in enumerate(variables["ids"]) if i in unreadable]
        for n in hidden:
            nodes[n] = None
        data = {"data": {"nodes": nodes}}
        return data | ({"errors": [_forbidden(["nodes", n]) for n in hidden]} if hidden else {})

    def _history_page(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        return {"data": {"node": self._content_node(variables["id"], variables)}}

    def _repository_issues(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        repo = f"{variables['owner']}/{variables['name']}"
        found = [
            i for i in self.issues.values() if i.repo == repo and i.kind == "Issue" and i.updated is not None
        ]
        if not found:
            message = f"Could not resolve to a Repository with the name '{repo}'."
            error = {
                "type": "NOT_FOUND",
                "path": ["repository"],
                "locations": [{"line": 4, "column": 3}],
                "message": message,
            }
            return {"data": {"viewer": {"login": self.viewer}, "repository": None}, "errors": [error]}
        since = variables.get("since")
        if since:
            found = [i for i in found if i.updated is not None and iso(i.updated) >= since]
        found.sort(key=lambda i: (i.updated, i.number))
        start = position(variables.get("after"))
        size = min(int(variables["first"]), self.max_page)
        page = found[start : start + size]
        nodes = [
            {
                "id": i.node_id,
                "number": i.number,
                "title": i.title,
                "url": f"https://github.com/{repo}/issues/{i.number}",
                "createdAt": iso(i.created),
                "updatedAt": iso(i.updated or i.created),
                "state": i.state,
                "assignees": {"nodes": []},
                "timelineItems": self._timeline_json(i.timeline, variables, "history", "historyAfter"),
            }
            for i in page
        ]
        issues = {
            "totalCount": len(found),
            "pageInfo": {
                "hasNextPage": start + size < len(found),
                "endCursor": cursor(start + len(page)) if page else None,
            },
            "nodes": nodes,
        }
        return {
            "data": {
                "viewer": {"login": self.viewer},
                "repository": {"nameWithOwner": repo, "issues": issues},
            }
        }

    def _issue_timeline(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        issue = self.issues[variables["id"]]
        timeline = self._timeline_json(issue.timeline, variables, "history", "historyAfter")
        return {"data": {"node": {"id": issue.node_id, "timelineItems": timeline}}}


def _forbidden(path: list[Any]) -> dict[str, Any]:
    """GitHub's partial error for a node in a repository the token may not read."""
    return {
        "type": "FORBIDDEN",
        "path": path,
        "extensions": {"saml_failure": False},
        "locations": [{"line": 14, "column": 11}],
        "message": "Resource not accessible by personal access token",
    }


def _unknown_type(name: str) -> dict[str, Any]:
    """How GitHub's GraphQL (graphql-ruby) rejects a query naming a type its schema lacks: no data at all."""
    return {
        "errors": [
            {
                "path": ["query"],
                "extensions": {"code": "undefinedType", "typeName": name},
                "locations": [{"line": 5, "column": 5}],
                "message": f"No such type {name}, so it can't be a fragment condition",
            }
        ]
    }


class _Handler(FakeAnswers, BaseHTTPRequestHandler):
    github: FakeGitHub

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        github = self.github
        with github._lock:
            github.requests.append((str(body.get("operationName")), dict(body.get("variables") or {})))
            if self.path != "/graphql":
                self._send(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
                return
            if self.headers.get("Authorization") != f"Bearer {github.token}":
                self._send(
                    401,
                    {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql"},
                )
                return
            if github.scripted:
                fault = github.scripted[0]
                fault.times -= 1
                if fault.times <= 0:
                    github.scripted.pop(0)
                self._send(fault.status, fault.body or {"message": f"scripted {fault.status}"}, fault.headers)
                return
            query, variables = str(body.get("query")), dict(body.get("variables") or {})
            answer = github.answer(str(body.get("operationName")), query, variables)
            github.exchanges.append((query, variables, answer))
        self._send(200, answer)
