"""The HTTP side of the fake Jira: a request handler and one function per endpoint (see ``jira``)."""

from __future__ import annotations

import base64
import json
import re
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.server import FakeAnswers

if TYPE_CHECKING:
    from tests.fakes.jira import FakeJira

FLAGGED_FIELD = "customfield_10021"
GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
    "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


class JqlError(ValueError):
    """A query outside the JQL subset the fake understands; answered with 400 like Jira's JQL errors."""


class Handler(FakeAnswers, BaseHTTPRequestHandler):
    jira: FakeJira
    content_type = "application/json;charset=UTF-8"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        query = parse_qs(parts.query)
        jira = self.jira
        with jira._lock:
            fault = jira.receive(method, parts.path, query, body)
            if fault is not None:
                self._send(fault.status, {"errorMessages": [f"scripted {fault.status}"]}, fault.headers)
                return
            if not self._authorised():
                self._send(401, {"errorMessages": ["Client must be authenticated to access this resource."]})
                return
            try:
                status, payload = _route(jira, method, parts.path, query, body)
            except JqlError as error:
                status, payload = 400, {"errorMessages": [str(error)], "errors": {}}
        self._send(status, payload)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        jira = self.jira
        basic = base64.b64encode(f"{jira.email}:{jira.token}".encode()).decode()
        return header in (f"Bearer {jira.token}", f"Basic {basic}")


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["offset"])
    except (ValueError, KeyError) as error:
        raise JqlError(f"Invalid nextPageToken: {token}") from error


