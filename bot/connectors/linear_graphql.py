"""Talking GraphQL to Linear through the shared HTTP layer: auth headers, error codes, rate limits, queries.

Linear answers most failures with HTTP 400 and a GraphQL ``errors[].extensions.code``: ``RATELIMITED``
(sometimes as 429) with ``X-RateLimit-Requests-Reset`` / ``X-RateLimit-Complexity-Reset`` in epoch
milliseconds, ``AUTHENTICATION_ERROR`` (also as 401) and ``FORBIDDEN``. :class:`LinearTransport` rewrites
those answers into the plain 429 (with ``Retry-After``), 401 and 403 that :class:`HttpClient` already
retries and maps, so Linear's limits get the same waits, retry counts and messages as every other source.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from bot.connectors.errors import BadCredentials, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import HttpClient, HttpOptions, RewritingTransport, TokenAuth

log = logging.getLogger("flowcoach.linear")
SERVICE = "Linear"
RESET_HEADERS = ("X-RateLimit-Requests-Reset", "X-RateLimit-Complexity-Reset", "X-RateLimit-Endpoint-Reset")
_STATUS_FOR_CODE = {"RATELIMITED": 429, "AUTHENTICATION_ERROR": 401, "FORBIDDEN": 403}

# Archived issues are read (``includeArchived`` on ``issues``), and so is archived history: Linear archives an
# issue's history with it, and without ``includeArchived`` on ``history`` too an archived issue would show
# only its current state.
HISTORY_NODES = "nodes { id createdAt fromState { id name } toState { id name } }"
ISSUE_FIELDS = f"""
  id identifier title url createdAt updatedAt trashed
  state {{ id name type }}
  assignee {{ name }}
  labels(first: 5) {{ nodes {{ name }} }}
  history(first: $historyPage, includeArchived: true) {{
    pageInfo {{ hasNextPage endCursor }} {HISTORY_NODES}
  }}
