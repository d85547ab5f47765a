"""A fake Linear GraphQL API on 127.0.0.1 that answers with Linear's real payload shapes.

One workspace with one team of issues and their history, built from plain Python data. It serves
``POST /graphql`` for the operations the connector sends (``Team``, ``Projects``, ``Issues``,
``IssueHistory``, ``IssueKeys``), picked by ``operationName``; it does not parse GraphQL, so every node
carries all the fields those queries select. What it does mirror:

- Relay paging: ``first`` (capped at ``max_page``, Linear's 250 by default) / ``after`` with
  ``pageInfo { hasNextPage endCursor }``; ``issues`` ordered by ``updatedAt`` (or ``createdAt``), newest
  first, with an opaque keyset cursor, so an issue updated mid-sync moves to the front as in Linear.
- ``IssueFilter`` as the connector writes it: ``team.key.eq``, ``project.id.eq``,
  ``project.name.eqIgnoreCase``, ``updatedAt.gte``, ``id.in``; anything else answers 400
  ``GRAPHQL_VALIDATION_FAILED``.
- Issue history: every change (state changes and edits) as ``IssueHistory`` nodes, newest first, paged.
  Archiving an issue archives its history with it, so, as for ``issues``, a ``history`` connection lists
  archived entries only when asked ``includeArchived: true`` (read from the query's field arguments).
- Auth: ``Authorization: <api key>`` or ``Authorization: Bearer <oauth token>``; anything else answers
  ``AUTHENTICATION_ERROR`` (HTTP 400 by default, as Linear does). ``readable = False`` answers ``FORBIDDEN``.
- Rate limits: :meth:`FakeLinear.rate_limit` answers the next requests with ``RATELIMITED`` (HTTP 400, or 429)
  and ``X-RateLimit-Requests-Reset`` in epoch milliseconds; :meth:`FakeLinear.fail` scripts 5xx answers.

Every request is recorded (operation, variables, Authorization header) so tests can assert how the
connector talks to Linear, and every answer with data with the query it answers in ``exchanges``
(tests/contracts checks them against Linear's schema).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.graphql_args import field_arguments
from tests.fakes.server import FakeAnswers, LocalHttpServer

NAMESPACE = uuid.UUID("6f1c2a52-5d0e-4d4b-9a3e-2f5b8c1d7e90")


def fake_id(kind: str, number: int) -> str:
    """A stable UUID like Linear's ids."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}-{number}"))


def linear_time(at: dt.datetime) -> str:
    """Linear's DateTime: UTC with milliseconds and a Z."""
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FakeState:
    id: str
    name: str
    type: str  # triage | backlog | unstarted | started | completed | canceled | duplicate
    position: float


DEFAULT_STATES = (
    FakeState(fake_id("state", 1), "Backlog", "backlog", 0),
    FakeState(fake_id("state", 2), "Todo", "unstarted", 1),
    FakeState(fake_id("state", 3), "In Progress", "started", 2),
    FakeState(fake_id("state", 4), "In Review", "started", 3),
    FakeState(fake_id("state", 5), "Done", "completed", 4),
    FakeState(fake_id("state", 6), "Canceled", "canceled", 5),
)
# A workflow for the default states, by name (the store maps names as well as ids).
DEFAULT_WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [Backlog, Todo], kind: backlog}
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Review, statuses: [In Review], kind: queue}
  - {name: Done, statuses: [Done], kind: done}
  - {name: Dropped, statuses: [Canceled], kind: discarded}
"""


@dataclass
class FakeHistory:
    id: str
    at: dt.datetime
    from_state: str | None = None
    to_state: str | None = None
    title: tuple[str, str] | None = None  # (from, to) for a title edit
    archived: bool = False


@dataclass
class FakeIssue:
    id: str
    number: int
    identifier: str
    title: str
    created: dt.datetime
    state: str
    project: str | None = None
    assignee: str | None = None
    labels: tuple[str, ...] = ()
    history: list[FakeHistory] = field(default_factory=list)
    updated: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    archived: bool = False
    trashed: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    operation: str
    variables: dict[str, Any]
    authorization: str


@dataclass
class Fault:
    operation: str | None
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int | None


class FilterError(ValueError):
    """A filter the fake does not understand; answered like Linear's validation errors."""


