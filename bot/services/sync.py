"""Incremental sync: pull batches from a board's connector into the store, one transaction per batch.

The cursor advances in the same transaction as the batch it follows, so a sync killed at any point resumes
from the last committed batch; the overlap that re-delivers is absorbed by the events' unique key. A sync
killed outright (SIGKILL, a lost machine) cannot record how it ended: its run stays "running" until the
next sync of the board marks it "interrupted".
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.connectors.base import Batch, Connector, ProgressCallback, batch_problems
from bot.connectors.errors import ConnectorError, UnstorableData
from bot.store.eventstore import refresh_event_log_copy, store_batch
from bot.store.models import Board, SyncRun, utcnow

log = logging.getLogger("flowcoach.sync")

KILLED = "the process stopped before the sync finished"


@dataclass(frozen=True)
class SyncResult:
    """What one sync did."""

    board: str
    batches: int
    items_seen: int
    events_added: int
    seconds: float
    warnings: tuple[str, ...] = ()  # what the connector could not see (see ``Batch.warnings``)


def sync_board(
    sessions: sessionmaker[Session],
    board_id: int,
    connector: Connector,
    *,
    progress: ProgressCallback | None = None,
) -> SyncResult:
    """Run one incremental sync of a board and record it as a sync run (ok or failed, with the reason)."""
    started = time.perf_counter()
    with sessions.begin() as session:
        board = session.get_one(Board, board_id)
        name, cursor = board.name, board.sync_cursor
        # A run still "running" when the next sync starts lost its process: nothing would ever finish it.
        # (Were a sync of this board really running elsewhere, its own end overwrites this.)
        session.execute(
            update(SyncRun)
            .where(SyncRun.board_id == board_id, SyncRun.status == "running")
            .values(status="interrupted", error=KILLED)
        )
        run = SyncRun(board_id=board_id, cursor_before=cursor)
        session.add(run)
        session.flush()
        run_id = run.id
    batches = items_seen = events_added = 0
    warnings: list[str] = []
    try:
        for batch in connector.fetch(cursor, progress):
            for warning in batch.warnings:
                log.warning("sync of board %s: %s", name, warning)
            warnings += batch.warnings
            _check_storable(batch)
            with sessions.begin() as session:
                added = store_batch(session, board_id, batch)
                board = session.get_one(Board, board_id)
                if batch.cursor is not None:
                    board.sync_cursor = batch.cursor
                run = session.get_one(SyncRun, run_id)
                batches, items_seen, events_added = (
                    batches + 1,
                    items_seen + len(batch.items),
                    events_added + added,
                )
                run.batches, run.items_seen, run.events_added = batches, items_seen, events_added
                run.cursor_after = board.sync_cursor
            log.debug(
                "sync of board %s: batch %d stored, %d items, %d new events",
                *(name, batches, len(batch.items), added),
            )
    except ConnectorError as error:
        _finish(sessions, run_id, board_id, error=str(error))
        # Only traced: whoever asked reports it (the worker's runner logs a warning with the job's context,
        # `flowcoach sync` prints it, Slack posts it); a warning here made each failure appear twice.
        log.info("sync of board %s failed: %s", name, error)
        raise
    except Exception as error:  # a bug: the committed batches stay, the run says so (no SQL or values)
        _finish(sessions, run_id, board_id, error=f"internal error: {type(error).__name__}")
        raise
    except BaseException as error:  # Ctrl-C, SystemExit: the committed batches stay, the next sync goes on
        stopped = f"stopped by {type(error).__name__}"
        _finish(sessions, run_id, board_id, error=stopped, status="interrupted")
        raise
    _refresh_copy(sessions, board_id, name)
    _finish(sessions, run_id, board_id, error=None)
    seconds = time.perf_counter() - started
    log.info("synced board %s: %d batches, %d items, %d new events", name, batches, items_seen, events_added)
    return SyncResult(name, batches, items_seen, events_added, seconds, tuple(warnings))


def _refresh_copy(sessions: sessionmaker[Session], board_id: int, name: str) -> None:
    """The event-log copy brought up to the batches just stored. It only makes reads faster (a read adds
    what came after it), so failing to write it does not fail the sync that stored the events."""
    try:
        with sessions.begin() as session:
            refresh_event_log_copy(session, board_id)
    except Exception:
        log.exception("sync of board %s: the event-log copy was not written; reads stay right, slower", name)


def _check_storable(batch: Batch) -> None:
    """Refuse a batch the store cannot keep before its transaction, in words rather than a SQL error."""
    problems = batch_problems(batch)
    if problems:
        refused = "; ".join(problems)
        raise UnstorableData(f"values the store cannot keep, so their batch was not stored: {refused}")


def _finish(
    sessions: sessionmaker[Session], run_id: int, board_id: int, *, error: str | None, status: str = "failed"
) -> None:
    with sessions.begin() as session:
        run = session.get_one(SyncRun, run_id)
        run.finished_at = utcnow()
        run.status = status if error else "ok"
        run.error = error
        if error is None:
            session.get_one(Board, board_id).last_synced_at = run.finished_at
