"""Linear: a team's issues (optionally one project's) with their state history, over the GraphQL API.

- Issues: ``issues(filter: {team: {key: {eq}}, updatedAt: {gte}}, orderBy: updatedAt, first, after)`` with
  each issue's ``history`` inline; an issue whose history runs past the inline page is read to the end with
  ``issue(id) { history(after) }``. Each issues page becomes one :class:`Batch` whose cursor (a JSON
  :class:`SyncState`) already counts that page and remembers the page's ``endCursor``, so a killed sync
  resumes the same query after the last committed page.
- Incremental: a finished run records the newest ``updatedAt`` it delivered; the next one asks for issues
  updated since then minus ``overlap`` (an update committed while a page was read can be missed without it).
  Issues the overlap brings back unchanged are not delivered again.
- Archived issues are read too: Linear archives closed issues automatically after a few months, and they
  are the team's history. Deleted issues sit in the trash (``trashed``) for a while and are reported in
  ``Batch.removed``; issues purged from the trash or moved to another team never show up in an ``updatedAt``
  search, so every ``sweep_every`` the sync lists the team's identifiers, reports the vanished ones and
  fetches any it never delivered.
- Auth: a personal API key (sent as it is) or an OAuth access token (``lin_oauth_…``, sent as a bearer token).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator

from analytics.workflow import Workflow
from bot.connectors.base import SourceStatus
from bot.connectors.cursor import Mark, utc_millis
from bot.connectors.errors import NotFound
from bot.connectors.http import BearerAuth, HttpOptions, web_address
from bot.connectors.linear_events import (
    Issue,
    SyncState,
    events_from,
    item_from,
    mark,
    statuses_from,
)
from bot.connectors.linear_graphql import (
    ISSUE_HISTORY,
    ISSUE_KEYS,
    ISSUES,
    PROJECTS,
    TEAM,
    ApiKeyAuth,
    LinearApi,
)
from bot.connectors.sweeping import Delivery, SweepingConnector

log = logging.getLogger("flowcoach.linear")
DEFAULT_API_URL = "https://api.linear.app"
PAGE_SIZE = 50  # issues per page; with 25 inline history entries each this stays well inside query complexity
HISTORY_PAGE = 25
MORE_HISTORY_PAGE = 100  # follow-up history pages, one issue at a time
KEYS_PAGE = 250  # Linear's largest page
OVERLAP = dt.timedelta(minutes=5)
SWEEP_EVERY = dt.timedelta(hours=24)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class LinearSettings(BaseModel):
    """A Linear team (and optionally one of its projects) as a board, and the key that reads it."""

    team_key: str = Field(description="team key, the letters before the number in an issue id, e.g. PAY")
    project: str | None = Field(default=None, description="only this project's issues (its name or id)")
    api_key: SecretStr = Field(description="personal API key (Settings → Security & access) or OAuth token")
    auth: Literal["auto", "api_key", "oauth"] = Field(
        default="auto", description="how to send the key; auto: OAuth for lin_oauth_… tokens, else API key"
    )
    api_url: str = Field(default=DEFAULT_API_URL, description="Linear's API address")

    @field_validator("team_key")
    @classmethod
    def _key(cls, key: str) -> str:
        key = key.strip().upper()
        if not re.fullmatch(r"[A-Z0-9_]{1,10}", key):
            raise ValueError(
                "must be a Linear team key such as PAY (the letters before the number in PAY-12)"
            )
        return key

    @field_validator("api_url")
    @classmethod
    def _url(cls, url: str) -> str:
        return web_address(url, DEFAULT_API_URL)

    def uses_oauth(self) -> bool:
        if self.auth == "auto":
            return self.api_key.get_secret_value().startswith("lin_oauth_")
        return self.auth == "oauth"


class LinearConnector(SweepingConnector[SyncState]):
    """A Linear team as a flowcoach board (see the module docstring).

    Keyword options (tests and benchmarks set them; boards use the defaults): ``http`` how the HTTP client
    waits and retries; ``clock`` returns the aware current time (sweep schedule, rate-limit resets);
    ``page_size`` issues per page and batch; ``history_page`` history entries read inline per issue;
    ``overlap`` and ``sweep_every`` as in the module docstring.
    """

    cursor_type = SyncState
    service = "Linear"
    log = logging.getLogger("flowcoach.linear")

    def __init__(
        self,
        settings: LinearSettings,
        workflow: Workflow | None = None,
        *,
        http: HttpOptions = HttpOptions(),
        clock: Callable[[], dt.datetime] | None = None,
        page_size: int = PAGE_SIZE,
        history_page: int = HISTORY_PAGE,
        overlap: dt.timedelta = OVERLAP,
        sweep_every: dt.timedelta = SWEEP_EVERY,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, overlap=overlap, sweep_every=sweep_every)
        self.team_key, self.project = settings.team_key, settings.project
        self.history_page = history_page
        secret = settings.api_key.get_secret_value()
        auth: httpx.Auth = BearerAuth(secret) if settings.uses_oauth() else ApiKeyAuth(secret)
        what = "OAuth token" if settings.uses_oauth() else "API key"
        self.api = LinearApi(
            settings.api_url,
            auth,
            refused=(
                f"Linear refused the {what} (authentication error): check that it was copied whole and has "
                "not been revoked; create a new personal API key under Settings → Security & access"
            ),
            denied=(
                f"Linear denied the {what} access to team {self.team_key}: the key works but may not read "
                "this team; give the key read access to the team, or ask a workspace admin to add you to it"
            ),
            clock=self._clock,
            http=http,
        )

    def close(self) -> None:
        self.api.close()

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """Who we are, that the team exists for this key, and that the project (if any) does."""
        data = self.api.query(TEAM, {"key": self.team_key})
        viewer = data.get("viewer") or {}
        who = viewer.get("name") or viewer.get("email") or "this account"
        org = (data.get("organization") or {}).get("name") or "this workspace"
        team = self._team_from(data, who)
        found = f"Linear team '{team.get('name', self.team_key)}' ({self.team_key}) of {org}"
        if self.project:
            found += f", project '{self._project_name()}'"
        return f"{found}, as {who}"

    def statuses(self) -> list[SourceStatus]:
        """The team's workflow states with categories from their types (canceled counts as done)."""
        team = self._team_from(self.api.query(TEAM, {"key": self.team_key}), "this account")
        return statuses_from(((team.get("states") or {}).get("nodes")) or [])

    # -- the sync --------------------------------------------------------------------------------------

    def _team_from(self, data: Mapping[str, Any], who: str) -> Mapping[str, Any]:
        teams = ((data.get("teams") or {}).get("nodes")) or []
        if not teams:
            raise NotFound(
                f"Linear has no team with key {self.team_key} that {who} can see: the key is the letters "
                "before the number in an issue id (PAY in PAY-12)"
            )
        team: Mapping[str, Any] = teams[0]
        return team

    def _project_filter(self) -> dict[str, Any]:
        assert self.project is not None
        if _UUID.fullmatch(self.project):
            return {"id": {"eq": self.project}}
        return {"name": {"eqIgnoreCase": self.project}}

    def _project_name(self) -> str:
        answer = self.api.query(PROJECTS, {"filter": self._project_filter()})
        projects = (answer.get("projects") or {}).get("nodes") or []
        if not projects:
            raise NotFound(
                f"Linear has no project {self.project!r} this key can see: give the project's name as "
                "shown in Linear, or its id"
            )
        return str(projects[0].get("name") or self.project)

    def _filter(self, since: str | None, ids: Sequence[str] = ()) -> dict[str, Any]:
        scope: dict[str, Any] = {"team": {"key": {"eq": self.team_key}}}
        if self.project:
            scope["project"] = self._project_filter()
        if since:
            scope["updatedAt"] = {"gte": since}
        if ids:
            scope["id"] = {"in": list(ids)}
        return scope

    def _issues_page(self, scope: Mapping[str, Any], after: str | None) -> Mapping[str, Any]:
        variables = {
            "filter": scope,
            "first": self.page_size,
            "after": after,
            "historyPage": self.history_page,
        }
        connection: Mapping[str, Any] = self.api.query(ISSUES, variables).get("issues") or {}
        return connection

    def _history(self, issue: Issue) -> list[Mapping[str, Any]]:
        """The issue's whole history: the inline page, then follow-up pages while Linear has more."""
        inline = issue.get("history") or {}
        entries = list(inline.get("nodes") or [])
        page_info = inline.get("pageInfo") or {}
        while page_info.get("hasNextPage"):
            variables = {"id": issue["id"], "first": MORE_HISTORY_PAGE, "after": page_info.get("endCursor")}
            try:
                found = self.api.query(ISSUE_HISTORY, variables).get("issue") or {}
            except NotFound:
                log.info("Linear issue %s vanished while its history was read", issue.get("identifier"))
                break
            history = found.get("history") or {}
            entries.extend(history.get("nodes") or [])
            page_info = history.get("pageInfo") or {}
        return entries

    # -- the sync (see ``sweeping``) -----------------------------------------------------------------------

    def _updated_pages(self, state: SyncState) -> Iterator[tuple[Sequence[Issue], int | None]]:
        """Pages of one query; ``state.paging`` says which, so that a killed run resumes the same query."""
        if state.paging is None:
            since = utc_millis(state.updated - self.overlap) if state.updated else None
            state.paging = {"since": since, "after": None}
        while state.paging is not None:
            since = state.paging["since"]
            connection = self._issues_page(self._filter(since), state.paging["after"])
            page_info = connection.get("pageInfo") or {}
            following = page_info.get("endCursor") if page_info.get("hasNextPage") else None
            state.paging = {"since": since, "after": following} if following else None
            yield list(connection.get("nodes") or []), None

    def _mark(self, issue: Issue) -> Mark:
        return mark(issue)

    def _deliver(self, fresh: Sequence[Issue]) -> Delivery:
        live = [issue for issue in fresh if not issue.get("trashed")]
        removed = tuple(str(issue["identifier"]) for issue in fresh if issue.get("trashed"))
        items = tuple(item_from(issue) for issue in live)
        events = tuple(event for issue in live for event in events_from(issue, self._history(issue)))
        return items, events, removed

    def _board_keys(self) -> dict[str, str]:
        """Identifier → id of every issue of the team (and project) not in the trash."""
        current: dict[str, str] = {}
        after: str | None = None
        while True:
            variables = {"filter": self._filter(None), "first": KEYS_PAGE, "after": after}
            connection = self.api.query(ISSUE_KEYS, variables).get("issues") or {}
            nodes = [node for node in connection.get("nodes") or [] if not node.get("trashed")]
            current.update({str(node["identifier"]): str(node["id"]) for node in nodes})
            page_info = connection.get("pageInfo") or {}
            after = page_info.get("endCursor") if page_info.get("hasNextPage") else None
            if after is None:
                return current

    def _issues_by(self, handles: Sequence[str]) -> Iterator[Sequence[Issue]]:
        yield list(self._issues_page(self._filter(None, handles), None).get("nodes") or [])

    def _scope(self) -> str:
        return f"team {self.team_key}"
