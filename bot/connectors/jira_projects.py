"""The projects a Jira account can browse, so onboarding can offer them as a choice instead of a key to type.

- Cloud: ``GET /rest/api/3/project/search``, offset pages (``values``, ``startAt``, ``maxResults``,
  ``total``, ``isLast``); the older unpaged ``/rest/api/3/project`` is deprecated there.
- Data Center: ``GET /rest/api/2/project``, one plain list of every visible project (no paging exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.connectors.http import HttpClient, paginate_by_offset

CLOUD_PROJECT_PAGE = 50  # Jira Cloud's default and usual cap for project search


@dataclass(frozen=True)
class JiraProject:
    """A project as the choice shows it: its key (what a board's settings keep) and its name."""

    key: str
    name: str


def projects_from(payload: Iterable[Mapping[str, Any]]) -> list[JiraProject]:
    """Projects from either API's project objects, sorted by key, each key once."""
    found = {str(p["key"]): JiraProject(str(p["key"]), str(p.get("name") or p["key"])) for p in payload}
    return [found[key] for key in sorted(found)]


def cloud_projects(http: HttpClient, api: str) -> list[JiraProject]:
    """Every project of a Cloud site visible to the credentials, page by page."""

    def page(start: int) -> tuple[list[Mapping[str, Any]], int | None]:
        data = http.get_json(f"{api}/project/search", {"startAt": start, "maxResults": CLOUD_PROJECT_PAGE})
        values = list(data.get("values") or [])
        total = data.get("total")
        if data.get("isLast"):
            total = start + len(values)  # trust isLast over a total that may count invisible projects
        return values, total if isinstance(total, int) else None

    return projects_from(paginate_by_offset(page, page_size=CLOUD_PROJECT_PAGE))


def server_projects(http: HttpClient, api: str) -> list[JiraProject]:
    """Every project of a Data Center / Server site visible to the credentials (one unpaged list)."""
    return projects_from(http.get_json(f"{api}/project"))
