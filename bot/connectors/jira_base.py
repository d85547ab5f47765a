"""The shared base of the Jira Cloud and Data Center connectors: search pages → batches, a periodic sweep.

The sync is ``sweeping``'s: each search page is one batch whose cursor (a JSON :class:`SyncState`) counts
that page. Searches are ordered by ``updated`` ascending; the next sync asks for ``updated >=`` the newest
``updated`` seen minus an overlap, which absorbs Jira's eventually consistent search index and the minute
precision of JQL dates, so a sync with nothing changed costs one search request. The sweep lists the
board's keys cheaply (one field, large pages) to find deleted and moved issues.

Within a sync, pages are read by keyset, never by offset: each page is the first page of a new search for
``updated >=`` the newest issue delivered so far (see :meth:`JiraConnector._updated_pages`). An issue edited
while a sync pages jumps to the end of an ``updated`` search; with offsets every later issue slid one place
forward and the one at the page boundary was skipped for good (the cursor had passed it, and the sweep
only fetches keys it has never seen). With keysets an edit only moves the issue to a later page.

Subclasses say how to search and where histories come from; see ``jira_cloud`` and ``jira_dc``.
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
    jql_date,
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

    def _first_page(
        self, jql: str, fields: Sequence[str], page_size: int, *, with_history: bool
    ) -> tuple[list[Issue], int | None, bool]:
        """The first page of a search, the total if the API reports it, and whether more issues follow."""
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
                next(self._search_pages(self._scope_jql(), ("updated",), 1, with_history=False), None)
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
        # Keyset paging: every page is the first page of a search for `updated >=` the newest issue so far.
        # JQL dates stop at the minute, so each search re-reads that minute; the issues it brings back again
        # are dropped here (same key, same `updated`), and any that slip through are skipped by the cursor's
        # `recent` map. An edited issue only moves to a later page, so nothing is skipped.
        #
        # When a whole page shares its first minute, the next search would be the same search: the sync
        # then excludes the keys already read in that minute (`key not in (…)`) until a page reaches past
        # it, and goes on from the minute after. Excluding keys is plain JQL that Cloud and Data Center
        # accept for any board query; a key tie-break (`key > "PAY-9"`) is only well defined within one
        # project (a JQL board may span several), and a larger page is capped by the server (Data Center's
        # jira.search.views.default.max, Cloud's own limit). The list grows only in such a minute (a bulk
        # change), and Data Center then posts its search rather than put the JQL in the URL.
        # JQL reads dates in the searching user's zone: asked of /myself when the first date is written.
        zone: dt.tzinfo | None = None
        since: dt.datetime | None = None
        total: int | None = None
        if state.updated is None:
            total = self._count(base_jql(self.project, self.jql))
        else:
            zone, since = zone_of(self._myself()), state.updated - self.overlap
        scope = base_jql(self.project, self.jql)
        seen: set[Mark] = set()  # what this sync has yielded, so a re-read minute is not counted twice
        stuck: list[str] = []  # keys read in a minute that filled whole pages, excluded until it is passed
        while True:
            jql = jql_since(scope, since, zone or dt.UTC, stuck)
            issues, page_total, more = self._first_page(jql, ISSUE_FIELDS, self.page_size, with_history=True)
            total = total if total is not None else page_total
            marks = [mark(issue) for issue in issues]
            yield [issue for issue, seen_as in zip(issues, marks, strict=True) if seen_as not in seen], total
            seen.update(marks)
            if not more or not issues:
                return
            times = [updated for _, updated in marks if updated is not None]
            newest = max([*times, since] if since is not None else times, default=None)
            if newest is None:
                raise UnexpectedResponse(f"{self.flavour} returned issues without an update time for {jql!r}")
            zone = zone or zone_of(self._myself())
            if since is None or jql_date(newest, zone) != jql_date(since, zone):
                if stuck and since is not None:  # past a crowded minute: on from the next, unexcluded
                    newest = dt.datetime.fromtimestamp((since.timestamp() // 60 + 1) * 60, dt.UTC)
                since, stuck = newest, []
                continue
            excluded = set(stuck)
            keys = [key for key, _ in marks if key not in excluded]
            if not keys:  # the server ignored the exclusion: stop rather than ask forever
                raise UnexpectedResponse(f"{self.flavour} returned the same issues again for {jql!r}")
            since, stuck = newest, stuck + keys

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

    def _scope_jql(self) -> str:
        return jql_since(base_jql(self.project, self.jql), None, dt.UTC)