"""
ISSUES = f"""query Issues($filter: IssueFilter, $first: Int!, $after: String, $historyPage: Int!) {{
  issues(filter: $filter, orderBy: updatedAt, first: $first, after: $after, includeArchived: true) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ {ISSUE_FIELDS} }}
  }}
}}"""
ISSUE_HISTORY = f"""query IssueHistory($id: String!, $first: Int!, $after: String) {{
  issue(id: $id) {{
    history(first: $first, after: $after, includeArchived: true) {{
      pageInfo {{ hasNextPage endCursor }} {HISTORY_NODES}
    }}
  }}
}}"""
ISSUE_KEYS = """query IssueKeys($filter: IssueFilter, $first: Int!, $after: String) {
  issues(filter: $filter, first: $first, after: $after, includeArchived: true) {
    pageInfo { hasNextPage endCursor }
    nodes { id identifier trashed }
  }
}"""
TEAM = """query Team($key: String!) {
  viewer { id name email }
  organization { name urlKey }
  teams(filter: { key: { eq: $key } }) {
    nodes { id key name states(first: 250) { nodes { id name type position } } }
  }
}"""
PROJECTS = """query Projects($filter: ProjectFilter) {
  projects(filter: $filter, first: 2) { nodes { id name } }
}"""


# Every document the connector sends, by operation: the contract tests validate each against Linear's schema.
DOCUMENTS = {
    "Issues": ISSUES,
    "IssueHistory": ISSUE_HISTORY,
    "IssueKeys": ISSUE_KEYS,
    "Team": TEAM,
    "Projects": PROJECTS,
}


class ApiKeyAuth(TokenAuth):
    """A personal API key goes in ``Authorization`` as it is, without ``Bearer``."""


class LinearTransport(RewritingTransport):
    """Rewrites Linear's GraphQL error answers into the HTTP statuses :class:`HttpClient` acts on.

    ``clock`` is the aware current time: the reset headers are absolute, and tests fix the clock to assert
    the exact wait.
    """

    def __init__(self, inner: httpx.BaseTransport, clock: Callable[[], dt.datetime]) -> None:
        super().__init__(inner)
        self._clock = clock

    def rewrite(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if response.status_code not in (400, 401, 403, 429):
            return response
        status = _STATUS_FOR_CODE.get(error_code(_json_or_none(self.body(response))) or "")
        wait = self._wait(response.headers) if status == 429 else None
        retry_after = None if wait is None else f"{wait:.3f}"
        return self.rewritten(request, response, status or response.status_code, retry_after)

    def _wait(self, headers: httpx.Headers) -> float | None:
        """Seconds until the latest of the limits that ran out resets, from its epoch-millisecond header."""
        resets = []
        for name in RESET_HEADERS:
            try:
                resets.append(float(headers[name]) / 1000)
            except (KeyError, ValueError):
                continue
        if not resets:
            return None
        return max(0.0, max(resets) - self._clock().timestamp())


class LinearApi:
    """One Linear workspace's GraphQL endpoint: :meth:`query` returns ``data`` or raises a ``ConnectorError``.

    ``refused`` and ``denied`` are the messages for an authentication error and a missing permission,
    worded by the connector for the team it reads; neither ever contains the key.
    """

    def __init__(
        self,
        api_url: str,
        auth: httpx.Auth,
        *,
        refused: str,
        denied: str,
        clock: Callable[[], dt.datetime],
        http: HttpOptions = HttpOptions(),
    ) -> None:
        self.refused, self.denied = refused, denied
        self.http = HttpClient(
            api_url,
            service=SERVICE,
            auth=auth,
            headers={"Content-Type": "application/json"},
            options=http.wrap_transport(lambda inner: LinearTransport(inner, clock)),
        )

    def close(self) -> None:
        self.http.close()

    def query(self, document: str, variables: Mapping[str, Any]) -> Mapping[str, Any]:
        """Run one query (its operation name is the word after ``query``) and return its ``data``."""
        operation = document.split("(", 1)[0].split()[1]
        body = {"query": document, "variables": dict(variables), "operationName": operation}
        try:
            # A read: safe to repeat after a timeout or a 5xx, like Jira's search POSTs.
            response = self.http.request("POST", "/graphql", json=body, expected=(200, 400), retry_post=True)
        except BadCredentials:
            raise BadCredentials(self.refused) from None
        except NoPermission:
            raise NoPermission(self.denied) from None
        payload = _json_or_none(response.content)
        if not isinstance(payload, Mapping):
            raise UnexpectedResponse(
                f"{SERVICE} answered {operation} with something other than GraphQL JSON: check the API URL "
                "(it should be https://api.linear.app)"
            )
        errors = payload.get("errors") or []
        data = payload.get("data")
        if errors:
            code = error_code(payload)
            if code == "AUTHENTICATION_ERROR":
                raise BadCredentials(self.refused)
            if code == "FORBIDDEN":
                raise NoPermission(self.denied)
            message = str((errors[0] or {}).get("message") or "no message")
            if data is None or response.status_code != 200:
                kind = NotFound if "not found" in message.lower() else UnexpectedResponse
                raise kind(f"{SERVICE} rejected the {operation} query ({code or 'no code'}): {message}")
            log.warning("Linear answered %s with partial errors: %s", operation, message)
        if not isinstance(data, Mapping):
            raise UnexpectedResponse(f"{SERVICE} answered {operation} without data: try again later")
        return data


def error_code(payload: Any) -> str | None:
    """The first ``extensions.code`` of a GraphQL error answer, if any."""
    if not isinstance(payload, Mapping):
        return None
    for error in payload.get("errors") or []:
        code = ((error or {}).get("extensions") or {}).get("code")
        if code:
            return str(code)
    return None


def _json_or_none(content: bytes) -> Any:
    try:
        return json.loads(content)
    except ValueError:
        return None
