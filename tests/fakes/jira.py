"""A fake Jira (Cloud or Data Center) on 127.0.0.1 that answers with Jira's real payload shapes.

This module holds the project and renders Jira's JSON; ``jira_http`` serves it over HTTP.

One project of issues with full histories, built from plain Python data, so a test writes three issues by
hand and a benchmark makes 20,000 with ten status changes each in about a second. Every request is recorded
(method, path, query, JSON body) so tests can assert how a connector talks to Jira, and scripted faults
(429 with Retry-After, 5xx, 401, 403, 404) answer the next matching requests instead of the data.

What each flavour serves, mirroring the real APIs:

- Cloud: ``POST|GET /rest/api/3/search/jql`` (``nextPageToken`` paging; only ids unless ``fields`` asks;
  ``expand=changelog`` truncated to the newest ``cloud_expand_limit`` histories, as Cloud does);
  ``POST /rest/api/3/search/approximate-count``; ``POST /rest/api/3/changelog/bulkfetch`` (≤ 1000 issues,
  ≤ 10 field ids, histories sorted by date then issue id and paged by ``nextPageToken``);
  ``GET /rest/api/3/issue/{key}/changelog`` (offset pages of ≤ 100); the removed ``/rest/api/{2,3}/search``
  answers 410 Gone with Atlassian's migration message.
- Data Center: ``GET /rest/api/2/search`` (``startAt`` paging, ``total``; ``expand=changelog`` returns every
  history, as DC does, unless ``dc_changelog_limit`` is set to simulate a truncating server);
  ``/rest/api/2/issue/{key}/changelog`` is Cloud-only and answers 404 unless ``dc_issue_changelog`` is set.
  Changelog items carry no ``fieldId`` on DC, only ``field`` names.
- Project listings: Cloud ``GET /rest/api/3/project/search`` (offset pages of ≤ 50 with ``total`` and
  ``isLast``), Data Center ``GET /rest/api/2/project`` (one plain list); both list ``projects``.
- Both: ``/myself`` (with ``timeZone``), ``/project/{key}``, ``/project/{key}/statuses``, ``/status``,
  ``/field`` (Flagged is ``customfield_10021``), ``/rest/agile/1.0/board/{id}/configuration``.

JQL: the subset a connector needs — clauses joined by AND, each ``project = KEY``, ``project in (…)``,
``key in (…)``, ``key not in (…)`` or ``updated >= "yyyy/MM/dd HH:mm"`` (also ``-`` separators and ``>``),
optionally in parentheses, then ``ORDER BY updated|created|key [ASC|DESC]``. As in Jira, a date without an
offset is read in the *searching user's* time zone (``/myself`` → ``timeZone``; ``user_time_zone`` here,
defaulting to the site's ``time_zone``); anything else answers 400 like Jira's JQL errors.

Churn: ``on_search`` (if set) is called with the number of the search request about to be answered (1 for
the first since it was set) before the fake answers it, so a test can edit issues while a sync pages, as
people do in a real Jira.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.fakes.jira_http import FLAGGED_FIELD, Handler, JqlError
from tests.fakes.server import LocalHttpServer

Flavour = Literal["cloud", "dc"]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
CATEGORIES = {
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}


@dataclass(frozen=True)
class FakeStatus:
    id: str
    name: str
    category: str  # new | indeterminate | done


DEFAULT_STATUSES = (
    FakeStatus("10000", "To Do", "new"),
    FakeStatus("3", "In Progress", "indeterminate"),
    FakeStatus("10001", "In Review", "indeterminate"),
    FakeStatus("10002", "Done", "done"),
)
# A workflow for the default statuses, by name (the store maps names as well as ids).
DEFAULT_WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [To Do], kind: backlog}
  - {name: Doing, statuses: [In Progress], kind: active}
  - {name: Review, statuses: [In Review], kind: queue}
  - {name: Done, statuses: [Done], kind: done}
"""


@dataclass
class FakeIssue:
    """An issue and its history: ``histories`` are (history id, time, [(field, old, new)]), oldest first."""

    id: int
    key: str
    project: str
    summary: str
    type: str
    created: dt.datetime
    status: str
    assignee: str | None = None
    flagged: bool = False
    histories: list[tuple[int, dt.datetime, list[tuple[str, str | None, str | None]]]] = field(
        default_factory=list
    )
    updated: dt.datetime = EPOCH


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Fault:
    path: str
    status: int
    method: str | None
    times: int | None  # None: every matching request from now on
    headers: dict[str, str]


