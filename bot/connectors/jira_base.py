"""The shared base of the Jira Cloud and Data Center connectors: search pages → batches, a periodic sweep.

The sync is ``sweeping``'s: each search page is one batch whose cursor (a JSON :class:`SyncState`) counts
that page. Searches are ordered by ``updated`` ascending; the next sync asks for ``updated >=`` the newest
``updated`` seen minus an overlap, which absorbs Jira's eventually consistent search index and the minute
precision of JQL dates, so a sync with nothing changed costs one search request. The sweep lists the
board's keys cheaply (one field, large pages); an offset page can skip an issue updated mid-sync, and the
sweep then fetches it.

Subclasses say how to page a search and where histories come from; see ``jira_cloud`` and ``jira_dc``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from bot.connectors.base import SourceStatus
from bot.connectors.cursor import Mark
from bot.connectors.errors import BadCredentials, ConnectorError, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import HttpClient, HttpOptions
from bot.connectors.jira_common import (
    ISSUE_FIELDS,
    BoardColumn,
    SyncState,
    base_jql,
    columns_from,
    events_from,
    item_from,
    jql_since,
    mark,
    statuses_from,
    zone_of,
)
from bot.connectors.jira_projects import JiraProject
from bot.connectors.sweeping import Delivery, Issue, SweepingConnector

PAGE_SIZE = 100
SWEEP_PAGE_SIZE = 1000  # the sweep asks for one field; Jira allows far larger pages for that
OVERLAP = dt.timedelta(minutes=15)
SWEEP_EVERY = dt.timedelta(hours=24)


class JiraConnector(SweepingConnector[SyncState]):
    """Shared behaviour of :class:`JiraCloudConnector` and :class:`JiraDataCenterConnector`.

    Keyword options (tests and benchmarks set them; boards use the defaults): ``http`` how the HTTP client
    waits and retries; ``clock`` returns the aware current time (for the sweep schedule); ``page_size``
    issues per search page and batch; ``overlap`` re-read at each incremental sync; ``sweep_every`` how often
    deleted and moved issues are looked for.
    """

    flavour: ClassVar[str]
    api: ClassVar[str]
    cursor_type = SyncState
    service = "Jira"
    log = logging.getLogger("flowcoach.jira")

    def __init__(
        self,
        site: str,
        *,
        project: str | None,
        jql: str | None,
        board_id: int | None,
        auth: httpx.Auth | tuple[str, str],
        refused: str,
        http: HttpOptions = HttpOptions(),
        clock: Callable[[], dt.datetime] | None = None,
        page_size: int = PAGE_SIZE,
        overlap: dt.timedelta = OVERLAP,
        sweep_every: dt.timedelta = SWEEP_EVERY,
    ) -> None:
        super().__init__(clock=clock, page_size=page_size, overlap=overlap, sweep_every=sweep_every)
        self.site, self.project, self.jql, self.board_id = site, project, jql, board_id
        self._refused = refused
        self.http = HttpClient(site, service=self.flavour, auth=auth, options=http)

    def close(self) -> None:
        self.http.close()

    # -- what subclasses provide -------------------------------------------------------------------------

    def _search_pages(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> Iterator[tuple[list[Issue], int | None]]:
        """Each page of a search with the total if the API reports it; ``with_history`` for changelogs."""
        raise NotImplementedError

    def _histories(self, issues: Sequence[Issue]) -> dict[str, list[Mapping[str, Any]]]:
        """Every change history of these issues (status and Flagged at least), by issue key."""
        raise NotImplementedError

    def _count(self, jql: str) -> int | None:
        """How many issues a query matches, if that is cheap to learn before paging (progress bars)."""
        return None

    def _projects(self) -> list[JiraProject]:
        """Every project visible to the credentials (see ``jira_projects``)."""
        raise NotImplementedError

    # -- the Connector protocol ----------------------------------------------------------------------------

    def check(self) -> str:
        """Who we are on the site, and that the project (or JQL) and the board are readable."""
        try:
            me = self.http.get_json(f"{self.api}/myself")
        except BadCredentials:
            raise BadCredentials(self._refused) from None
        who = me.get("displayName") or me.get("emailAddress") or me.get("name") or "this account"
        found = [f"{self.flavour} at {self.site} as {who}"]
        if self.project:
            try:
                project = self.http.get_json(f"{self.api}/project/{self.project}")
            except NotFound:
                raise NotFound(
                    f"{self.flavour} has no project {self.project} that {who} can see: check the project "
                    "key (the letters before the number in an issue key)"
                ) from None
            except NoPermission:
                raise NoPermission(
                    f"{who} may not browse project {self.project} on {self.site}: ask a Jira administrator "
                    "for the Browse projects permission"
                ) from None
            found.append(f"project {self.project} ({project.get('name', self.project)})")
        else:
            try:
                next(self._search_pages(self._scope_jql(None), ("updated",), 1, with_history=False), None)
            except UnexpectedResponse:
                raise ConnectorError(
                    f"{self.flavour} did not accept the JQL {self.jql!r}: try it in Jira's issue search "
                    "and fix it there"
                ) from None
            found.append(f"JQL {self.jql}")
        if self.board_id is not None:
            try:
                columns = self.columns()
            except NotFound:
                raise NotFound(
                    f"{self.flavour} has no board {self.board_id} that {who} can see: the board id is the "
                    "number after /boards/ in the board's address"
                ) from None
            found.append(f"board {self.board_id} ({len(columns)} columns)")
        return ", ".join(found)

    def statuses(self) -> list[SourceStatus]:
        """The project's statuses (every issue type), or every status of the site for a JQL board."""
        path = f"{self.api}/project/{self.project}/statuses" if self.project else f"{self.api}/status"
        return statuses_from(self.http.get_json(path))

    def projects(self) -> list[JiraProject]:
        """The projects these credentials can browse, by key; a refusal reads like :meth:`check`'s."""
        try:
            return self._projects()
        except BadCredentials:
            raise BadCredentials(self._refused) from None

    def columns(self) -> list[BoardColumn]:
        """The board's columns with their status ids; empty when no board id is configured."""
        if self.board_id is None:
            return []
        return columns_from(self.http.get_json(f"/rest/agile/1.0/board/{self.board_id}/configuration"))

    # -- the sync (see ``sweeping``) -----------------------------------------------------------------------

    def _updated_pages(self, state: SyncState) -> Iterator[tuple[Sequence[Issue], int | None]]:
        total: int | None = None
        if state.updated is None:
            jql = self._scope_jql(None)
            total = self._count(base_jql(self.project, self.jql))
        else:
            jql = self._scope_jql(state.updated - self.overlap, zone_of(self._myself()))
        for issues, page_total in self._search_pages(jql, ISSUE_FIELDS, self.page_size, with_history=True):
            yield issues, page_total if page_total is not None else total

    def _mark(self, issue: Issue) -> Mark:
        return mark(issue)

    def _window(self) -> dt.timedelta:
        return self.overlap + dt.timedelta(minutes=1)  # a minute more: the JQL floors its date to the minute

    def _deliver(self, fresh: Sequence[Issue]) -> Delivery:
        histories = self._histories(fresh)
        items = tuple(item_from(issue, self.site) for issue in fresh)
        events = tuple(
            event for issue in fresh for event in events_from(issue, histories.get(str(issue["key"]), []))
        )
        return items, events, ()

    def _board_keys(self) -> dict[str, str]:
        listing = self._search_pages(
            f"({self._scope()}) ORDER BY key ASC", ("updated",), SWEEP_PAGE_SIZE, with_history=False
        )
        return {str(issue["key"]): str(issue["key"]) for page, _ in listing for issue in page}

    def _issues_by(self, handles: Sequence[str]) -> Iterator[Sequence[Issue]]:
        # Keys come from Jira's own listing (letters, digits, a dash), so they need no quoting.
        query = f"key in ({', '.join(handles)}) ORDER BY key ASC"
        for issues, _ in self._search_pages(query, ISSUE_FIELDS, self.page_size, with_history=True):
            yield issues

    def _scope(self) -> str:
        return base_jql(self.project, self.jql)

    def _myself(self) -> Mapping[str, Any]:
        me: Mapping[str, Any] = self.http.get_json(f"{self.api}/myself")
        return me

    def _scope_jql(self, since: dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> str:
        return jql_since(base_jql(self.project, self.jql), since, zone)