def _route(jira: FakeJira, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
    """Dispatch one request to the handler for its path; 404 for anything Jira would not know."""
    api, cloud = jira.api, jira.flavour == "cloud"
    arg = {k: v[-1] for k, v in query.items()}
    if cloud and path in ("/rest/api/3/search", "/rest/api/2/search"):
        return 410, {"errorMessages": [GONE], "errors": {}}
    if path == f"{api}/myself":
        return 200, jira._user("Lead") | {
            "emailAddress": jira.email,
            "timeZone": str(jira.user_tz.key),
            "self": f"{jira.url}{api}/myself",
        }
    if cloud and path == "/rest/api/3/project/search":
        keys = sorted(jira.projects)
        start, size = int(arg.get("startAt", 0)), min(int(arg.get("maxResults", 50)), 50)
        page = keys[start : start + size]
        return 200, {
            "self": f"{jira.url}{path}?startAt={start}&maxResults={size}",
            "maxResults": size,
            "startAt": start,
            "total": len(keys),
            "isLast": start + len(page) >= len(keys),
            "values": [jira.project_json(key) for key in page],
        }
    if not cloud and path == "/rest/api/2/project":
        return 200, [jira.project_json(key) for key in sorted(jira.projects)]
    if m := re.fullmatch(rf"{api}/project/([^/]+)(/statuses)?", path):
        if m.group(1).upper() != jira.project:
            return 404, {
                "errorMessages": [f"No project could be found with key '{m.group(1)}'."],
                "errors": {},
            }
        if m.group(2):
            statuses = [jira.status_json(s) for s in jira.statuses]
            return 200, [
                {"id": t, "name": n, "subtask": False, "statuses": statuses}
                for t, n in (("10001", "Story"), ("10004", "Bug"))
            ]
        return 200, {
            "id": "10000",
            "key": jira.project,
            "name": jira.project.title(),
            "projectTypeKey": "software",
        }
    if path == f"{api}/status":
        return 200, [jira.status_json(s) for s in jira.statuses]
    if path == f"{api}/field":
        return 200, [
            {"id": "status", "key": "status", "name": "Status", "custom": False},
            {"id": "summary", "key": "summary", "name": "Summary", "custom": False},
            {
                "id": FLAGGED_FIELD,
                "key": FLAGGED_FIELD,
                "name": "Flagged",
                "custom": True,
                "schema": {
                    "type": "array",
                    "items": "option",
                    "customId": 10021,
                    "custom": "com.atlassian.jira.plugin.system.customfieldtypes:multicheckboxes",
                },
            },
        ]
    if m := re.fullmatch(r"/rest/agile/1\.0/board/(\d+)/configuration", path):
        if int(m.group(1)) not in jira.boards:
            return 404, {"errorMessages": ["Board does not exist or you do not have permission to see it."]}
        columns = [
            {"name": name, "statuses": [{"id": s, "self": f"{jira.url}{api}/status/{s}"} for s in ids]}
            for name, ids in jira.boards[int(m.group(1))]
        ]
        return 200, {
            "id": int(m.group(1)),
            "name": "Board",
            "type": "kanban",
            "columnConfig": {"columns": columns, "constraintType": "issueCount"},
        }
    if (cloud and path == "/rest/api/3/search/jql") or (not cloud and path == "/rest/api/2/search"):
        jira.before_search()
    if cloud and path == "/rest/api/3/search/jql":
        return 200, _search_jql(jira, body if method == "POST" else _query_search(arg))
    if cloud and path == "/rest/api/3/search/approximate-count" and method == "POST":
        return 200, {"count": len(jira.search(body["jql"]))}
    if cloud and path == "/rest/api/3/changelog/bulkfetch" and method == "POST":
        return _bulkfetch(jira, body)
    if not cloud and path == "/rest/api/2/search":
        return 200, _search_offset(jira, _query_search(arg) if method == "GET" else body)
    if m := re.fullmatch(rf"{api}/issue/([^/]+)/changelog", path):
        issue = jira.find(m.group(1))
        if issue is None or not (cloud or jira.dc_issue_changelog):
            return 404, {"message": f"null for uri: {jira.url}{path}", "status-code": 404}
        start, size = (
            int(arg.get("startAt", 0)),
            min(int(arg.get("maxResults", 100)), jira.changelog_page_size),
        )
        page = issue.histories[start : start + size]
        last = start + len(page) >= len(issue.histories)
        return 200, {
            "self": f"{jira.url}{path}?startAt={start}&maxResults={size}",
            "maxResults": size,
            "startAt": start,
            "total": len(issue.histories),
            "isLast": last,
            "values": [jira.history_json(h) for h in page],
        }
    return 404, {"errorMessages": [f"null for uri: {jira.url}{path}"], "errors": {}}


def _query_search(arg: dict[str, str]) -> dict[str, Any]:
    request: dict[str, Any] = {k: arg[k] for k in ("jql", "nextPageToken", "expand") if k in arg}
    if "fields" in arg:
        request["fields"] = arg["fields"].split(",")
    for name in ("maxResults", "startAt"):
        if name in arg:
            request[name] = int(arg[name])
    return request


def _expand(value: Any) -> str:
    return ",".join(value) if isinstance(value, list) else str(value or "")


def _search_jql(jira: FakeJira, request: dict[str, Any]) -> dict[str, Any]:
    found = jira.search(request.get("jql", ""))
    start = _offset(request.get("nextPageToken"))
    size = min(int(request.get("maxResults", 50)), jira.max_search_results)
    page = found[start : start + size]
    answer: dict[str, Any] = {
        "issues": [jira.issue_json(i, request.get("fields"), _expand(request.get("expand"))) for i in page]
    }
    if start + size < len(found):
        answer["nextPageToken"] = _token(start + size)
    answer["isLast"] = start + size >= len(found)
    return answer


def _search_offset(jira: FakeJira, request: dict[str, Any]) -> dict[str, Any]:
    found = jira.search(request.get("jql", ""))
    start, size = (
        int(request.get("startAt", 0)),
        min(int(request.get("maxResults", 50)), jira.max_search_results),
    )
    issues = [
        jira.issue_json(i, request.get("fields"), _expand(request.get("expand")))
        for i in found[start : start + size]
    ]
    return {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": len(found),
        "issues": issues,
    }


def _bulkfetch(jira: FakeJira, body: dict[str, Any]) -> tuple[int, Any]:
    wanted = [str(k) for k in body.get("issueIdsOrKeys", [])]
    field_ids = body.get("fieldIds")
    if not wanted or len(wanted) > 1000 or (field_ids and len(field_ids) > 10):
        return 400, {"errorMessages": ["Between 1 and 1000 issues and at most 10 field ids."], "errors": {}}
    only = set(field_ids) if field_ids else None
    entries = []
    for issue in filter(None, map(jira.find, dict.fromkeys(wanted))):
        for history in issue.histories:
            rendered = jira.history_json(history, only)
            if rendered["items"]:
                entries.append((history[1], issue.id, history[0], rendered))
    entries.sort(key=lambda entry: entry[:3])  # by date, then issue id: as Jira documents it
    start = _offset(body.get("nextPageToken"))
    size = min(int(body.get("maxResults", 1000)), jira.bulkfetch_page_size)
    groups: dict[int, list[Any]] = {}
    for _, issue_id, _, rendered in entries[start : start + size]:
        groups.setdefault(issue_id, []).append(rendered)
    answer: dict[str, Any] = {
        "issueChangeLogs": [{"issueId": str(i), "changeHistories": h} for i, h in groups.items()]
    }
    if start + size < len(entries):
        answer["nextPageToken"] = _token(start + size)
    return 200, answer
