"""A fake GitLab (REST v4) on 127.0.0.1 that answers with GitLab's real payload shapes.

Projects in one group, group-level labels, issues with resource label and state events, built from plain
Python data and changed by tests at given times (label moves, closing, reopening, deletion). Every request is
recorded, and scripted faults answer the next matching requests instead (429 with GitLab's rate-limit
headers, 5xx, 401, 403).

Served under ``/api/v4``: ``/user``; ``/projects/:id`` and ``/groups/:id`` (numeric id or URL-encoded path);
``/projects/:id/issues`` and ``/groups/:id/issues`` (``updated_after`` and ``updated_before`` inclusive,
``order_by=updated_at|created_at``, ``sort``, offset pages with ``X-Page``, ``X-Next-Page``, ``X-Total`` (left
out above ``total_limit``, as GitLab does above 10,000) and ``Link``);
``/projects/:id/issues/:iid/resource_label_events`` and ``resource_state_events``; ``/projects/:id/labels``
and ``/groups/:id/labels`` (``search`` by substring). Labels belong to the group, to a subgroup or to one
project, and are listed as GitLab lists them: a project sees its own and its ancestor groups' labels; a group
sees only its own unless asked ``include_descendant_groups=true`` (subgroups' labels) and
``only_group_labels=false`` (projects'). ``per_page`` is capped at ``max_per_page`` (GitLab: 100) so tests
page with few issues. Tokens go in ``PRIVATE-TOKEN`` or ``Authorization: Bearer``; a token without
``read_api`` or ``api`` in ``scopes`` gets GitLab's 403 ``insufficient_scope``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.server import FakeAnswers, LocalHttpServer

API = "/api/v4"
DEFAULT_LABELS = ("Todo", "Doing", "Review", "Done")
# A workflow for the default labels, by display name (the store maps names as well as ids).
DEFAULT_WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [Open, Todo], kind: backlog}
  - {name: Doing, statuses: [Doing], kind: active}
  - {name: Review, statuses: [Review], kind: queue}
  - {name: Done, statuses: [Done, Closed], kind: done}
"""


@dataclass
class FakeLabel:
    id: int
    name: str
    color: str = "#428BCA"
    project_id: int | None = None  # a project label; None: a group label
    subgroup: str | None = None  # a label of this subgroup (acme/<subgroup>) rather than the group's


@dataclass
class FakeIssue:
    id: int
    iid: int
    project_id: int
    title: str
    issue_type: str
    created: dt.datetime
    updated: dt.datetime
    assignee: str | None = None
    state: str = "opened"
    closed_at: dt.datetime | None = None
    labels: list[int] = field(default_factory=list)  # label ids, in the order added
    label_events: list[dict[str, Any]] = field(default_factory=list)
    state_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Fault:
    path: str
    status: int
    times: int | None
    headers: dict[str, str]
    reset_after: int | None  # seconds: send RateLimit-Reset this far after the response's Date


