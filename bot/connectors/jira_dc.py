"""Jira Data Center / Server: issues with their histories from ``/rest/api/2/search``, paged by ``startAt``.

Data Center answers ``expand=changelog`` with every history of every issue on the page (``changelog.total``
equals the number returned), so one request per page of 100 issues is the whole sync; there is no bulk
changelog API there, and ``/rest/api/2/issue/{key}/changelog`` is a Cloud endpoint that Data Center answers
with 404. Should a server (a proxy, a future version) return fewer histories than its ``total``, the issue's
changelog endpoint is paged for the rest, and where that does not exist the gap is logged, not hidden.
Changelog items on Data Center carry field names but no ``fieldId``; matching is by name (``status``,
``Flagged``). Auth: a personal access token, sent as a bearer token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import Field, SecretStr

from analytics.workflow import Workflow
from bot.connectors.errors import NotFound
from bot.connectors.http import BearerAuth, paginate_by_offset
from bot.connectors.jira_base import JiraConnector
from bot.connectors.jira_common import JiraScope
from bot.connectors.jira_projects import JiraProject, server_projects
from bot.connectors.sweeping import Issue

log = logging.getLogger("flowcoach.jira")
CHANGELOG_PAGE = 100
LONG_JQL = 2000  # characters; a search's JQL longer than this (a minute's excluded keys) is posted


class JiraDataCenterSettings(JiraScope):
    """A Jira Data Center (or Server) board: the site, a personal access token, and which issues."""

    url: str = Field(description="site address, e.g. https://jira.example.com (with any context path)")
    token: SecretStr = Field(description="personal access token (Profile → Personal Access Tokens)")


class JiraDataCenterConnector(JiraConnector):
    """A Jira Data Center project or JQL query as a flowcoach board (see the module docstring)."""

    flavour = "Jira Data Center"
    api = "/rest/api/2"

    def __init__(
        self, settings: JiraDataCenterSettings, workflow: Workflow | None = None, **options: Any
    ) -> None:
        super().__init__(
            settings.url,
            project=settings.project,
            jql=settings.jql,
            board_id=settings.board_id,
            auth=BearerAuth(settings.token.get_secret_value()),
            refused=(
                f"Jira Data Center at {settings.url} refused the personal access token (401): check that "
                "it has not expired or been revoked (Profile → Personal Access Tokens)"
            ),
            **options,
        )
        self._changelog_endpoint = True

    def _search_pages(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> Iterator[tuple[list[Issue], int | None]]:
        start = 0
        while True:
            issues, total = self._search(jql, fields, page_size, start, with_history=with_history)
            yield issues, total
            # The next start follows what came back: servers cap maxResults below what was asked.
            start += len(issues)
            if not issues or (isinstance(total, int) and start >= total):
                return

    def _first_page(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> tuple[list[Issue], int | None, bool]:
        issues, total = self._search(jql, fields, page_size, 0, with_history=with_history)
        more = total > len(issues) if isinstance(total, int) else len(issues) >= page_size
        return issues, total, more

    def _search(
        self, jql: str, fields: Sequence[str], page_size: int, start: int, *, with_history: bool
    ) -> tuple[list[Issue], int | None]:
        """One page of a search from ``start``, with Jira's total."""
        params: dict[str, Any] = {"jql": jql, "startAt": start, "maxResults": page_size}
        if len(jql) <= LONG_JQL:
            params["fields"] = ",".join(fields)
            if with_history:
                params["expand"] = "changelog"
            data = self.http.get_json(f"{self.api}/search", params)
        else:  # too long for a URL that proxies and Tomcat accept: the same search as a POST body
            params["fields"] = list(fields)
            if with_history:
                params["expand"] = ["changelog"]
            data = self.http.post_json(f"{self.api}/search", params)
        total = data.get("total")
        return list(data.get("issues") or []), total if isinstance(total, int) else None

    def _projects(self) -> list[JiraProject]:
        return server_projects(self.http, self.api)

    def _histories(self, issues: Sequence[Issue]) -> dict[str, list[Mapping[str, Any]]]:
        found: dict[str, list[Mapping[str, Any]]] = {}
        for issue in issues:
            key, changelog = str(issue["key"]), issue.get("changelog") or {}
            histories = list(changelog.get("histories") or [])
            total = changelog.get("total")
            if isinstance(total, int) and total > len(histories):
                histories = self._complete(key, histories, total)
            found[key] = histories
        return found

    def _complete(self, key: str, partial: list[Mapping[str, Any]], total: int) -> list[Mapping[str, Any]]:
        """All ``total`` histories of an issue whose search result held only ``partial``."""
        if self._changelog_endpoint:

            def page(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
                params = {"startAt": start, "maxResults": CHANGELOG_PAGE}
                data = self.http.get_json(f"{self.api}/issue/{key}/changelog", params)
                return list(data.get("values") or []), data.get("total")

            try:
                return list(paginate_by_offset(page, page_size=CHANGELOG_PAGE))
            except NotFound:
                self._changelog_endpoint = False  # not on this server: do not ask again for every issue
        log.warning(
            "%s: %s returned %d of %d change histories and offers no changelog paging; older changes of "
            "this issue are missing",
            key,
            self.site,
            len(partial),
            total,
        )
        return partial
