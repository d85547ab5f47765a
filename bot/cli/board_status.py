"""How a stored board's syncs stand, in a terminal's words: `board show`, `boards`, and the hint given when
a never-synced board is measured."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from bot.formatting import ago, count_of, freshness

if TYPE_CHECKING:  # `metrics --board` reads the board without the ORM (bot/store/boardread.py)
    from bot.store.models import Board, SyncRun


class NamedBoard(Protocol):
    """What the warning of an unsynced board reads: the ORM's ``Board`` or ``boardread.StoredBoard``."""

    @property
    def name(self) -> str: ...
    @property
    def last_synced_at(self) -> dt.datetime | None: ...


class SyncEnd(Protocol):
    """How a sync ended: the ORM's ``SyncRun`` or ``boardread.SyncOutcome``."""

    @property
    def status(self) -> str: ...
    @property
    def started_at(self) -> dt.datetime: ...
    @property
    def finished_at(self) -> dt.datetime | None: ...
    @property
    def error(self) -> str | None: ...


def sync_state(board: Board, last: SyncRun | None, now: dt.datetime, *, detail: bool = False) -> str:
    """The last sync as one coherent phrase: a failure is never shown as "synced just now" beside it.

    ``last_synced_at`` is the last *successful* sync, so after a failure it is named as such. ``detail``
    adds what an ok sync brought.
    """
    if last is None or last.status == "ok":
        if board.last_synced_at is None:
            return never_synced(board.name)
        added = f" ({count_of(last.events_added, 'new event')})" if detail and last is not None else ""
        return f"{freshness(board.last_synced_at, now)}{added}"
    succeeded = (
        f"last successful sync {ago(board.last_synced_at, now)}"
        if board.last_synced_at is not None
        else "never synced successfully"
    )
    if last.status == "failed":
        return f"last sync failed {ago(last.finished_at or last.started_at, now)}: {last.error}; {succeeded}"
    if last.status == "interrupted":
        resume = "the next sync will pick up from the last cursor stored"
        return f"last sync, {interrupted(last, now)}; {resume}; {succeeded}"
    # Still running elsewhere, or its process was killed before it could record how it ended.
    return (
        f"a sync started {ago(last.started_at, now)} has not finished (still running, or its process "
        f"stopped: the next sync marks it interrupted); {succeeded}"
    )


def interrupted(run: SyncRun, now: dt.datetime) -> str:
    """``started 2 h ago, was interrupted: the process stopped before the sync finished (3 batches kept)``.

    Its start is named, not its end: a run found still "running" by the next sync has no end time, since
    nothing saw its process stop.
    """
    kept = f"{count_of(run.batches, 'batch', 'batches')} kept" if run.batches else "nothing stored"
    why = run.error or "the process stopped"
    return f"started {ago(run.started_at, now)}, was interrupted: {why} ({kept})"


def earlier_interruption(last: SyncRun | None, previous: SyncRun | None, now: dt.datetime) -> str | None:
    """What ``board show`` adds when the sync before the last one was interrupted: the last one resumed it."""
    if last is None or previous is None or previous.status != "interrupted" or last.status == "interrupted":
        return None
    resumed = "the last one picked up from the last cursor it stored"
    return f"the sync before, {interrupted(previous, now)}; {resumed}"


def never_synced(name: str) -> str:
    return f"never synced: run flowcoach sync {name}"


def unsynced_warning(board: NamedBoard, last: SyncEnd | None, now: dt.datetime) -> str | None:
    """Why a board measured from the store has no data, when it was never synced; ``None`` once it was."""
    if board.last_synced_at is not None:
        return None
    if last is not None and last.status == "failed":
        return (
            f"board '{board.name}' never synced successfully; the last sync failed "
            f"{ago(last.finished_at or last.started_at, now)}: {last.error}"
        )
    return f"board '{board.name}' {never_synced(board.name)}"
