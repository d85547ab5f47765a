"""Azure DevOps Boards: status history from the reporting work item revisions API (REST api-version 7.1).

- History: ``GET {org}/{project}/_apis/wit/reporting/workitemrevisions`` with explicit ``fields`` and
  ``includeDeleted=true``, paged by ``continuationToken``. The token is a watermark: stored in the cursor
  after every page, it makes the next sync (or a resumed, killed one) read only newer revisions, and
  ``isLastBatch`` says we are caught up. Revisions are snapshots; ``azure_devops_history`` turns them into
  transitions by remembering each item's last status in the cursor.
- Statuses: the states of each configured work item type (``workitemtypes/{type}/states``), or, with
  ``use_board_column``, the columns of the team's boards (``work/boards/{board}/columns``).
- Auth: a Personal Access Token as HTTP Basic with an empty user name. Azure DevOps answers a refused token
  with 401, or on some paths with 203 and an HTML sign-in page; both mean bad credentials here.
- Rate limits: 429 with Retry-After is retried by ``HttpClient``; a Retry-After on a successful answer
  (Azure DevOps sends one while it is delaying us) is honoured before the next request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator

from analytics.workflow import Workflow
from bot.connectors.azure_devops_history import (
    COLUMN,
    REVISION_FIELDS,
    STATE,
    Scope,
    SyncState,
    apply_revisions,
)
from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceStatus, StatusCategory
from bot.connectors.errors import BadCredentials, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import HttpClient, HttpOptions, retry_after_seconds, web_address

log = logging.getLogger("flowcoach.azure_devops")
API_VERSION = "7.1"
SERVICE = "Azure DevOps"
DEFAULT_TYPES = ("User Story", "Bug", "Product Backlog Item", "Issue")
# With the dollar sign, as the REST spec names it: Azure DevOps ignores an unknown parameter, so the plain
# "maxPageSize" once sent here asked for nothing, silently.
PAGE_SIZE_PARAMETER = "$maxPageSize"
# Removed is a "done" category so it never counts as work in progress; its states are marked discarded so
# the proposed workflow puts them in a discarded stage rather than in throughput.
STATE_CATEGORIES: dict[str, StatusCategory] = {
    "Proposed": "new",
    "InProgress": "indeterminate",
    "Resolved": "indeterminate",
    "Completed": "done",
    "Removed": "done",
}
COLUMN_CATEGORIES: dict[str, StatusCategory] = {
    "incoming": "new",
    "inProgress": "indeterminate",
    "outgoing": "done",
}


class AzureDevOpsSettings(BaseModel):
    """An Azure DevOps Boards project: which work items, which status field, and the PAT to read them."""

    organization: str = Field(description="organization name, as in https://dev.azure.com/<organization>")
    project: str = Field(description="project name")
    team: str | None = Field(
        default=None, description="team whose board columns to read (default: the project's default team)"
    )
    area_path: str | None = Field(
        default=None, description="only work items under this area path, e.g. Payments\\Web (optional)"
    )
    work_item_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_TYPES), description="work item types on the board"
    )
    use_board_column: bool = Field(
        default=False, description="track System.BoardColumn (board columns) instead of System.State"
    )
    pat: SecretStr = Field(description="Personal Access Token with the Work Items (Read) scope")
    api_url: str = Field(default="https://dev.azure.com", description="API address (Azure DevOps Services)")

    @field_validator("api_url")
    @classmethod
    def _url(cls, url: str) -> str:
        return web_address(url, "https://dev.azure.com")

    @field_validator("organization", "project")
    @classmethod
    def _named(cls, value: str) -> str:
        value = value.strip().strip("/")
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("work_item_types", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        # `--set work_item_types=User Story,Bug` and the Slack form give one comma-separated text.
        return value.split(",") if isinstance(value, str) else value

    @field_validator("work_item_types")
    @classmethod
    def _types(cls, types: list[str]) -> list[str]:
        cleaned = [t.strip() for t in types if t.strip()]
        if not cleaned:
            raise ValueError("name at least one work item type, e.g. User Story")
        return cleaned


class AzureDevOpsConnector(ClosesOnExit):
    """An Azure DevOps project (optionally one area path) as a flowcoach board (see the module docstring).

    Keyword options for tests: ``http`` how the HTTP client waits and retries (its ``sleep`` also serves the
    pauses Azure DevOps asks for); ``page_size`` asks for that many revisions per page (``$maxPageSize``).
    """

    def __init__(
        self,
        settings: AzureDevOpsSettings,
        workflow: Workflow | None = None,
        *,
        http: HttpOptions = HttpOptions(),
        page_size: int | None = None,
    ) -> None:
        self.settings = settings
        self.page_size = page_size
        self.status_field = COLUMN if settings.use_board_column else STATE
        self.scope = Scope(frozenset(settings.work_item_types), settings.area_path)
        # "<project> Team" is the name Azure DevOps gives a project's default team.
        self.team = settings.team or f"{settings.project} Team"
        self._project = quote(settings.project, safe="")
        self._sleep = http.sleep
        self._refused = (
            f"Azure DevOps organization {settings.organization} refused the personal access token: it may "
            "have expired or been revoked, or belong to another organization; create a new one under User "
            "settings → Personal access tokens with the Work Items (Read) scope"
        )
        self.http = HttpClient(
            f"{settings.api_url}/{quote(settings.organization, safe='')}",
            service=SERVICE,
            auth=("", settings.pat.get_secret_value()),
            options=http,
        )

    def close(self) -> None:
        self.http.close()

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """Who the token belongs to, that the project exists, and that its work items are readable."""
        settings = self.settings
        data = self._get("/_apis/connectionData", versioned=False)
        user = data.get("authenticatedUser") or {}
        who = user.get("providerDisplayName") or user.get("customDisplayName") or "this account"
        name = settings.project
        try:
            name = str(self._get(f"/_apis/projects/{self._project}").get("name") or name)
        except NotFound:
            raise NotFound(
                f"Azure DevOps organization {settings.organization} has no project '{settings.project}' "
                f"that {who} can see: check the project name, as in its address after the organization"
            ) from None
        except (BadCredentials, NoPermission):
            # The token works (connectionData answered) but lacks Project and Team (Read); it is not needed.
            log.info("token may not read project details of %s; checking work items only", settings.project)
        try:
            self._get(self._revisions_path(), {"fields": "System.Id", PAGE_SIZE_PARAMETER: 1})
        except (BadCredentials, NoPermission):
            raise NoPermission(
                f"{who} may not read work items of project '{name}': give the personal access token the "
                "Work Items (Read) scope, and the account the 'View work items' permission on the project"
            ) from None
        found = f"Azure DevOps project '{name}' of {settings.organization}"
        if settings.area_path:
            found += f", area {settings.area_path}"
        if settings.use_board_column:
            found += f", board columns of team '{self.team}' ({len(self.statuses())} columns)"
        return f"{found}, as {who}"

    def statuses(self) -> list[SourceStatus]:
        """Every state of the board's work item types, or every column of the team's boards."""
        return self._columns() if self.settings.use_board_column else self._states()

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """One batch per page of revisions after the cursor's token (all revisions without one)."""
        state = SyncState.load(cursor)
        seen: set[str] = set()
        done = 0
        base = f"{self.settings.api_url}/{self.settings.organization}/{self.settings.project}"
        item_url = f"{quote(base, safe=':/')}/_workitems/edit"
        while True:
            params: dict[str, Any] = {"fields": ",".join(REVISION_FIELDS), "includeDeleted": "true"}
            if state.token:
                params["continuationToken"] = state.token
            if self.page_size:
                params[PAGE_SIZE_PARAMETER] = self.page_size
            data = self._get(self._revisions_path(), params)
            values = list(data.get("values") or [])
            token = data.get("continuationToken") or state.token
            result = apply_revisions(values, state, self.scope, self.status_field, item_url)
            moved = token != state.token
            state.token = token
            if values or moved:
                yield Batch(
                    items=tuple(result.items.values()),
                    events=tuple(result.events),
                    cursor=state.dump(),
                    removed=tuple(str(n) for n in sorted(result.removed)),
                )
            done += len(values)
            if progress is not None:
                progress(done, None)
            if data.get("isLastBatch", True) or not values:
                return
            if token is None or token in seen:
                raise UnexpectedResponse(
                    "Azure DevOps sent a continuation token it had sent before, so paging would never end; "
                    "try again later, and report it if it persists"
                )
            seen.add(token)

    # -- requests ------------------------------------------------------------------------------------------

    def _revisions_path(self) -> str:
        return f"/{self._project}/_apis/wit/reporting/workitemrevisions"

    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, versioned: bool = True) -> Any:
        """GET JSON; a refused token (401, or 203 with a sign-in page) becomes a friendly BadCredentials."""
        query = {**(params or {}), **({"api-version": API_VERSION} if versioned else {})}
        try:
            response = self.http.request("GET", path, params=query, expected=(200, 203))
        except BadCredentials:
            raise BadCredentials(self._refused) from None
        if response.status_code == 203:
            raise BadCredentials(self._refused)
        self._pause_if_asked(response)
        try:
            return response.json()
        except ValueError:
            raise UnexpectedResponse(
                f"Azure DevOps answered {response.request.url.path} with something other than JSON: check "
                "api_url (https://dev.azure.com for Azure DevOps Services) and the organization name"
            ) from None

    def _pause_if_asked(self, response: httpx.Response) -> None:
        """Azure DevOps may ask for a pause on a successful answer when it starts delaying a client."""
        wait = retry_after_seconds(response.headers.get("Retry-After"), response.headers.get("Date"))
        if wait and wait > 0:
            wait = min(wait, self.http.max_backoff)
            log.info(
                "Azure DevOps asked for a %.1f s pause (%s, %s TSTUs left)",
                wait,
                response.headers.get("X-RateLimit-Resource", "rate limit"),
                response.headers.get("X-RateLimit-Remaining", "?"),
            )
            self._sleep(wait)

    def _states(self) -> list[SourceStatus]:
        found: dict[str, SourceStatus] = {}
        missing = []
        for kind in self.settings.work_item_types:
            path = f"/{self._project}/_apis/wit/workitemtypes/{quote(kind, safe='')}/states"
            try:
                states = self._get(path).get("value") or []
            except NotFound:  # the default list names types of every process; a project has only some
                missing.append(kind)
                continue
            for state in states:
                name = str(state["name"])
                # An unknown (future) category counts as started, so it is never silently backlog.
                category = STATE_CATEGORIES.get(str(state.get("category")), "indeterminate")
                removed = state.get("category") == "Removed"
                found.setdefault(name, SourceStatus(name, name, category, discarded=removed))
        if not found:
            raise NotFound(
                f"Azure DevOps project '{self.settings.project}' has none of the work item types "
                f"{', '.join(missing)}: set work_item_types to the types its backlog uses"
            )
        return list(found.values())

    def _columns(self) -> list[SourceStatus]:
        team = f"/{self._project}/{quote(self.team, safe='')}"
        try:
            boards = self._get(f"{team}/_apis/work/boards").get("value") or []
        except NotFound:
            raise NotFound(
                f"Azure DevOps project '{self.settings.project}' has no team '{self.team}': set team to the "
                "team whose board to follow"
            ) from None
        wanted = set(self.settings.work_item_types)
        found: dict[str, SourceStatus] = {}
        for board in boards:
            columns = self._get(f"{team}/_apis/work/boards/{board['id']}/columns").get("value") or []
            for column in columns:
                if not wanted & set(column.get("stateMappings") or {}):
                    continue  # a board of another backlog level (Epics, Features)
                name = str(column["name"])
                category = COLUMN_CATEGORIES.get(str(column.get("columnType")), "indeterminate")
                found.setdefault(name, SourceStatus(name, name, category))
        return list(found.values())
