"""A fake Azure DevOps Services organization on 127.0.0.1 that answers with the REST API's real payloads.

One project of work items, each a list of revisions (full field snapshots, as Azure DevOps stores them), and
one stream of every revision in write order, which is what the reporting API pages through: its
``continuationToken`` is a watermark into that stream, ``isLastBatch`` says the reader has caught up, and a
later request with the last token returns only revisions written since. Tests build items by hand, move them
between states at given times, change their type or area, and delete them (a revision with
``System.IsDeleted``, which only ``includeDeleted=true`` shows).

Served (api-version 7.1 required where the real service requires it, else 400):

- ``GET /{org}/_apis/connectionData`` (the token's user), ``GET /{org}/_apis/projects/{project}``;
- ``GET /{org}/{project}/_apis/wit/reporting/workitemrevisions`` (``fields``, ``includeDeleted``,
  ``$maxPageSize`` capped at ``page_size``, ``continuationToken``);
- ``GET /{org}/{project}/_apis/wit/workitemtypes/{type}/states`` (404 for a type the process lacks);
- ``GET /{org}/{project}/{team}/_apis/work/boards`` and ``…/boards/{id}/columns``.

Each route takes the query parameters of :data:`QUERY_PARAMETERS` and answers any other with 400: Azure
DevOps ignores a parameter it does not know, so a misspelt one (``maxPageSize`` for ``$maxPageSize``) would
do nothing there, silently; here it fails the test. tests/contracts checks those lists against the REST specs.

Auth is HTTP Basic with any user name and the PAT as password; a wrong token gets ``refusal`` (401, or 203
with an HTML sign-in page as Azure DevOps sends on some paths). Scripted faults (``fail``) answer the next
matching requests, e.g. 429 with Retry-After and X-RateLimit-* headers, or 403; ``slow_down`` adds a
Retry-After to the next successful answer, as Azure DevOps does while it delays a client.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.server import FakeAnswers, LocalHttpServer

# The query parameters the fake implements per route, named as in the REST specs (api-version 7.1); a subset
# of what each spec path allows (tests/contracts checks it). connectionData is in no published spec.
QUERY_PARAMETERS: dict[str, frozenset[str]] = {
    "/{organization}/_apis/connectionData": frozenset(),
    "/{organization}/_apis/projects/{projectId}": frozenset({"api-version"}),
    "/{organization}/{project}/_apis/wit/reporting/workitemrevisions": frozenset(
        {"api-version", "fields", "includeDeleted", "continuationToken", "$maxPageSize"}
    ),
    "/{organization}/{project}/_apis/wit/workitemtypes/{type}/states": frozenset({"api-version"}),
    "/{organization}/{project}/{team}/_apis/work/boards": frozenset({"api-version"}),
    "/{organization}/{project}/{team}/_apis/work/boards/{board}/columns": frozenset({"api-version"}),
}
_TEMPLATES = [(re.compile(re.sub(r"\{\w+\}", "[^/]+", t)), t) for t in QUERY_PARAMETERS]

# Agile process states: (name, colour, category)
AGILE_STATES = (
    ("New", "b2b2b2", "Proposed"),
    ("Active", "007acc", "InProgress"),
    ("Resolved", "ff9d00", "Resolved"),
    ("Closed", "339933", "Completed"),
    ("Removed", "ffffff", "Removed"),
)
DEFAULT_TYPES = {
    "User Story": AGILE_STATES,
    "Bug": AGILE_STATES[:4],
    "Task": (AGILE_STATES[0], AGILE_STATES[1], AGILE_STATES[3], AGILE_STATES[4]),
}
# The Stories board: column name, type, state mapped; Features sit on a board of their own.
DEFAULT_COLUMNS = (
    ("New", "incoming", "New"),
    ("Ready", "inProgress", "New"),
    ("Doing", "inProgress", "Active"),
    ("Review", "inProgress", "Resolved"),
    ("Closed", "outgoing", "Closed"),
)
WORKFLOW_YAML = """
name: Team
timezone: Europe/Zurich
stages:
  - {name: Backlog, statuses: [New], kind: backlog}
  - {name: Doing, statuses: [Active], kind: active}
  - {name: Review, statuses: [Resolved], kind: queue}
  - {name: Done, statuses: [Closed], kind: done}
  - {name: Dropped, statuses: [Removed], kind: discarded}
