"""Jira Cloud: issues through ``search/jql``, status and flag history through the bulk changelog API.

- Issues: ``POST /rest/api/3/search/jql`` with explicit ``fields`` and ``nextPageToken`` paging. The old
  ``/rest/api/3/search`` answers 410 Gone since 2025 (Atlassian CHANGE-2046) and is never called.
- Histories: ``POST /rest/api/3/changelog/bulkfetch`` for a whole search page at once (≤ 1000 issues),
  filtered to ``status`` and the Flagged field, paged by ``nextPageToken``; one issue's histories may span
  pages, so they are gathered by issue id. Where bulkfetch is unavailable (404, or 403 on sites that block
  it) each issue's ``/rest/api/3/issue/{key}/changelog`` is paged instead. ``expand=changelog`` is never
  used: Cloud truncates it to the newest histories, which would lose the start of long-lived issues.
- Auth: Atlassian account e-mail + API token (basic), or, without an e-mail, a bearer (OAuth) token.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import Field, SecretStr

from analytics.workflow import Workflow
from bot.connectors.errors import NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import BearerAuth, paginate_by_offset, paginate_by_token
from bot.connectors.jira_base import JiraConnector
from bot.connectors.jira_common import FLAGGED, JiraScope
from bot.connectors.jira_projects import JiraProject, cloud_projects
from bot.connectors.sweeping import Issue, chunks

log = logging.getLogger("flowcoach.jira")
BULK_ISSUES = 1000  # issues per bulkfetch request, Jira's documented maximum
BULK_PAGE = 1000  # histories asked for per bulkfetch page; Jira may answer fewer
CHANGELOG_PAGE = 100  # the issue changelog's page size limit


class JiraCloudSettings(JiraScope):
    """A Jira Cloud board: the site, who we are, and which issues (a project key or a JQL query)."""

    email: str | None = Field(
        default=None,
        description="Atlassian account e-mail for the API token (leave empty for a bearer token)",
    )
    token: SecretStr = Field(description="API token from id.atlassian.com (or an OAuth bearer token)")


class JiraCloudConnector(JiraConnector):
    """A Jira Cloud project or JQL query as a flowcoach board (see the module docstring)."""

    flavour = "Jira Cloud"
    api = "/rest/api/3"

    def __init__(self, settings: JiraCloudSettings, workflow: Workflow | None = None, **options: Any) -> None:
        token = settings.token.get_secret_value()
        if settings.email:
            auth: Any = (settings.email, token)
            refused = (
                f"Jira Cloud at {settings.url} refused the e-mail and API token (401): check the e-mail "
                "address, and create a new token at https://id.atlassian.com/manage-profile/security/api-tokens"
            )
        else:
            auth = BearerAuth(token)
            refused = f"Jira Cloud at {settings.url} refused the bearer token (401): it may have expired"
        super().__init__(
            settings.url,
            project=settings.project,
            jql=settings.jql,
            board_id=settings.board_id,
            auth=auth,
            refused=refused,
            **options,
        )
        self._bulkfetch = True
        self._flag_fields: list[str] | None = None

    def _search_pages(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> Iterator[tuple[list[Issue], int | None]]:
        def page(token: str | None) -> tuple[list[tuple[list[Issue], int | None]], str | None]:
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
            if token:
                body["nextPageToken"] = token
            data = self.http.post_json(f"{self.api}/search/jql", body)
            following = None if data.get("isLast") else data.get("nextPageToken")
            return [(list(data.get("issues") or []), None)], following

        return paginate_by_token(page)

    def _first_page(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> tuple[list[Issue], int | None, bool]:
        body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": page_size}
        data = self.http.post_json(f"{self.api}/search/jql", body)
        more = not data.get("isLast", not data.get("nextPageToken"))
        return list(data.get("issues") or []), None, more

    def _count(self, jql: str) -> int | None:
        try:
            answer = self.http.post_json(f"{self.api}/search/approximate-count", {"jql": jql})
        except (NotFound, NoPermission, UnexpectedResponse):
            return None  # only a progress bar's total: not worth failing a sync over
        count = answer.get("count")
        return int(count) if isinstance(count, int) else None

    def _projects(self) -> list[JiraProject]:
        return cloud_projects(self.http, self.api)

    def _histories(self, issues: Sequence[Issue]) -> dict[str, list[Mapping[str, Any]]]:
        if self._bulkfetch:
            try:
                return self._bulk_histories(issues)
            except (NotFound, NoPermission) as error:
                log.info(
                    "bulk changelogs unavailable on %s (%s); paging each issue's changelog", self.site, error
                )
                self._bulkfetch = False
        return {str(issue["key"]): self._issue_changelog(str(issue["key"])) for issue in issues}

    def _bulk_histories(self, issues: Sequence[Issue]) -> dict[str, list[Mapping[str, Any]]]:
        key_of = {str(issue["id"]): str(issue["key"]) for issue in issues}
        fields = ["status", *self._flag_field_ids()][:10]  # bulkfetch filters by at most 10 field ids
        found: dict[str, list[Mapping[str, Any]]] = {}
        for chunk in chunks(list(key_of), BULK_ISSUES):

            def page(token: str | None, ids: Sequence[str] = chunk) -> tuple[list[Any], str | None]:
                body: dict[str, Any] = {
                    "issueIdsOrKeys": list(ids),
                    "fieldIds": fields,
                    "maxResults": BULK_PAGE,
                }
                if token:
                    body["nextPageToken"] = token
                data = self.http.post_json(f"{self.api}/changelog/bulkfetch", body)
                return list(data.get("issueChangeLogs") or []), data.get("nextPageToken")

            for changelog in paginate_by_token(page):
                issue_id = str(changelog.get("issueId"))
                found.setdefault(key_of.get(issue_id, issue_id), []).extend(
                    changelog.get("changeHistories") or []
                )
        return found

    def _issue_changelog(self, key: str) -> list[Mapping[str, Any]]:
        def page(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
            params = {"startAt": start, "maxResults": CHANGELOG_PAGE}
            data = self.http.get_json(f"{self.api}/issue/{key}/changelog", params)
            return list(data.get("values") or []), data.get("total")

        return list(paginate_by_offset(page, page_size=CHANGELOG_PAGE))

    def _flag_field_ids(self) -> list[str]:
        """The ids of the Flagged field (``customfield_…``, different on every site), read once."""
        if self._flag_fields is None:
            fields = self.http.get_json(f"{self.api}/field")
            self._flag_fields = [str(f["id"]) for f in fields if f.get("name") == FLAGGED]
        return self._flag_fields
