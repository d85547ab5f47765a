"""GitLab issues (REST v4) as a flowcoach board, their workflow read from scoped labels.

- Issues: ``GET /projects/:id/issues`` (or ``/groups/:id/issues``, every project of the group and its
  subgroups) ordered by ``updated_at`` ascending. Each page is one batch. The next page is asked for as
  ``updated_after`` the newest ``updated_at`` seen, not as the next offset: an issue updated mid-sync jumps
  to the end of the list and would shift every later issue one place back, so an offset page would skip
  one. Issues sharing that ``updated_at`` come back once more and are skipped (see ``SyncState``); when a
  whole page shares one ``updated_at``, that millisecond is paged by offset as a closed window, read again
  whenever its ``X-Total`` shows that an issue left it meanwhile.
- History: each new or changed issue's ``resource_label_events`` and ``resource_state_events``, every page
  (see ``gitlab_history`` for how they become statuses).
- Statuses: the labels named with ``label_prefix`` (``GET /projects/:id/labels?search=``, which includes the
  ancestor groups' labels; for a group also its subgroups' and projects' labels, which GitLab leaves out
  unless asked) plus ``Open`` and ``Closed``; labels of one name in several projects are one status.
- Auth: a personal, project or group access token with ``read_api`` in ``PRIVATE-TOKEN``, or an OAuth token
  as a bearer token. python-gitlab was considered; the shared HTTP layer already gives retries, error
  mapping and redaction, and the connector needs five GET endpoints, so no SDK is used.
- Deleted issues are not detected (GitLab lists no deletions; there is no sweep yet), and issues moved to
  another project stay as the closed original.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from analytics.workflow import Workflow
from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceEvent, SourceItem, SourceStatus
from bot.connectors.cursor import utc_millis
from bot.connectors.errors import BadCredentials, NoPermission, NotFound
from bot.connectors.gitlab_history import SyncState, events_from, item_from, mark, parse_time, statuses_from
from bot.connectors.gitlab_http import Page, PrivateTokenAuth, get_all, get_page
from bot.connectors.http import BearerAuth, HttpClient, HttpOptions, web_address

Issue = Mapping[str, Any]
GITLAB_API = "https://gitlab.com/api/v4"
PAGE_SIZE = 100  # GitLab's maximum per_page
MILLISECOND = dt.timedelta(milliseconds=1)  # the precision of the updated_at GitLab shows
OVERLAP = dt.timedelta(minutes=5)
OAUTH = "oauth"  # token_type of OAuth tokens, sent as bearer tokens


class GitLabSettings(BaseModel):
    """A GitLab board: one project or one group, the workflow label prefix, and the token."""

    project: str | None = Field(default=None, description="project path (group/project) or numeric id")
    group: str | None = Field(default=None, description="group path (instead of project), e.g. acme/web")
    label_prefix: str = Field(default="workflow::", description="prefix of the workflow labels")
    token: SecretStr = Field(description="access token with the read_api scope (or an OAuth token)")
    token_type: Literal["private", "oauth"] = Field(
        default="private", description="private: personal/project/group access token; oauth: OAuth token"
    )
    api_url: str = Field(
        default=GITLAB_API, description="API address, e.g. https://gitlab.example.com/api/v4"
    )

    @field_validator("api_url")
    @classmethod
    def _api(cls, url: str) -> str:
        return web_address(url, GITLAB_API)

    @field_validator("project", "group")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        cleaned = (path or "").strip().strip("/")
        return cleaned or None

    @field_validator("label_prefix")
    @classmethod
    def _prefix(cls, prefix: str) -> str:
        if not prefix.strip():
            raise ValueError("must not be empty, e.g. workflow::")
        return prefix

    @model_validator(mode="after")
    def _one_scope(self) -> Self:
        if bool(self.project) == bool(self.group):
            raise ValueError("give either project (group/project or an id) or group, not both and neither")
        return self


class GitLabConnector(ClosesOnExit):
    """A GitLab project or group's issues as a flowcoach board (see the module docstring).

    Keyword options (tests and benchmarks set them; boards use the defaults): ``http`` how the HTTP client
    waits and retries; ``page_size`` issues per page and batch; ``events_page_size`` label or state events
    per page; ``overlap`` re-read at each incremental sync.
    """

    def __init__(
        self,
        settings: GitLabSettings,
        workflow: Workflow | None = None,
        *,
        http: HttpOptions = HttpOptions(),
        page_size: int = PAGE_SIZE,
        events_page_size: int = PAGE_SIZE,
        overlap: dt.timedelta = OVERLAP,
    ) -> None:
        self.settings = settings
        self.page_size, self.events_page_size, self.overlap = page_size, events_page_size, overlap
        self.prefix = settings.label_prefix
        kind, name = ("projects", settings.project) if settings.project else ("groups", settings.group)
        assert name is not None  # the settings validator guarantees one of the two
        self.scope_name = f"{kind[:-1]} {name}"
        self.scope_path = f"/{kind}/{quote(name, safe='')}"
        self.site = re.sub(r"/api/v4$", "", settings.api_url)
        token = settings.token.get_secret_value()
        auth: httpx.Auth = BearerAuth(token) if settings.token_type == OAUTH else PrivateTokenAuth(token)
        self.http = HttpClient(settings.api_url, service="GitLab", auth=auth, options=http)

    def close(self) -> None:
        self.http.close()

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """Who the token belongs to, that the project or group is readable, and how many workflow labels."""
        me = self._get("/user")
        who = me.get("username") or me.get("name") or "this token"
        try:
            scope = self._get(self.scope_path)
        except NotFound:
            raise NotFound(
                f"GitLab at {self.site} has no {self.scope_name} that {who} can see: use the path from its "
                "address (group/project) or its numeric id, and check that the token's user is a member"
            ) from None
        if self.settings.project:
            found = f"GitLab project '{scope.get('name_with_namespace') or scope.get('name')}' "
            found += f"({scope.get('path_with_namespace', self.settings.project)})"
        else:
            found = f"GitLab group '{scope.get('full_name') or scope.get('name')}' "
            found += f"({scope.get('full_path', self.settings.group)})"
        labels = len(self.statuses()) - 2
        described = f"{labels} {self.prefix} label{'s' if labels != 1 else ''}"
        if not labels:
            described = f"no {self.prefix} labels yet, so issues will only move between Open and Closed"
        return f"{found} at {self.site}, as {who}; {described}"

    def statuses(self) -> list[SourceStatus]:
        """``Open``, every workflow label of the project or group (and its ancestors), ``Closed``."""
        params: dict[str, Any] = {"search": self.prefix, "per_page": PAGE_SIZE}
        if self.settings.group:
            # A group board holds issues of every project below it, labelled with those projects' and
            # subgroups' labels too; GitLab lists only the group's own labels without these two.
            params |= {"include_descendant_groups": "true", "only_group_labels": "false"}
        return statuses_from(self._all(f"{self.scope_path}/labels", params), self.prefix)

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """One batch per page of issues updated since the cursor (every issue without one)."""
        state = SyncState.load(cursor, scope=self.scope_path)
        since = state.updated - self.overlap if state.updated else None
        page, last, total = 1, cursor, None
        done: set[str] = set()
        # A whole page sharing one updated_at cannot be passed by `updated_after`, only by offset, and an
        # issue of that moment updated meanwhile jumps to the end and shifts the rest forward: the offset
        # would skip one for good. So such a moment is read as a closed window (`updated_before` too), where
        # issues can only leave; GitLab's X-Total tells when one did, and the window is read again (above
        # 10,000 issues GitLab leaves X-Total out, and such a window is read once).
        crowded, window_total = False, None
        while True:
            params: dict[str, Any] = {
                "order_by": "updated_at",
                "sort": "asc",
                "per_page": self.page_size,
                "page": page,
            }
            if since is not None:
                params["updated_after"] = utc_millis(since)
            if crowded and since is not None:  # GitLab keeps microseconds: the whole displayed millisecond
                params["updated_before"] = utc_micros(since + MILLISECOND - dt.timedelta(microseconds=1))
            found = self._page(f"{self.scope_path}/issues", params)
            total = total if total is not None else found.total
            batch = self._batch(found.items, state)
            if batch is not None:
                last = batch.cursor
                yield batch
            done.update(str(issue["id"]) for issue in found.items)
            if progress is not None:
                progress(len(done), max(total, len(done)) if total is not None else None)
            if crowded and since is not None:
                if page > 1 and found.total != window_total:  # one left: offsets moved, read it again
                    page, window_total = 1, None
                elif found.next_page is None or not found.items:  # read whole: on after that moment
                    crowded, since, page = False, since + MILLISECOND, 1
                else:
                    window_total, page = window_total if page > 1 else found.total, found.next_page
                continue
            if found.next_page is None or not found.items:
                break
            newest = parse_time(found.items[-1]["updated_at"])
            if since is not None and newest <= since:
                crowded, page = True, 1  # a whole page of one updated_at: read that moment as a window
            else:
                since, page = newest, 1
        final = state.dump()
        if final != last:
            yield Batch(items=(), events=(), cursor=final)

    # -- the sync --------------------------------------------------------------------------------------

    def _batch(self, issues: Sequence[Issue], state: SyncState) -> Batch | None:
        """The batch for one page of issues, or ``None`` when all of them were delivered already."""
        items: list[SourceItem] = []
        events: list[SourceEvent] = []
        marks = [mark(issue) for issue in issues]
        for issue, seen in zip(issues, marks, strict=True):
            if state.delivered(*seen):
                continue
            base = f"/projects/{issue['project_id']}/issues/{issue['iid']}"
            history = {"per_page": self.events_page_size}
            try:
                labels = list(self._all(f"{base}/resource_label_events", history))
                states = list(self._all(f"{base}/resource_state_events", history))
            except NotFound:
                continue  # deleted since the list was read: nothing left to report
            issue_events, status = events_from(issue, labels, states, self.prefix)
            items.append(item_from(issue, status))
            events.extend(issue_events)
        state.observe(marks, self.overlap)
        if not items:
            return None
        return Batch(items=tuple(items), events=tuple(events), cursor=state.dump())

    # -- requests, with GitLab's wording for refusals ----------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        with self._refusals():
            return self.http.get_json(path, params)

    def _page(self, path: str, params: Mapping[str, Any]) -> Page:
        with self._refusals():
            return get_page(self.http, path, params)

    def _all(self, path: str, params: Mapping[str, Any]) -> list[Any]:
        with self._refusals():
            return list(get_all(self.http, path, params))

    def _refusals(self) -> _Refusals:
        return _Refusals(self.site, self.settings.token_type, self.scope_name)


def utc_micros(moment: dt.datetime) -> str:
    """UTC with microseconds and ``Z``: an ``updated_before`` that ends a millisecond GitLab showed."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Refusals:
    """Re-word 401 and 403 for GitLab tokens (the shared wording speaks of e-mails and browse permission)."""

    def __init__(self, site: str, token_type: str, scope: str) -> None:
        self.site, self.token_type, self.scope = site, token_type, scope

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: object) -> None:
        if kind is not None and issubclass(kind, BadCredentials):
            token = "OAuth token" if self.token_type == OAUTH else "access token"
            raise BadCredentials(
                f"GitLab at {self.site} refused the {token} (401): it may be mistyped, expired or revoked; "
                "create a personal, project or group access token with the read_api scope"
            ) from None
        if kind is not None and issubclass(kind, NoPermission):
            raise NoPermission(
                f"GitLab at {self.site} accepted the token but refused to let it read {self.scope} (403): "
                "give the token the read_api scope, and its user at least the Reporter role"
            ) from None