"""
SIGN_IN_PAGE = (
    "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head>"
    "<body>Sign in to your account</body></html>"
)


def stamp(at: dt.datetime) -> str:
    """Azure DevOps writes UTC with milliseconds and a Z: ``2026-01-05T09:00:00.123Z``."""
    utc = at.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


@dataclass
class FakeWorkItem:
    id: int
    revisions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fields(self) -> dict[str, Any]:
        return self.revisions[-1]


@dataclass
class Fault:
    path: str
    status: int
    times: int | None
    headers: dict[str, str]


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    query: dict[str, str]


class FakeAzureDevOps(LocalHttpServer):
    """The fake organization; use as a context manager (``with FakeAzureDevOps() as ado: ado.url``)."""

    def __init__(
        self,
        *,
        organization: str = "acme",
        project: str = "Payments",
        pat: str = "pat-secret-value",
        user: str = "Ann Lee",
        page_size: int = 200,
        refusal: int = 401,
    ) -> None:
        self.organization, self.project, self.pat, self.user = organization, project, pat, user
        self.team = f"{project} Team"
        self.page_size, self.refusal = page_size, refusal
        self.types: dict[str, tuple[tuple[str, str, str], ...]] = dict(DEFAULT_TYPES)
        self.columns = DEFAULT_COLUMNS
        self.items: dict[int, FakeWorkItem] = {}
        self.stream: list[tuple[int, int]] = []  # (work item id, index of its revision), in write order
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.hints: list[tuple[str, dict[str, str]]] = []
        self._next_id = 101
        self._lock = threading.RLock()

    def bound_handler(self) -> type[BaseHTTPRequestHandler]:
        return type("BoundHandler", (Handler,), {"ado": self})

    # -- building and changing the project ------------------------------------------------------------

    def add_item(
        self,
        created: dt.datetime,
        moves: Iterable[tuple[dt.datetime, str]] = (),
        *,
        type: str = "User Story",
        title: str | None = None,
        area: str | None = None,
        assignee: str | None = None,
        state: str = "New",
    ) -> int:
        """A new work item in ``state`` (revision 1), then one revision per state move; returns its id."""
        with self._lock:
            number = self._next_id
            self._next_id += 1
            fields = {
                "System.Id": number,
                "System.AreaPath": area or self.project,
                "System.WorkItemType": type,
                "System.State": state,
                "System.BoardColumn": self._column(state),
                "System.Title": title or f"{type} {number}",
                "System.CreatedDate": stamp(created),
                "System.ChangedDate": stamp(created),
                "System.Rev": 1,
            }
            if assignee:
                fields["System.AssignedTo"] = f"{assignee} <{assignee.split()[0].lower()}@example.com>"
            self.items[number] = FakeWorkItem(number)
            self._write(number, fields)
            for at, new in moves:
                self.move(number, new, at)
            return number

    def move(self, number: int, state: str, at: dt.datetime, *, column: str | None = None) -> None:
        """A revision that changes the state (and the board column with it, unless ``column`` is given)."""
        self.change(
            number, at, **{"System.State": state, "System.BoardColumn": column or self._column(state)}
        )

    def change(self, number: int, at: dt.datetime, **fields: Any) -> None:
        """A revision that changes any fields (``**{"System.Title": "…"}``)."""
        with self._lock:
            self._write(number, dict(self.items[number].fields) | fields | {"System.ChangedDate": stamp(at)})

    def delete(self, number: int, at: dt.datetime) -> None:
        """Send to the recycle bin: a last revision flagged ``System.IsDeleted``."""
        self.change(number, at, **{"System.IsDeleted": True})

    def _write(self, number: int, fields: dict[str, Any]) -> None:
        item = self.items[number]
        fields["System.Rev"] = len(item.revisions) + 1
        item.revisions.append(fields)
        self.stream.append((number, len(item.revisions) - 1))

    def _column(self, state: str) -> str | None:
        return next((name for name, _, mapped in self.columns if mapped == state), None)

    # -- faults and the request log -----------------------------------------------------------------------

    def fail(
        self, path: str, status: int, *, times: int | None = 1, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next ``times`` requests whose path contains ``path`` with ``status``."""
        with self._lock:
            self.faults.append(Fault(path, status, times, dict(headers or {})))

    def slow_down(self, path: str, seconds: float) -> None:
        """Add Retry-After (and the X-RateLimit-* headers) to the next successful answer on ``path``."""
        headers = {
            "Retry-After": f"{seconds:g}",
            "X-RateLimit-Resource": "ATCPU",
            "X-RateLimit-Delay": "0.5",
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "1767603600",
        }
        with self._lock:
            self.hints.append((path, headers))

    def count(self, path: str = "") -> int:
        return sum(1 for r in self.requests if path in r.path)

    # -- payloads -----------------------------------------------------------------------------------------

    @property
    def org_url(self) -> str:
        return f"{self.url}/{self.organization}"

    def revisions_page(self, query: dict[str, str]) -> dict[str, Any]:
        """One page of the reporting revisions stream after the query's continuation token."""
        start = int(query.get("continuationToken") or 0)
        size = min(int(query.get("$maxPageSize") or 1000), self.page_size)
        wanted = query["fields"].split(",") if query.get("fields") else None
        deleted = query.get("includeDeleted", "false").lower() == "true"
        values: list[dict[str, Any]] = []
        position = start
        while position < len(self.stream) and len(values) < size:
            number, index = self.stream[position]
            position += 1
            item = self.items[number]
            if not deleted and item.fields.get("System.IsDeleted"):
                continue  # without includeDeleted, a deleted item's revisions are left out
            fields = item.revisions[index]
            shown = {k: v for k, v in fields.items() if wanted is None or k in wanted}
            values.append({"id": number, "rev": fields["System.Rev"], "fields": shown})
        token = str(position)
        last = position >= len(self.stream)
        return {
            "values": values,
            "nextLink": f"{self.url}/{self.organization}/{self.project}/_apis/wit/reporting/"
            f"workItemRevisions?continuationToken={token}&api-version=7.1",
            "continuationToken": token,
            "isLastBatch": last,
        }

    def project_json(self) -> dict[str, Any]:
        project_id = str(uuid.uuid5(uuid.NAMESPACE_URL, self.project))
        return {
            "id": project_id,
            "name": self.project,
            "description": "Payments team",
            "url": f"{self.org_url}/_apis/projects/{project_id}",
            "state": "wellFormed",
            "revision": 11,
            "visibility": "private",
            "lastUpdateTime": "2025-11-03T10:00:00.000Z",
            "defaultTeam": {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.team)),
                "name": self.team,
                "url": f"{self.org_url}/_apis/projects/{project_id}/teams/x",
            },
        }

    def connection_data(self) -> dict[str, Any]:
        user = {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.user)),
            "descriptor": "Microsoft.IdentityModel.Claims.ClaimsIdentity;ann@example.com",
            "subjectDescriptor": "aad.YzE0ZTQ0NjQtNGI2Zi03",
            "providerDisplayName": self.user,
            "isActive": True,
            "properties": {"Account": {"$type": "System.String", "$value": "ann@example.com"}},
            "resourceVersion": 2,
            "metaTypeId": 0,
        }
        return {
            "authenticatedUser": user,
            "authorizedUser": user,
            "instanceId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.organization)),
            "deploymentId": "b6b0b3b8-0000-0000-0000-000000000000",
            "deploymentType": "hosted",
            "locationServiceData": {"serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7"},
        }

    def boards_json(self) -> dict[str, Any]:
        boards = [{"id": f"board-{n}", "url": f"{self.org_url}/_apis/work/boards/{n}", "name": n} for n in
                  ("Stories", "Features")]  # fmt: skip
        return {"count": len(boards), "value": boards}

    def columns_json(self, board: str) -> dict[str, Any]:
        if board == "board-Features":
            columns = [
                {"id": "f-new", "name": "Proposed", "itemLimit": 0, "stateMappings": {"Feature": "New"},
                 "columnType": "incoming"},
            ]  # fmt: skip
        else:
            types = [t for t in self.types if t != "Task"]
            columns = [
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
                    "name": name,
                    "itemLimit": 0 if kind != "inProgress" else 5,
                    "stateMappings": dict.fromkeys(types, state),
                    "isSplit": False,
                    "description": "",
                    "columnType": kind,
                }
                for name, kind, state in self.columns
            ]
        return {"count": len(columns), "value": columns}