class FakeLinear(LocalHttpServer):
    """The fake workspace; use as a context manager (``with FakeLinear() as linear: linear.url``)."""

    def __init__(
        self,
        *,
        team_key: str = "PAY",
        team_name: str = "Payments",
        organization: str = "Acme",
        api_key: str = "lin_api_secret0123456789",
        oauth_token: str = "lin_oauth_secret0123456789",
        states: Sequence[FakeState] = DEFAULT_STATES,
        max_page: int = 250,
        auth_status: int = 400,
    ) -> None:
        self.team_key, self.team_name, self.organization = team_key, team_name, organization
        self.team_id = fake_id("team", 1)
        self.api_key, self.oauth_token = api_key, oauth_token
        self.states = {state.id: state for state in states}
        self.projects: dict[str, str] = {fake_id("project", 1): "Checkout"}
        self.max_page, self.auth_status = max_page, auth_status
        self.readable = True
        self.issues: dict[str, FakeIssue] = {}
        self.requests: list[RecordedRequest] = []
        self.exchanges: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (query, variables, answer)
        self.faults: list[Fault] = []
        self._numbers = 0
        self._histories = 0
        self._lock = threading.RLock()

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundLinearHandler", (_Handler,), {"linear": self})

    # -- building and changing the team ------------------------------------------------------------------

    def state_id(self, name_or_id: str) -> str:
        if name_or_id in self.states:
            return name_or_id
        return next(s.id for s in self.states.values() if s.name == name_or_id)

    def add_issue(
        self,
        created: dt.datetime,
        moves: Iterable[tuple[dt.datetime, str]] = (),
        *,
        initial: str = "Todo",
        title: str | None = None,
        assignee: str | None = None,
        labels: Sequence[str] = ("Feature",),
        project: str | None = None,
    ) -> FakeIssue:
        """A new issue in ``initial``, then moved to each state of ``moves`` at its time."""
        with self._lock:
            self._numbers += 1
            number = self._numbers
            identifier = f"{self.team_key}-{number}"
            project_id = next((pid for pid, name in self.projects.items() if name == project), None)
            issue = FakeIssue(
                fake_id("issue", number),
                number,
                identifier,
                title or f"Issue {identifier}",
                created,
                self.state_id(initial),
                project_id,
                assignee,
                tuple(labels),
                updated=created,
            )
            self.issues[identifier] = issue
            for at, state in sorted(moves, key=lambda move: move[0]):
                self.move(identifier, state, at)
            return issue

    def add_issues(
        self, count: int, *, changes: int, start: dt.datetime, spacing: dt.timedelta
    ) -> list[FakeIssue]:
        """``count`` issues created ``spacing`` apart, each with ``changes`` state moves ending in Done."""
        cycle = ["In Progress", "In Review"]
        issues = []
        for n in range(count):
            created = start + n * spacing
            path = [cycle[j % 2] for j in range(changes - 1)] + ["Done"] if changes else []
            moves = [(created + (j + 1) * dt.timedelta(hours=1), s) for j, s in enumerate(path)]
            issues.append(self.add_issue(created, moves))
        return issues

    def _record(self, issue: FakeIssue, entry: FakeHistory) -> None:
        issue.history.append(entry)
        issue.updated = max(issue.updated, entry.at)

    def _history_id(self) -> str:
        self._histories += 1
        return fake_id("history", self._histories)

    def move(self, identifier: str, state: str, at: dt.datetime) -> None:
        with self._lock:
            issue, new = self.issues[identifier], self.state_id(state)
            self._record(issue, FakeHistory(self._history_id(), at, issue.state, new))
            issue.state = new

    def edit(self, identifier: str, at: dt.datetime, title: str) -> None:
        """A change that is not a state change: it is in the history and bumps ``updatedAt``."""
        with self._lock:
            issue = self.issues[identifier]
            self._record(issue, FakeHistory(self._history_id(), at, title=(issue.title, title)))
            issue.title = title

    def archive(self, identifier: str, at: dt.datetime) -> None:
        """Archive an issue (Linear does so to closed issues after a while), its history with it: both are
        listed only with includeArchived."""
        with self._lock:
            issue = self.issues[identifier]
            issue.archived, issue.updated = True, max(issue.updated, at)
            for entry in issue.history:
                entry.archived = True

    def delete(self, identifier: str, at: dt.datetime) -> None:
        """Delete an issue: it goes to the trash, archived and ``trashed``, until Linear purges it."""
        with self._lock:
            issue = self.issues[identifier]
            issue.archived, issue.trashed, issue.updated = True, True, max(issue.updated, at)

    def purge(self, identifier: str) -> None:
        """Empty an issue from the trash: it is gone from every listing."""
        with self._lock:
            del self.issues[identifier]

    # -- scripted faults and the request log -------------------------------------------------------------

    def rate_limit(
        self, reset_at: dt.datetime, *, operation: str | None = None, times: int | None = 1, status: int = 400
    ) -> None:
        """Answer the next ``times`` requests with RATELIMITED, the budget resetting at ``reset_at``."""
        body = _error(
            "Rate limit exceeded",
            "RATELIMITED",
            "ratelimited",
            "You have exceeded the rate limit. Please try again later.",
        )
        headers = {
            "X-RateLimit-Requests-Limit": "1500",
            "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(int(reset_at.timestamp() * 1000)),
        }
        with self._lock:
            self.faults.append(Fault(operation, status, body, headers, times))

    def fail(self, status: int, *, operation: str | None = None, times: int | None = 1) -> None:
        """Answer the next ``times`` requests (of ``operation``, or any) with a bare HTTP error."""
        with self._lock:
            self.faults.append(Fault(operation, status, {"error": "scripted"}, {}, times))

    def count(self, operation: str | None = None) -> int:
        return sum(1 for r in self.requests if operation in (None, r.operation))

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def receive(self, operation: str, variables: dict[str, Any], authorization: str) -> Fault | None:
        """Record a request; the scripted fault it meets, if any (used by the HTTP handler)."""
        self.requests.append(RecordedRequest(operation, variables, authorization))
        fault = next((f for f in self.faults if f.operation in (None, operation)), None)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        return fault

    # -- answers ------------------------------------------------------------------------------------------

    def authorised(self, header: str) -> bool:
        return header in (self.api_key, f"Bearer {self.oauth_token}")

    def answer(self, operation: str, variables: dict[str, Any], query: str = "") -> dict[str, Any]:
        """The ``data`` of one operation; archived nodes only where the query asks ``includeArchived``."""
        archived = bool((field_arguments(query, variables, "issues") or {}).get("includeArchived"))
        old_history = bool((field_arguments(query, variables, "history") or {}).get("includeArchived"))
        if operation == "Team":
            teams = [self._team_json()] if variables.get("key") == self.team_key else []
            return {
                "viewer": {"id": fake_id("user", 1), "name": "Ann Lead", "email": "ann@acme.test"},
                "organization": {"name": self.organization, "urlKey": self.organization.lower()},
                "teams": {"nodes": teams},
            }
        if operation == "Projects":
            wanted = variables.get("filter") or {}
            found = [
                {"id": pid, "name": name}
                for pid, name in self.projects.items()
                if _project_matches(wanted, pid, name)
            ]
            return {"projects": {"nodes": found[:2]}}
        if operation in ("Issues", "IssueKeys"):
            by = "updated" if operation == "Issues" else "created"
            scope = variables.get("filter") or {}
            found = [
                i for i in self.issues.values() if (archived or not i.archived) and self._matches(i, scope)
            ]
            found.sort(key=lambda i: (getattr(i, by), i.id), reverse=True)
            page, info = self._page(
                found, variables, key=lambda i: json.dumps([linear_time(getattr(i, by)), i.id])
            )
            if operation == "IssueKeys":
                nodes = [{"id": i.id, "identifier": i.identifier, "trashed": i.trashed or None} for i in page]
            else:
                nodes = [self._issue_json(i, int(variables["historyPage"]), old_history) for i in page]
            return {"issues": {"pageInfo": info, "nodes": nodes}}
        if operation == "IssueHistory":
            issue = next(
                (i for i in self.issues.values() if variables.get("id") in (i.id, i.identifier)), None
            )
            if issue is None:
                raise LookupError("Entity not found: Issue")
            return {"issue": {"history": self._history_json(issue, variables, old_history)}}
        raise FilterError(f"Unknown operation {operation}")

    def _team_json(self) -> dict[str, Any]:
        states = [
            {"id": s.id, "name": s.name, "type": s.type, "position": s.position} for s in self.states.values()
        ]
        return {"id": self.team_id, "key": self.team_key, "name": self.team_name, "states": {"nodes": states}}

    def _matches(self, issue: FakeIssue, scope: dict[str, Any]) -> bool:
        for name, condition in scope.items():
            if name == "team":
                if condition != {"key": {"eq": self.team_key}}:
                    return False
            elif name == "project":
                if issue.project is None or not _project_matches(
                    condition, issue.project, self.projects[issue.project]
                ):
                    return False
            elif name == "updatedAt" and set(condition) == {"gte"}:
                if issue.updated < dt.datetime.fromisoformat(condition["gte"]):
                    return False
            elif name == "id" and set(condition) == {"in"}:
                if issue.id not in condition["in"]:
                    return False
            else:
                raise FilterError(f"Field '{name}' is not supported by this fake's IssueFilter")
        return True

    def _page(
        self, found: list[Any], variables: dict[str, Any], key: Any
    ) -> tuple[list[Any], dict[str, Any]]:
        """One Relay page: ``first`` after the opaque ``after`` cursor (the last node's sort key)."""
        first = min(int(variables.get("first") or 50), self.max_page)
        after = variables.get("after")
        start = 0
        if after:
            last = json.loads(base64.b64decode(after))
            keys = [json.loads(key(item)) for item in found]
            start = next((n for n, k in enumerate(keys) if k < last), len(found))  # newest first
        page = found[start : start + first]
        end = base64.b64encode(key(page[-1]).encode()).decode() if page else None
        has_next = start + first < len(found)
        return page, {"hasNextPage": has_next, "endCursor": end}

    def _history_json(self, issue: FakeIssue, variables: dict[str, Any], archived: bool) -> dict[str, Any]:
        listed = [entry for entry in issue.history if archived or not entry.archived]
        entries = sorted(listed, key=lambda h: (h.at, h.id), reverse=True)
        page, info = self._page(entries, variables, key=lambda h: json.dumps([linear_time(h.at), h.id]))
        return {"pageInfo": info, "nodes": [self._entry_json(issue, h) for h in page]}

    def _entry_json(self, issue: FakeIssue, entry: FakeHistory) -> dict[str, Any]:
        def state(state_id: str | None) -> dict[str, Any] | None:
            return None if state_id is None else {"id": state_id, "name": self.states[state_id].name}

        return {
            "id": entry.id,
            "createdAt": linear_time(entry.at),
            "fromState": state(entry.from_state),
            "toState": state(entry.to_state),
        }

    def _issue_json(self, issue: FakeIssue, history_page: int, archived: bool) -> dict[str, Any]:
        state = self.states[issue.state]
        slug = issue.title.lower().replace(" ", "-")
        return {
            "id": issue.id,
            "identifier": issue.identifier,
            "title": issue.title,
            "url": f"https://linear.app/{self.organization.lower()}/issue/{issue.identifier}/{slug}",
            "createdAt": linear_time(issue.created),
            "updatedAt": linear_time(issue.updated),
            "trashed": issue.trashed or None,
            "state": {"id": state.id, "name": state.name, "type": state.type},
            "assignee": {"name": issue.assignee} if issue.assignee else None,
            "labels": {"nodes": [{"name": label} for label in issue.labels]},
            "history": self._history_json(issue, {"first": history_page}, archived),
        }


