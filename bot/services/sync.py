"""Incremental sync: pull batches from a board's connector into the store, one transaction per batch.

The cursor advances in the same transaction as the batch it follows, so a sync killed at any point resumes
from the last committed batch; the overlap that re-delivers is absorbed by the events' unique key.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bot.connectors.base import Connector, ProgressCallback
from bot.connectors.errors import ConnectorError
from bot.store.eventstore import store_batch
from bot.store.models import Board, SyncRun, utcnow

log = logging.getLogger("flowcoach.sync")


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
    except BaseException as error:  # interrupted or a bug: the committed batches stay, the run says so
        _finish(sessions, run_id, board_id, error=f"interrupted: {type(error).__name__}")
        raise
    _finish(sessions, run_id, board_id, error=None)
    seconds = time.perf_counter() - started
    log.info("synced board %s: %d batches, %d items, %d new events", name, batches, items_seen, events_added)
    return SyncResult(name, batches, items_seen, events_added, seconds, tuple(warnings))


def _finish(sessions: sessionmaker[Session], run_id: int, board_id: int, *, error: str | None) -> None:
    with sessions.begin() as session:
        run = session.get_one(SyncRun, run_id)
        run.finished_at = utcnow()
        run.status = "failed" if error else "ok"
        run.error = error
        if error is None:
            session.get_one(Board, board_id).last_synced_at = run.finished_at