def error(message: str, type_key: str) -> dict[str, Any]:
    """Azure DevOps' error body."""
    return {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": f"Microsoft.TeamFoundation.{type_key}, Microsoft.TeamFoundation",
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }


class Handler(FakeAnswers, BaseHTTPRequestHandler):
    ado: FakeAzureDevOps
    content_type = "application/json; charset=utf-8; api-version=7.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ado = self.ado
        with ado._lock:
            ado.requests.append(RecordedRequest(path, query))
            fault = next((f for f in ado.faults if f.path in path), None)
            if fault is not None:
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        ado.faults.remove(fault)
                body = error(f"scripted {fault.status}", "ScriptedException")
                self._send(fault.status, body, fault.headers)
                return
            if not self._authorised():
                if ado.refusal == 203:
                    self._send(203, SIGN_IN_PAGE, content_type="text/html; charset=utf-8")
                else:
                    self._send(401, "", content_type="text/plain")
                return
            status, payload = route(ado, path, query)
            hint = next((h for h in ado.hints if h[0] in path), None) if status == 200 else None
            if hint is not None:
                ado.hints.remove(hint)
        self._send(status, payload, hint[1] if hint else None)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        _, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return password == self.ado.pat


def route(ado: FakeAzureDevOps, path: str, query: dict[str, str]) -> tuple[int, Any]:
    """Dispatch one GET; 404 for anything the organization does not have."""
    org, project = f"/{ado.organization}", ado.project
    template = next((t for pattern, t in _TEMPLATES if pattern.fullmatch(path)), None)
    unknown = sorted(set(query) - QUERY_PARAMETERS[template]) if template else []
    if unknown:
        return 400, error(
            f"The query parameters {', '.join(unknown)} are not supported by {template}.",
            "InvalidQueryParameterException",
        )
    if path == f"{org}/_apis/connectionData":
        return 200, ado.connection_data()
    if query.get("api-version") != "7.1":
        return 400, error(
            "The requested REST API version is missing or not supported.", "VssVersionException"
        )
    if m := re.fullmatch(rf"{org}/_apis/projects/([^/]+)", path):
        if m.group(1) != project:
            return 404, error(
                f"TF200016: The following project does not exist: {m.group(1)}. Verify that the name of the "
                "project is correct and that the project exists on the specified Azure DevOps Server.",
                "ProjectDoesNotExistWithNameException",
            )
        return 200, ado.project_json()
    if not path.startswith(f"{org}/{project}/"):
        return 404, error(f"TF200016: The following project does not exist: {path}.", "ProjectDoesNotExist")
    rest = path[len(f"{org}/{project}") :]
    if rest == "/_apis/wit/reporting/workitemrevisions":
        return 200, ado.revisions_page(query)
    if m := re.fullmatch(r"/_apis/wit/workitemtypes/([^/]+)/states", rest):
        states = ado.types.get(m.group(1))
        if states is None:
            return 404, error(
                f"VS402323: Work item type {m.group(1)} does not exist.", "WorkItemTypeNotFoundException"
            )
        value = [{"name": n, "color": c, "category": cat} for n, c, cat in states]
        return 200, {"count": len(value), "value": value}
    if m := re.fullmatch(r"/([^/]+)/_apis/work/boards(?:/([^/]+)/columns)?", rest):
        if m.group(1) != ado.team:
            return 404, error(f"The team with id {m.group(1)} does not exist.", "TeamNotFoundException")
        return 200, ado.columns_json(m.group(2)) if m.group(2) else ado.boards_json()
    return 404, error(f"API resource {path} not found", "ApiResourceNotFound")