def _project_matches(condition: dict[str, Any], project_id: str, name: str) -> bool:
    if "id" in condition:
        return bool(condition["id"].get("eq") == project_id)
    if "name" in condition:
        return str(condition["name"].get("eqIgnoreCase", "")).lower() == name.lower()
    raise FilterError("ProjectFilter needs id or name")


def _error(message: str, code: str, kind: str, presentable: str) -> dict[str, Any]:
    extensions = {"type": kind, "code": code, "userError": True, "userPresentableMessage": presentable}
    return {"errors": [{"message": message, "extensions": extensions}]}


class _Handler(FakeAnswers, BaseHTTPRequestHandler):
    linear: FakeLinear

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/graphql":
            self._send(404, {"error": "Not found"})
            return
        operation = str(body.get("operationName") or "")
        if not str(body.get("query", "")).startswith(f"query {operation}("):
            self._send(400, _error("Unknown operation", "GRAPHQL_VALIDATION_FAILED", "graphql error", "?"))
            return
        linear = self.linear
        with linear._lock:
            fault = linear.receive(
                operation, dict(body.get("variables") or {}), self.headers.get("Authorization", "")
            )
            if fault is not None:
                self._send(fault.status, fault.body, fault.headers)
                return
            if not linear.authorised(self.headers.get("Authorization", "")):
                self._send(
                    linear.auth_status,
                    _error(
                        "Authentication required, not authenticated",
                        "AUTHENTICATION_ERROR",
                        "authentication error",
                        "You need to authenticate to access this operation.",
                    ),
                )
                return
            if not linear.readable and operation != "Projects":
                answer = _error("Forbidden", "FORBIDDEN", "forbidden", "You don't have access to this team.")
                self._send(400, answer | {"data": None})
                return
            try:
                query, variables = str(body["query"]), dict(body.get("variables") or {})
                data = linear.answer(operation, variables, query)
                linear.exchanges.append((query, variables, {"data": data}))
            except FilterError as error:
                self._send(400, _error(str(error), "GRAPHQL_VALIDATION_FAILED", "graphql error", str(error)))
                return
            except LookupError as error:
                answer = _error(
                    str(error), "INVALID_INPUT", "invalid input", "Could not find referenced Issue."
                )
                self._send(200, answer | {"data": None})
                return
        self._send(200, {"data": data})
