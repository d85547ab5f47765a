"""A stored board's metrics now, and how fresh its data is: what status, charts and forecasts start from.

Metrics are cached per board, keyed by what would change them (``MetricsCache``): a board's data changes
only when a sync lands or its settings change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from analytics.measures import BoardMetrics, board_metrics
from bot.formatting import freshness
from bot.services.metrics_cache import MetricsCache
from bot.store.boards import board_workflow, last_sync_run
from bot.store.eventstore import load_events
from bot.store.models import Board

STALE_AFTER = dt.timedelta(hours=2)


def metrics_now(
    session: Session, board: Board, now: dt.datetime, window_days: int = 30, cache: MetricsCache | None = None
) -> BoardMetrics:
    """The board's metrics at ``now`` over the last ``window_days`` days, from the store (or the cache)."""
    if cache is not None:
        return cache.metrics(session, board, now, window_days)
    workflow = board_workflow(board)
    events = load_events(session, board.id, workflow)
    return board_metrics(events, workflow, pd.Timestamp(now), window_days=window_days)


@dataclass(frozen=True)
class SyncInfo:
    """How fresh a board's data is, judged at ``now`` (passed in: whoever shows it reads no clock)."""

    last_synced_at: dt.datetime | None
    now: dt.datetime
    last_error: str | None = None

    @property
    def stale(self) -> bool:
        """Never synced, or not for more than two hours: numbers may no longer match the board."""
        return self.last_synced_at is None or self.now - self.last_synced_at > STALE_AFTER

    @property
    def freshness(self) -> str:
        return freshness(self.last_synced_at, self.now)


def sync_info(session: Session, board: Board, now: dt.datetime) -> SyncInfo:
    """The board's last sync as of ``now``, with the error of the last run if it failed."""
    run = last_sync_run(session, board.id)
    error = run.error if run is not None and run.status == "failed" else None
    return SyncInfo(last_synced_at=board.last_synced_at, now=now, last_error=error)
