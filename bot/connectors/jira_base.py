"""The shared base of the Jira Cloud and Data Center connectors: search pages → batches, a periodic sweep.

Each search page becomes one :class:`Batch` whose cursor (a JSON :class:`SyncState`) already counts that
page, so the sync engine commits page by page and a killed sync resumes after the last committed page.
Searches are ordered by ``updated`` ascending, so "everything up to the newest ``updated`` seen" is exactly
what has been delivered; the next sync asks for ``updated >=`` that time minus an overlap, which absorbs
Jira's eventually consistent search index and the minute precision of JQL dates. Issues the overlap
brings back unchanged are skipped before any changelog is read, so a sync with nothing changed costs one
search request.

Deleted issues and issues moved to another project never show up in an ``updated`` search, so every
``sweep_every`` the sync lists the board's keys (cheap: one field, large pages), reports the keys that
vanished in ``Batch.removed``, and fetches any key it has never delivered (an offset page can skip an issue
when another one is updated mid-sync).

Subclasses say how to page a search and where histories come from; see ``jira_cloud`` and ``jira_dc``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import httpx

from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceStatus
from bot.connectors.errors import BadCredentials, ConnectorError, NoPermission, NotFound, UnexpectedResponse
from bot.connectors.http import HttpClient, HttpOptions
from bot.connectors.jira_common import (
    ISSUE_FIELDS,
    BoardColumn,
    SyncState,
    base_jql,
    chunks,
    columns_from,
    events_from,
    item_from,
    jql_since,
    mark,
    statuses_from,
    zone_of,
)
from bot.connectors.jira_projects import JiraProject

log = logging.getLogger("flowcoach.jira")
Issue = Mapping[str, Any]
PAGE_SIZE = 100
SWEEP_PAGE_SIZE = 1000  # the sweep asks for one field; Jira allows far larger pages for that
OVERLAP = dt.timedelta(minutes=15)
SWEEP_EVERY = dt.timedelta(hours=24)


class JiraConnector(ClosesOnExit):
    """Shared behaviour of :class:`JiraCloudConnector` and :class:`JiraDataCenterConnector`.

    Keyword options (tests and benchmarks set them; boards use the defaults): ``http`` how the HTTP client
    waits and retries; ``clock`` returns the aware current time (for the sweep schedule); ``page_size``
    issues per search page and batch; ``overlap`` re-read at each incremental sync; ``sweep_every`` how often
    deleted and moved issues are looked for.
    """

    flavour: ClassVar[str]
    api: ClassVar[str]

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
        self.site, self.project, self.jql, self.board_id = site, project, jql, board_id
        self.page_size, self.overlap, self.sweep_every = page_size, overlap, sweep_every
        self._refused = refused
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
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

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """Batches of issues updated since the cursor (all issues without one), then a sweep when due."""
        state = SyncState.load(cursor)
        now = self._clock()
        total: int | None = None
        if state.updated is None:
            state.swept_at = state.swept_at or now  # a backfill delivers every key: as good as a sweep
            jql = self._scope_jql(None)
            total = self._count(base_jql(self.project, self.jql))
        else:
            jql = self._scope_jql(state.updated - self.overlap, zone_of(self._myself()))
        last, done = cursor, 0
        for issues, page_total in self._search_pages(jql, ISSUE_FIELDS, self.page_size, with_history=True):
            batch = self._batch(issues, state)
            if batch is not None:
                last = batch.cursor
                yield batch
            done += len(issues)
            if progress is not None:
                progress(done, page_total if page_total is not None else total)
        if state.sweep_due(now, self.sweep_every):
            for batch in self._sweep(state, now):
                last = batch.cursor
                yield batch
        final = state.dump()
        if final != last:
            yield Batch(items=(), events=(), cursor=final)

    # -- the sync --------------------------------------------------------------------------------------

    def _myself(self) -> Mapping[str, Any]:
        me: Mapping[str, Any] = self.http.get_json(f"{self.api}/myself")
        return me

    def _scope_jql(self, since: dt.datetime | None, zone: dt.tzinfo = dt.UTC) -> str:
        return jql_since(base_jql(self.project, self.jql), since, zone)

    def _batch(self, issues: Sequence[Issue], state: SyncState) -> Batch | None:
        """The batch for one search page, or ``None`` when the overlap brought back only delivered issues."""
        marks = [mark(issue) for issue in issues]
        # A minute more than the overlap: the JQL floors its date to the minute.
        window = self.overlap + dt.timedelta(minutes=1)
        fresh = [issue for issue, seen in zip(issues, marks, strict=True) if not state.delivered(*seen)]
        if not fresh:
            state.observe(marks, window)
            return None
        histories = self._histories(fresh)
        items = tuple(item_from(issue, self.site) for issue in fresh)
        events = tuple(
            event for issue in fresh for event in events_from(issue, histories.get(str(issue["key"]), []))
        )
        state.observe(marks, window)
        return Batch(items=items, events=events, cursor=state.dump())

    def _sweep(self, state: SyncState, now: dt.datetime) -> Iterator[Batch]:
        """Report the keys that left the board, and deliver any key that was never delivered."""
        scope = base_jql(self.project, self.jql)
        listing = self._search_pages(
            f"({scope}) ORDER BY key ASC", ("updated",), SWEEP_PAGE_SIZE, with_history=False
        )
        current = {str(issue["key"]) for page, _ in listing for issue in page}
        known = state.known.keys()
        missing = sorted(current - known)
        for chunk in chunks(missing, self.page_size):
            # Keys come from Jira's own listing (letters, digits, a dash), so they need no quoting.
            query = f"key in ({', '.join(chunk)}) ORDER BY key ASC"
            for issues, _ in self._search_pages(query, ISSUE_FIELDS, self.page_size, with_history=True):
                batch = self._batch(issues, state)
                if batch is not None:
                    yield batch
        removed = tuple(sorted(known - current))
        log.info(
            "Jira sweep of %s: %d issues, %d gone, %d never seen",
            scope,
            len(current),
            len(removed),
            len(missing),
        )
        state.swept(current, now)
        yield Batch(items=(), events=(), cursor=state.dump(), removed=removed)
