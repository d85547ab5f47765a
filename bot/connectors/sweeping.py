"""The sync Jira and Linear share: pages of issues updated since the cursor → batches, and a periodic sweep.

Each page becomes one :class:`Batch` whose cursor (a :class:`SweptSince`) already counts that page, so the
sync engine commits page by page and a killed sync resumes after the last committed page. Pages come oldest
update first, so "everything up to the newest update seen" is exactly what has been delivered; the next sync
asks for updates since that time minus an overlap (an update committed while a page was read, or an
eventually consistent search index, can otherwise be missed). Issues the overlap brings back unchanged are
skipped before any history is read, so a sync with nothing changed costs one search.

Deleted issues and issues moved elsewhere never show up in an updated-since search, so every
``sweep_every`` the sync lists the board's keys, reports the keys that vanished in ``Batch.removed``, and
fetches any key it has never delivered (one the updated-since searches missed, behind an eventually
consistent search index, say). Subclasses page by keyset, never by offset (Jira searches again from the
newest issue so far, Linear follows its Relay cursors), so an issue updated mid-sync moves to a later page
or the next sync rather than shifting another past the cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from bot.connectors.base import Batch, ClosesOnExit, ProgressCallback, SourceEvent, SourceItem
from bot.connectors.cursor import Mark, SweptSince

Issue = Mapping[str, Any]
Delivery = tuple[tuple[SourceItem, ...], tuple[SourceEvent, ...], tuple[str, ...]]
"""What fresh issues give: their items, their events, and the keys of those that left the board."""
Cursor = TypeVar("Cursor", bound=SweptSince)


class SweepingConnector(ClosesOnExit, Generic[Cursor]):
    """The updated-since sync with a sweep (see the module docstring); subclasses talk to the source.

    ``clock`` returns the aware current time (for the sweep schedule); ``page_size`` issues per page and
    batch; ``overlap`` re-read at each incremental sync; ``sweep_every`` how often deleted and moved issues
    are looked for.
    """

    cursor_type: type[Cursor]
    service: ClassVar[str]  # names the source in the sweep's log line
    log: ClassVar[logging.Logger]

    def __init__(
        self,
        *,
        clock: Callable[[], dt.datetime] | None,
        page_size: int,
        overlap: dt.timedelta,
        sweep_every: dt.timedelta,
    ) -> None:
        self.page_size, self.overlap, self.sweep_every = page_size, overlap, sweep_every
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # -- what subclasses provide -------------------------------------------------------------------------

    def _updated_pages(self, state: Cursor) -> Iterator[tuple[Sequence[Issue], int | None]]:
        """Each page of issues updated since the cursor's overlap (every issue on a backfill), oldest update
        first, with the total number of issues if known; may record in ``state`` where paging stands."""
        raise NotImplementedError

    def _mark(self, issue: Issue) -> Mark:
        """The issue's key and update time, which tell its delivered versions."""
        raise NotImplementedError

    def _deliver(self, fresh: Sequence[Issue]) -> Delivery:
        """Items and events of issues not delivered in this version yet, reading their histories."""
        raise NotImplementedError

    def _board_keys(self) -> Mapping[str, str]:
        """Every key on the board now, each with what :meth:`_issues_by` finds its issue by."""
        raise NotImplementedError

    def _issues_by(self, handles: Sequence[str]) -> Iterator[Sequence[Issue]]:
        """Pages of the issues these handles (from :meth:`_board_keys`, at most ``page_size``) name."""
        raise NotImplementedError

    def _scope(self) -> str:
        """The board's issues, in words for the sweep's log line."""
        raise NotImplementedError

    def _window(self) -> dt.timedelta:
        """How far back from the newest update the cursor remembers delivered issues (overlaps re-read)."""
        return self.overlap

    # -- the sync --------------------------------------------------------------------------------------

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """Batches of issues updated since the cursor (every issue without one), then a sweep when due."""
        state = self.cursor_type.load(cursor)
        now = self._clock()
        if state.updated is None:
            state.swept_at = state.swept_at or now  # a backfill delivers every key: as good as a sweep
        last, done = cursor, 0
        for issues, total in self._updated_pages(state):
            batch = self._batch(issues, state)
            if batch is not None:
                last = batch.cursor
                yield batch
            done += len(issues)
            if progress is not None:
                progress(done, total)
        if state.sweep_due(now, self.sweep_every):
            for batch in self._sweep(state, now):
                last = batch.cursor
                yield batch
        final = state.dump()
        if final != last:
            yield Batch(items=(), events=(), cursor=final)

    def _batch(self, issues: Sequence[Issue], state: Cursor) -> Batch | None:
        """The batch for one page, or ``None`` when the overlap brought back only delivered issues."""
        marks = [self._mark(issue) for issue in issues]
        fresh = [issue for issue, seen in zip(issues, marks, strict=True) if not state.delivered(*seen)]
        if not fresh:
            state.observe(marks, self._window())
            return None
        items, events, removed = self._deliver(fresh)
        state.observe(marks, self._window())
        return Batch(items, events, state.dump(), removed)

    def _sweep(self, state: Cursor, now: dt.datetime) -> Iterator[Batch]:
        """Report the keys that left the board, and deliver any key that was never delivered."""
        current = self._board_keys()
        known = state.known.keys()
        missing = sorted(set(current) - known)
        for chunk in chunks([current[key] for key in missing], self.page_size):
            for issues in self._issues_by(chunk):
                batch = self._batch(issues, state)
                if batch is not None:
                    yield batch
        removed = tuple(sorted(known - set(current)))
        self.log.info(
            "%s sweep of %s: %d issues, %d gone, %d never seen",
            *(self.service, self._scope(), len(current), len(removed), len(missing)),
        )
        state.swept(current, now)
        yield Batch(items=(), events=(), cursor=state.dump(), removed=removed)


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``values`` in slices of ``size`` (``itertools.batched`` arrives only in Python 3.12)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
