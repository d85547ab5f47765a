"""GitHub's GraphQL API through the shared HTTP layer: rate limits as retries, GraphQL errors as ours.

GitHub signals a rate limit in several ways — 403 or 429 with ``x-ratelimit-remaining: 0`` and
``x-ratelimit-reset`` (epoch seconds), a secondary limit's 403 with ``retry-after``, or a 200 whose
``errors[].type`` is ``RATE_LIMITED`` — while :class:`HttpClient` retries only a 429. So a small transport
rewrites each of those into a 429 with ``Retry-After``, and the client's own retry loop (its injected sleep,
its retry count, its cap on the wait) does the rest. GraphQL reports other failures with HTTP 200 and an
``errors`` array, which :meth:`GitHubGraphQL.run` turns into the errors of :mod:`bot.connectors.errors`.

One kind of error is partial rather than fatal: a ``FORBIDDEN`` on one element of a list (a project item
whose issue lives in a repository the token may not read) leaves the rest of the answer good, so
:meth:`GitHubGraphQL.run_partial` returns the data with the paths it could not read.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from bot.connectors.errors import BadCredentials, ConnectorError, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import BearerAuth, HttpClient, HttpOptions, RewritingTransport, WaitCallback

SERVICE = "GitHub"
_PERMISSION_ERRORS = frozenset({"FORBIDDEN", "INSUFFICIENT_SCOPES"})


class GitHubNotFound(NotFound):
    """A GraphQL ``NOT_FOUND``; ``path`` says which field could not be resolved (``("organization",)``)."""

    def __init__(self, message: str, path: Sequence[object]) -> None:
        super().__init__(message)
        self.path = tuple(str(part) for part in path)


class RateLimitsAsRetryAfter(RewritingTransport):
    """Answers GitHub's rate-limit responses as ``429`` with ``Retry-After``, for :class:`HttpClient`."""

    def __init__(self, inner: httpx.BaseTransport, clock: Callable[[], float] = time.time) -> None:
        super().__init__(inner)
        self._clock = clock

    def rewrite(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        status, headers = response.status_code, response.headers
        if status == 429:
            limited = True
        elif status == 403:
            limited = (
                headers.get("x-ratelimit-remaining") == "0"
                or "retry-after" in headers
                or b"rate limit" in self.body(response).lower()
            )
        elif status == 200 and "json" in headers.get("content-type", ""):
            limited = b'"RATE_LIMITED"' in self.body(response)
        else:
            return response
        wait = self._wait(headers) if limited else None
        retry_after = None if wait is None else str(wait)
        return self.rewritten(request, response, 429 if limited else status, retry_after)

    def _wait(self, headers: httpx.Headers) -> int | None:
        """Seconds until the limit resets: ``retry-after`` if given, else ``x-ratelimit-reset`` minus now."""
        if "retry-after" in headers:
            return None  # already what HttpClient reads
        reset = headers.get("x-ratelimit-reset")
        if reset is None or not reset.strip().isdigit():
            return None
        now = self._clock()
        if headers.get("date"):
            # The server's own clock, so a skewed local clock does not shorten or stretch the wait.
            with contextlib.suppress(TypeError, ValueError):
                now = email.utils.parsedate_to_datetime(headers["date"]).timestamp()
        return max(1, math.ceil(int(reset) - now))


class GitHubGraphQL:
    """POST ``{api_url}/graphql`` with a bearer token; :meth:`run` returns ``data`` or raises our errors.

    ``waiting``, set by a connector for the length of a sync, hears of each long rate-limit wait.
    """

    waiting: WaitCallback | None = None

    def __init__(self, api_url: str, token: str, *, http: HttpOptions = HttpOptions()) -> None:
        self.http = HttpClient(
            api_url,
            service=SERVICE,
            auth=BearerAuth(token),
            headers={"Accept": "application/vnd.github+json"},
            options=http.wrap_transport(RateLimitsAsRetryAfter),
        )

    def close(self) -> None:
        self.http.close()

    def run(self, name: str, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The ``data`` of one query; the first GraphQL error, if any, raised as a ``ConnectorError``."""
        data, errors = self._answer(name, query, variables)
        if errors:
            raise _error(errors[0])
        return data

    def run_partial(
        self, name: str, query: str, variables: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[object, ...]]]:
        """The ``data`` of one query and the paths of list elements the token may not read.

        Only a ``FORBIDDEN`` error whose path goes through a list index is partial; any other error is
        raised as by :meth:`run`.
        """
        data, errors = self._answer(name, query, variables)
        unreadable = []
        for error in errors:
            path = tuple(error.get("path") or ())
            if error.get("type") != "FORBIDDEN" or not any(isinstance(part, int) for part in path):
                raise _error(error)
            unreadable.append(path)
        return data, unreadable

    def _answer(
        self, name: str, query: str, variables: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
        body = {"query": query, "variables": dict(variables), "operationName": name}
        try:
            answer = self.http.post_json("graphql", body, waiting=self.waiting)
        except BadCredentials:
            raise BadCredentials(
                "GitHub refused the token (401 Bad credentials): it may be mistyped, expired or revoked; "
                "create a new one (classic: scope read:project, plus repo for private repositories)"
            ) from None
        except NoPermission:
            raise NoPermission(
                "GitHub denied the request (403): the token works but may not read this; if the "
                "organization enforces SAML single sign-on, authorize the token for it"
            ) from None
        if not isinstance(answer, dict):
            raise UnexpectedResponse("GitHub answered the GraphQL query with something other than an object")
        errors = [error for error in answer.get("errors") or [] if isinstance(error, Mapping)]
        data = answer.get("data")
        if not isinstance(data, dict):
            if errors:
                raise _error(errors[0])
            raise UnexpectedResponse("GitHub answered the GraphQL query without data")
        return data, errors


def _error(error: Mapping[str, Any]) -> ConnectorError:
    kind, message = str(error.get("type") or ""), str(error.get("message") or "no message")[:300]
    if kind == "NOT_FOUND":
        return GitHubNotFound(f"GitHub: {message}", error.get("path") or ())
    if kind in _PERMISSION_ERRORS:
        return NoPermission(
            f"GitHub: {message} — give the token the read:project scope (classic) or Projects: read "
            "(fine-grained or app), and read access to the repositories of the project's issues"
        )
    return UnexpectedResponse(f"GitHub did not accept the query ({kind or 'error'}): {message}")