class FakeJira(LocalHttpServer):
    """The fake site; use as a context manager (``with FakeJira() as jira: jira.url``)."""

    def __init__(
        self,
        flavour: Flavour = "cloud",
        *,
        project: str = "PAY",
        statuses: Sequence[FakeStatus] = DEFAULT_STATUSES,
        time_zone: str = "Europe/Zurich",
        user_time_zone: str | None = None,
        email: str = "lead@example.com",
        token: str = "secret-token",
        max_search_results: int = 100,
        bulkfetch_page_size: int = 1000,
        changelog_page_size: int = 100,
        cloud_expand_limit: int = 100,
        dc_changelog_limit: int | None = None,
        dc_issue_changelog: bool = False,
    ) -> None:
        self.flavour: Flavour = flavour
        self.project = project
        self.statuses = {status.id: status for status in statuses}
        self.tz = zoneinfo.ZoneInfo(time_zone)
        self.user_tz = zoneinfo.ZoneInfo(user_time_zone or time_zone)
        self.email, self.token = email, token
        self.max_search_results = max_search_results
        self.bulkfetch_page_size = bulkfetch_page_size
        self.changelog_page_size = changelog_page_size
        self.cloud_expand_limit = cloud_expand_limit
        self.dc_changelog_limit = dc_changelog_limit
        self.dc_issue_changelog = dc_issue_changelog
        self.boards: dict[int, list[tuple[str, list[str]]]] = {1: [(s.name, [s.id]) for s in statuses]}
        # Projects the account can browse (key → name), listed by project search; only ``project`` has issues.
        self.projects: dict[str, str] = {project: project.title()}
        self.issues: dict[str, FakeIssue] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self._next_id = 10_000
        self._next_history = 1
        self._numbers: dict[str, int] = {}
        self._by_id: dict[str, FakeIssue] = {}
        # Searches are cached until the next change, so paging 20k issues does not re-sort them per page.
        self._version = 0
        self._searches: dict[str, tuple[int, list[FakeIssue]]] = {}
        self._times: dict[dt.datetime, str] = {}
        self._histories: dict[int, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._on_search: Callable[[int], None] | None = None
        self._searches_served = 0

    # -- lifecycle -------------------------------------------------------------------------------------

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundHandler", (Handler,), {"jira": self})

    # -- building and changing the project ---------------------------------------------------------------

    def status_id(self, name_or_id: str) -> str:
        if name_or_id in self.statuses:
            return name_or_id
        return next(s.id for s in self.statuses.values() if s.name == name_or_id)

    def add_issue(
        self,
        created: dt.datetime,
        moves: Iterable[tuple[dt.datetime, str]] = (),
        *,
        flags: Iterable[tuple[dt.datetime, bool]] = (),
        initial: str = "To Do",
        summary: str | None = None,
        type: str = "Story",
        assignee: str | None = None,
        project: str | None = None,
    ) -> FakeIssue:
        """A new issue in ``initial``, then status ``moves`` and flag changes, applied in time order."""
        with self._lock:
            project = project or self.project
            self._numbers[project] = number = self._numbers.get(project, 0) + 1
            key = f"{project}-{number}"
            issue = FakeIssue(
                self._next_id,
                key,
                project,
                summary or f"Issue {key}",
                type,
                created,
                self.status_id(initial),
                assignee,
                updated=created,
            )
            self._next_id += 1
            self.issues[key] = self._by_id[str(issue.id)] = issue
            self._version += 1
            steps: list[tuple[dt.datetime, str, str | bool]] = [(at, "status", s) for at, s in moves]
            steps += [(at, "Flagged", on) for at, on in flags]
            for at, kind, value in sorted(steps, key=lambda step: step[0]):
                if kind == "status":
                    self.move(key, str(value), at)
                else:
                    self.flag(key, at, on=bool(value))
            return issue

    def add_issues(
        self, count: int, *, changes: int = 10, start: dt.datetime, spacing: dt.timedelta
    ) -> list[FakeIssue]:
        """``count`` issues, each created ``spacing`` after the last, with ``changes`` status moves."""
        cycle = [s.id for s in self.statuses.values() if s.category == "indeterminate"]
        done = next(s.id for s in self.statuses.values() if s.category == "done")
        issues = []
        for n in range(count):
            created = start + n * spacing
            path = [cycle[j % len(cycle)] for j in range(changes - 1)] + [done] if changes else []
            moves = [(created + (j + 1) * dt.timedelta(hours=1), s) for j, s in enumerate(path)]
            issues.append(self.add_issue(created, moves))
        return issues

    def _record(self, key: str, at: dt.datetime, items: list[tuple[str, str | None, str | None]]) -> None:
        issue = self.issues[key]
        issue.histories.append((self._next_history, at, items))
        self._next_history += 1
        issue.updated = max(issue.updated, at)
        self._version += 1

    def move(self, key: str, status: str, at: dt.datetime) -> None:
        with self._lock:
            issue, new = self.issues[key], self.status_id(status)
            self._record(key, at, [("status", issue.status, new)])
            issue.status = new

    def flag(self, key: str, at: dt.datetime, *, on: bool = True) -> None:
        with self._lock:
            issue = self.issues[key]
            self._record(
                key, at, [("Flagged", "Impediment" if issue.flagged else None, "Impediment" if on else None)]
            )
            issue.flagged = on

    def edit(self, key: str, at: dt.datetime, summary: str) -> None:
        with self._lock:
            issue = self.issues[key]
            self._record(key, at, [("summary", issue.summary, summary)])
            issue.summary = summary

    def delete(self, key: str) -> None:
        with self._lock:
            issue = self.issues.pop(key)
            del self._by_id[str(issue.id)]
            self._version += 1

    def move_to_project(self, key: str, project: str, at: dt.datetime) -> FakeIssue:
        """Move an issue to another project: it gets a new key there and its old key leaves this one."""
        with self._lock:
            issue = self.issues.pop(key)
            self._numbers[project] = number = self._numbers.get(project, 0) + 1
            issue.key, issue.project = f"{project}-{number}", project
            self.issues[issue.key] = issue
            self._record(issue.key, at, [("Key", key, issue.key)])
            return issue

    # -- scripted faults and request log -----------------------------------------------------------------

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int | None = 1,
        method: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose path starts with ``path`` with ``status``."""
        with self._lock:
            self.faults.append(Fault(path, status, method, times, dict(headers or {})))

    def count(self, path: str = "", method: str | None = None) -> int:
        """How many requests went to a path starting with ``path`` (all requests by default)."""
        return sum(
            1 for r in self.requests if r.path.startswith(path) and (method is None or r.method == method)
        )

    def receive(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Fault | None:
        """Record a request; the scripted fault it meets, if any (used by the HTTP handler)."""
        self.requests.append(RecordedRequest(method, path, query, body))
        fault = next((f for f in self.faults if path.startswith(f.path) and f.method in (None, method)), None)
        if fault is not None and fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
        return fault

    @property
    def on_search(self) -> Callable[[int], None] | None:
        """The churn hook (see the module docstring); setting one starts its count of searches at 1."""
        return self._on_search

    @on_search.setter
    def on_search(self, hook: Callable[[int], None] | None) -> None:
        with self._lock:
            self._on_search, self._searches_served = hook, 0

    def before_search(self) -> None:
        """Fire the churn hook for the search request about to be answered."""
        if self._on_search is not None:
            self._searches_served += 1
            self._on_search(self._searches_served)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- payloads ---------------------------------------------------------------------------------------

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.flavour == "cloud" else "/rest/api/2"

    def time(self, at: dt.datetime) -> str:
        """Jira's timestamp format, in the site's time zone: ``2026-01-05T10:15:30.123+0100``."""
        text = self._times.get(at)
        if text is None:
            local = at.astimezone(self.tz)
            offset = local.strftime("%z")
            text = f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{offset}"
            self._times[at] = text
        return text

    def status_json(self, status_id: str) -> dict[str, Any]:
        status = self.statuses[status_id]
        number, name, colour = CATEGORIES[status.category]
        return {
            "self": f"{self.url}{self.api}/status/{status.id}",
            "description": "",
            "name": status.name,
            "untranslatedName": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.url}{self.api}/statuscategory/{number}",
                "id": number,
                "key": status.category,
                "colorName": colour,
                "name": name,
            },
        }

    def project_json(self, key: str) -> dict[str, Any]:
        number = 10_000 + sorted(self.projects).index(key)
        return {
            "self": f"{self.url}{self.api}/project/{number}",
            "id": str(number),
            "key": key,
            "name": self.projects[key],
            "projectTypeKey": "software",
            "simplified": False,
            "style": "classic",
        }

    def _user(self, name: str) -> dict[str, Any]:
        if self.flavour == "cloud":
            return {"accountId": f"acc-{name}", "displayName": name, "active": True}
        return {"name": name.lower(), "key": f"JIRAUSER-{name.lower()}", "displayName": name, "active": True}

    def _item(self, change: tuple[str, str | None, str | None]) -> dict[str, Any]:
        name, old, new = change
        if name == "status":
            item = {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old,
                "fromString": old and self.statuses[old].name,
                "to": new,
                "toString": new and self.statuses[new].name,
            }
        elif name == "Flagged":
            item = {
                "field": "Flagged",
                "fieldtype": "custom",
                "fieldId": FLAGGED_FIELD,
                "from": old and "[10019]",
                "fromString": old,
                "to": new and "[10019]",
                "toString": new,
            }
        else:
            item = {
                "field": name,
                "fieldtype": "jira",
                "fieldId": name.lower(),
                "from": None,
                "fromString": old,
                "to": None,
                "toString": new,
            }
        if self.flavour == "dc":
            del item["fieldId"]  # Data Center changelog items name the field only
        return item

    def history_json(self, history: tuple[int, dt.datetime, list[Any]], only: set[str] | None = None) -> Any:
        hid, at, changes = history
        rendered = self._histories.get(hid)
        if rendered is None:  # histories never change once written, so each is rendered once
            items = [self._item(c) for c in changes]
            rendered = {"id": str(hid), "author": self._user("Ann"), "created": self.time(at), "items": items}
            self._histories[hid] = rendered
        if only is None:
            return rendered
        return rendered | {"items": [i for i in rendered["items"] if i.get("fieldId", i["field"]) in only]}

    def issue_json(self, issue: FakeIssue, fields: Sequence[str] | None, expand: str = "") -> dict[str, Any]:
        every = {
            "summary": issue.summary,
            "issuetype": {
                "id": "10001" if issue.type == "Story" else "10004",
                "name": issue.type,
                "subtask": False,
            },
            "status": self.status_json(issue.status),
            "created": self.time(issue.created),
            "updated": self.time(issue.updated),
            "assignee": self._user(issue.assignee) if issue.assignee else None,
            "project": {"id": "10000", "key": issue.project, "name": issue.project.title()},
            FLAGGED_FIELD: [{"value": "Impediment", "id": "10019"}] if issue.flagged else None,
        }
        if fields is None:
            fields = [] if self.flavour == "cloud" else ["*navigable"]  # Cloud returns only ids by default
        wanted = (
            every if {"*all", "*navigable"} & set(fields) else {k: every[k] for k in fields if k in every}
        )
        body: dict[str, Any] = {"id": str(issue.id), "self": f"{self.url}{self.api}/issue/{issue.id}"}
        if fields:
            body |= {"key": issue.key, "fields": wanted}
        if "changelog" in expand:
            limit = self.cloud_expand_limit if self.flavour == "cloud" else self.dc_changelog_limit
            kept = issue.histories[-limit:] if limit is not None else issue.histories
            body["changelog"] = {
                "startAt": 0,
                "maxResults": len(kept),
                "total": len(issue.histories),
                "histories": [self.history_json(h) for h in kept],
            }
        return body

    # -- JQL ----------------------------------------------------------------------------------------------

    def find(self, id_or_key: str) -> FakeIssue | None:
        return self.issues.get(id_or_key) or self._by_id.get(id_or_key)

    def search(self, jql: str) -> list[FakeIssue]:
        """The issues a JQL query matches, in its order."""
        cached = self._searches.get(jql)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        found = self._search(jql)
        self._searches[jql] = (self._version, found)
        return found

    def _search(self, jql: str) -> list[FakeIssue]:
        order = re.search(r"\s*\border\s+by\s+(updated|created|key)(?:\s+(asc|desc))?\s*$", jql, re.I)
        where = jql[: order.start()] if order else jql
        tests: list[Callable[[FakeIssue], bool]] = [lambda issue: True]
        for raw in re.split(r"\s+and\s+", where.strip(), flags=re.I) if where.strip() else []:
            tests.append(self._clause(raw))
        found = [i for i in self.issues.values() if all(test(i) for test in tests)]
        by, direction = (
            (order.group(1).lower(), (order.group(2) or "asc").lower()) if order else ("key", "desc")
        )
        if by == "key":
            found.sort(key=lambda i: (i.project, int(i.key.split("-")[1])), reverse=direction == "desc")
        else:
            found.sort(key=lambda i: (getattr(i, by), i.id), reverse=direction == "desc")
        return found

    def _clause(self, raw: str) -> Callable[[FakeIssue], bool]:
        clause = raw.strip()
        while clause.startswith("(") and clause.endswith(")") and clause.count("(") == 1:
            clause = clause[1:-1].strip()
        if m := re.fullmatch(r'project\s*=\s*"?([A-Z][A-Z0-9_]*)"?', clause, re.I):
            project = m.group(1).upper()
            return lambda issue: issue.project == project
        if m := re.fullmatch(r"(project|key)\s+(not\s+)?in\s*\(([^)]*)\)", clause, re.I):
            values = {v.strip().strip('"').upper() for v in m.group(3).split(",")}
            attr, wanted = m.group(1).lower(), not m.group(2)
            return lambda issue: (getattr(issue, attr).upper() in values) == wanted
        if m := re.fullmatch(
            r'updated\s*(>=|>)\s*["\'](\d{4})[/-](\d\d)[/-](\d\d) (\d\d):(\d\d)["\']', clause
        ):
            y, mo, d, h, mi = (int(g) for g in m.groups()[1:])
            since = dt.datetime(y, mo, d, h, mi, tzinfo=self.user_tz)  # the searching user's zone
            if m.group(1) == ">=":
                return lambda issue: issue.updated >= since
            return lambda issue: issue.updated > since
        raise JqlError(f"Error in the JQL Query: cannot parse '{clause}'.")