class FakeGitLab(LocalHttpServer):
    """The fake instance; use as a context manager (``with FakeGitLab() as gitlab: gitlab.api_url``)."""

    def __init__(
        self,
        *,
        group: str = "acme",
        project: str = "web",
        token: str = "glpat-secret-token",
        scopes: tuple[str, ...] = ("read_api",),
        username: str = "lead",
        prefix: str = "workflow::",
        labels: tuple[str, ...] = DEFAULT_LABELS,
        scoped_exclusive: bool = True,
        max_per_page: int = 100,
        total_limit: int = 10_000,
    ) -> None:
        self.group, self.token, self.scopes, self.username = group, token, scopes, username
        self.prefix, self.scoped_exclusive = prefix, scoped_exclusive
        self.max_per_page, self.total_limit = max_per_page, total_limit
        self.projects: dict[int, str] = {}  # id → path in the group
        self.labels: dict[int, FakeLabel] = {}
        self.issues: dict[int, FakeIssue] = {}  # by global id
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._ids = {"project": 6, "label": 100, "issue": 5000, "event": 9000}
        self._lock = threading.RLock()
        self.project_id = self.add_project(project)
        for name in labels:
            self.add_label(f"{prefix}{name}")
        self.add_label("bug", color="#d9534f")  # not a workflow label: its events must change nothing

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundHandler", (_Handler,), {"gitlab": self})

    @property
    def api_url(self) -> str:
        return f"{self.url}{API}"

    # -- building and changing the group ------------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def add_project(self, path: str) -> int:
        with self._lock:
            project_id = self._next("project")
            self.projects[project_id] = path
            return project_id

    def add_label(
        self, name: str, color: str = "#428BCA", *, project_id: int | None = None, subgroup: str | None = None
    ) -> FakeLabel:
        with self._lock:
            label = FakeLabel(self._next("label"), name, color, project_id, subgroup)
            self.labels[label.id] = label
            return label

    def label(self, name: str) -> FakeLabel:
        """A label by full name or by its name after the prefix."""
        return next(lb for lb in self.labels.values() if lb.name in (name, f"{self.prefix}{name}"))

    def add_issue(
        self,
        created: dt.datetime,
        moves: Sequence[tuple[dt.datetime, str]] = (),
        *,
        initial: str | None = None,
        closed: dt.datetime | None = None,
        title: str | None = None,
        issue_type: str = "issue",
        assignee: str | None = None,
        project: int | None = None,
    ) -> FakeIssue:
        """A new issue (labelled ``initial`` at creation, as the form records it), then its label moves."""
        with self._lock:
            project_id = project or self.project_id
            iid = 1 + max((i.iid for i in self.issues.values() if i.project_id == project_id), default=0)
            issue = FakeIssue(
                self._next("issue"), iid, project_id, title or f"Issue {iid}", issue_type, created, created
            )
            issue.assignee = assignee
            self.issues[issue.id] = issue
            if initial:
                self.move(issue, initial, created + dt.timedelta(milliseconds=40))
            for at, name in moves:
                self.move(issue, name, at)
            if closed:
                self.close(issue, closed)
            return issue

    def issue(self, iid: int, project: int | None = None) -> FakeIssue:
        project_id = project or self.project_id
        return next(i for i in self.issues.values() if i.iid == iid and i.project_id == project_id)

    def move(self, issue: FakeIssue, name: str, at: dt.datetime) -> None:
        """Add a label; a scoped label replaces the issue's label of the same scope in the same instant."""
        with self._lock:
            label = self.label(name)
            if self.scoped_exclusive and "::" in label.name:
                scope = label.name.rsplit("::", 1)[0]
                for other in [self.labels[i] for i in issue.labels]:
                    if other.id != label.id and other.name.rsplit("::", 1)[0] == scope:
                        self._label_event(issue, other, "remove", at)
            if label.id not in issue.labels:
                self._label_event(issue, label, "add", at)

    def unlabel(self, issue: FakeIssue, name: str, at: dt.datetime) -> None:
        with self._lock:
            self._label_event(issue, self.label(name), "remove", at)

    def close(self, issue: FakeIssue, at: dt.datetime) -> None:
        with self._lock:
            issue.state, issue.closed_at = "closed", at
            self._state_event(issue, "closed", at)

    def reopen(self, issue: FakeIssue, at: dt.datetime) -> None:
        with self._lock:
            issue.state, issue.closed_at = "opened", None
            self._state_event(issue, "reopened", at)

    def edit(self, issue: FakeIssue, at: dt.datetime, title: str) -> None:
        with self._lock:
            issue.title, issue.updated = title, max(issue.updated, at)

    def delete(self, issue: FakeIssue) -> None:
        with self._lock:
            del self.issues[issue.id]

    def _label_event(self, issue: FakeIssue, label: FakeLabel, action: str, at: dt.datetime) -> None:
        if action == "add":
            issue.labels.append(label.id)
        elif label.id in issue.labels:
            issue.labels.remove(label.id)
        issue.label_events.append(
            self._event(issue, at) | {"label": self._label_brief(label), "action": action}
        )
        issue.updated = max(issue.updated, at)

    def _state_event(self, issue: FakeIssue, state: str, at: dt.datetime) -> None:
        issue.state_events.append(self._event(issue, at) | {"state": state})
        issue.updated = max(issue.updated, at)

    def _event(self, issue: FakeIssue, at: dt.datetime) -> dict[str, Any]:
        return {
            "id": self._next("event"),
            "user": self._user(),
            "created_at": stamp(at),
            "resource_type": "Issue",
            "resource_id": issue.id,
        }

    # -- scripted faults and request log -----------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        reset_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose path (after /api/v4) starts with ``path``."""
        with self._lock:
            self.faults.append(Fault(path, status, times, dict(headers or {}), reset_after))

    def count(self, path: str = "") -> int:
        """How many requests went to a path (after /api/v4) starting with ``path``."""
        return sum(1 for r in self.requests if r.path.startswith(path))

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def receive(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Fault | None:
        self.requests.append(RecordedRequest("GET", path, query, headers))
        fault = next((f for f in self.faults if path.startswith(f.path)), None)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        return fault

    # -- payloads -------------------------------------------------------------------------------------------

    def _user(self) -> dict[str, Any]:
        return {
            "id": 1,
            "username": self.username,
            "name": self.username.title(),
            "state": "active",
            "avatar_url": f"{self.url}/uploads/-/system/user/avatar/1/avatar.png",
            "web_url": f"{self.url}/{self.username}",
        }

    def _label_brief(self, label: FakeLabel) -> dict[str, Any]:
        return {"id": label.id, "name": label.name, "color": label.color, "description": None}

    def label_json(self, label: FakeLabel) -> dict[str, Any]:
        return self._label_brief(label) | {
            "description_html": "",
            "text_color": "#FFFFFF",
            "subscribed": False,
            "priority": None,
            "is_project_label": label.project_id is not None,
        }

    def project_json(self, project_id: int) -> dict[str, Any]:
        path = self.projects[project_id]
        full = f"{self.group}/{path}"
        return {
            "id": project_id,
            "description": None,
            "name": path.title(),
            "name_with_namespace": f"{self.group.title()} / {path.title()}",
            "path": path,
            "path_with_namespace": full,
            "created_at": "2025-01-02T10:00:00.000Z",
            "default_branch": "main",
            "web_url": f"{self.url}/{full}",
            "namespace": {"id": 3, "name": self.group.title(), "path": self.group, "kind": "group",
                          "full_path": self.group},
        }  # fmt: skip

    def group_json(self) -> dict[str, Any]:
        return {
            "id": 3,
            "name": self.group.title(),
            "path": self.group,
            "full_name": self.group.title(),
            "full_path": self.group,
            "web_url": f"{self.url}/groups/{self.group}",
            "visibility": "private",
            "parent_id": None,
        }

    def issue_json(self, issue: FakeIssue) -> dict[str, Any]:
        full = f"{self.group}/{self.projects[issue.project_id]}"
        assignee = (
            {"id": 2, "username": issue.assignee, "name": issue.assignee.title(), "state": "active"}
            if issue.assignee
            else None
        )
        return {
            "id": issue.id,
            "iid": issue.iid,
            "project_id": issue.project_id,
            "title": issue.title,
            "description": "",
            "state": issue.state,
            "created_at": stamp(issue.created),
            "updated_at": stamp(issue.updated),
            "closed_at": stamp(issue.closed_at) if issue.closed_at else None,
            "closed_by": self._user() if issue.closed_at else None,
            "labels": [self.labels[i].name for i in issue.labels],
            "milestone": None,
            "assignees": [assignee] if assignee else [],
            "author": self._user(),
            "type": issue.issue_type.upper(),
            "assignee": assignee,
            "user_notes_count": 0,
            "merge_requests_count": 0,
            "upvotes": 0,
            "downvotes": 0,
            "due_date": None,
            "confidential": False,
            "discussion_locked": None,
            "issue_type": issue.issue_type,
            "web_url": f"{self.url}/{full}/-/issues/{issue.iid}",
            "time_stats": {"time_estimate": 0, "total_time_spent": 0},
            "task_completion_status": {"count": 0, "completed_count": 0},
            "has_tasks": False,
            "references": {"short": f"#{issue.iid}", "relative": f"#{issue.iid}",
                           "full": f"{full}#{issue.iid}"},
            "moved_to_id": None,
            "severity": "UNKNOWN",
        }  # fmt: skip

    # -- lookups --------------------------------------------------------------------------------------------

    def find_project(self, ref: str) -> int | None:
        if ref.isdigit():
            return int(ref) if int(ref) in self.projects else None
        return next((i for i, p in self.projects.items() if f"{self.group}/{p}" == ref), None)

    def list_issues(self, project_id: int | None, arg: dict[str, str]) -> list[FakeIssue]:
        found = [i for i in self.issues.values() if project_id is None or i.project_id == project_id]
        if "updated_after" in arg:
            since = dt.datetime.fromisoformat(arg["updated_after"])
            found = [i for i in found if i.updated >= since]
        if "updated_before" in arg:
            until = dt.datetime.fromisoformat(arg["updated_before"])
            found = [i for i in found if i.updated <= until]
        by = "created" if arg.get("order_by") == "created_at" else "updated"
        found.sort(key=lambda i: (getattr(i, by), i.id), reverse=arg.get("sort", "desc") == "desc")
        return found


def stamp(at: dt.datetime) -> str:
    """GitLab's timestamps: UTC with milliseconds and a Z."""
    return at.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Handler(FakeAnswers, BaseHTTPRequestHandler):
    gitlab: FakeGitLab

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        fake = self.gitlab
        path = parts.path.removeprefix(API)
        with fake._lock:
            # Logged and matched decoded (``/projects/acme/web``); routed as sent (``acme%2Fweb``).
            fault = fake.receive(unquote(path), query, dict(self.headers.items()))
            if fault is not None:
                self._fault(fault)
                return
            refusal = self._refusal()
            if refusal is not None:
                self._answer(*refusal)
                return
            status, payload, headers = _route(fake, path, {k: v[-1] for k, v in query.items()})
        self._answer(status, payload, headers)

    def _refusal(self) -> tuple[int, Any] | None:
        fake = self.gitlab
        given = self.headers.get("PRIVATE-TOKEN") or self.headers.get("Authorization", "").removeprefix(
            "Bearer "
        )
        if given != fake.token:
            return 401, {"message": "401 Unauthorized"}
        if not {"api", "read_api"} & set(fake.scopes):
            return 403, {
                "error": "insufficient_scope",
                "error_description": (
                    "The request requires higher privileges than provided by the access token."
                ),
                "scope": "api read_api",
            }
        return None

    def _fault(self, fault: Fault) -> None:
        headers = dict(fault.headers)
        now = int(time.time())
        if fault.reset_after is not None:
            headers |= {
                "RateLimit-Limit": "2000",
                "RateLimit-Observed": "2001",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(now + fault.reset_after),
                "RateLimit-ResetTime": email.utils.formatdate(now + fault.reset_after, usegmt=True),
            }
        body: Any = {"message": f"{fault.status} scripted"}
        if fault.status == 429:
            body = "Retry later\n"  # GitLab's Rack::Attack answers 429 in plain text
        self._answer(fault.status, body, headers, now=now)

    def _answer(
        self, status: int, payload: Any, headers: dict[str, str] | None = None, now: float | None = None
    ) -> None:
        kind = "text/plain" if isinstance(payload, str) else "application/json"
        # Dated by the same clock as RateLimit-Reset, so the wait a client computes is exact.
        self._send(status, payload, headers, kind, date=now if now is not None else time.time())


def _route(fake: FakeGitLab, path: str, arg: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """Dispatch one request; 404 with GitLab's messages for anything unknown."""
    if path == "/user":
        return 200, fake._user() | {"email": f"{fake.username}@example.com", "bot": False}, {}
    if m := re.fullmatch(r"/groups/([^/]+)(/issues|/labels)?", path):
        if unquote(m.group(1)) not in (fake.group, "3"):
            return 404, {"message": "404 Group Not Found"}, {}
        if m.group(2) == "/issues":
            return _paged(fake, path, arg, [fake.issue_json(i) for i in fake.list_issues(None, arg)])
        if m.group(2) == "/labels":
            descendants = arg.get("include_descendant_groups") == "true"
            projects = arg.get("only_group_labels") == "false"
            return _paged(
                fake,
                path,
                arg,
                _labels(
                    fake,
                    arg,
                    lambda label: (
                        (label.project_id is None or projects) and (label.subgroup is None or descendants)
                    ),
                ),
            )
        return 200, fake.group_json(), {}
    m = re.fullmatch(r"/projects/([^/]+)(/.*)?", path)
    project_id = fake.find_project(unquote(m.group(1))) if m else None
    if m is None or project_id is None:
        return 404, {"message": "404 Project Not Found"}, {}
    rest = m.group(2) or ""
    if rest == "":
        return 200, fake.project_json(project_id), {}
    if rest == "/issues":
        return _paged(fake, path, arg, [fake.issue_json(i) for i in fake.list_issues(project_id, arg)])
    if rest == "/labels":
        return _paged(
            fake,
            path,
            arg,
            _labels(
                fake, arg, lambda label: label.project_id in (None, project_id) and label.subgroup is None
            ),
        )
    if e := re.fullmatch(r"/issues/(\d+)/(resource_label_events|resource_state_events)", rest):
        found = [i for i in fake.issues.values() if i.project_id == project_id and i.iid == int(e.group(1))]
        if not found:
            return 404, {"message": "404 Issue Not Found"}, {}
        events = found[0].label_events if e.group(2) == "resource_label_events" else found[0].state_events
        return _paged(fake, path, arg, list(events))
    return 404, {"message": "404 Not found"}, {}


def _labels(
    fake: FakeGitLab, arg: dict[str, str], visible: Callable[[FakeLabel], bool]
) -> list[dict[str, Any]]:
    search = arg.get("search", "").casefold()
    found = sorted(fake.labels.values(), key=lambda label: label.name.casefold())
    return [fake.label_json(label) for label in found if search in label.name.casefold() and visible(label)]


def _paged(
    fake: FakeGitLab, path: str, arg: dict[str, str], entries: list[Any]
) -> tuple[int, Any, dict[str, str]]:
    """One offset page with GitLab's pagination headers."""
    per_page = max(1, min(int(arg.get("per_page", 20)), fake.max_per_page))
    page = max(1, int(arg.get("page", 1)))
    pages = max(1, -(-len(entries) // per_page))
    chunk = entries[(page - 1) * per_page : page * per_page]
    has_next = page * per_page < len(entries)

    def link(number: int) -> str:
        return f"{fake.api_url}{path}?{urlencode({**arg, 'page': number, 'per_page': per_page})}"

    links = [f'<{link(page + 1)}>; rel="next"'] if has_next else []
    links += [f'<{link(1)}>; rel="first"']
    headers = {
        "X-Page": str(page),
        "X-Per-Page": str(per_page),
        "X-Next-Page": str(page + 1) if has_next else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "",
    }
    if len(entries) <= fake.total_limit:
        headers |= {"X-Total": str(len(entries)), "X-Total-Pages": str(pages)}
        links.append(f'<{link(pages)}>; rel="last"')
    headers["Link"] = ", ".join(links)
    return 200, chunk, headers
