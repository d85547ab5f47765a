"""Board metrics shared between requests, invalidated by the data they come from.

A board's data changes only when a sync lands or its settings change, so the event log is kept per
(board, last sync, last settings change) and the metrics per that and the minute they are computed for.
A team opening App Home or asking for status a few times a minute then costs one computation, and a load
of commands never queues behind the same database read.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import pandas as pd

from analytics.measures import BoardMetrics, board_metrics
from bot.store.boards import board_workflow
from bot.store.eventstore import load_events
from bot.store.models import Board

Value = TypeVar("Value")
EVENT_LOGS_KEPT = 8  # event logs can be large (a 200k-item board is hundreds of MB): keep few
METRICS_KEPT = 256


class LruCache(Generic[Value]):
    """A small thread-safe least-recently-used map."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The cached value, else computed once: concurrent callers of a missing key wait for the first.

        Without that, the minute a popular board's metrics expire every waiting request would compute them
        at once, and the CPU burst would delay the acknowledgements of unrelated requests.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                if key in self._entries:
                    return self._entries[key]
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop(key, None)
            with self._lock:
                self._entries[key] = value
                while len(self._entries) > self._max:
                    self._entries.popitem(last=False)
        return value


class MetricsCache:
    """Event logs and metrics of boards, keyed by what would change them."""

    def __init__(self) -> None:
        self._events: LruCache[pd.DataFrame] = LruCache(EVENT_LOGS_KEPT)
        self._metrics: LruCache[BoardMetrics] = LruCache(METRICS_KEPT)

    def metrics(self, session: object, board: Board, now: dt.datetime, window_days: int) -> BoardMetrics:
        """The board's metrics as of ``now`` (to the minute) over the last ``window_days`` days."""
        asof = pd.Timestamp(now).tz_convert("UTC").floor("min")  # in UTC: a local repeated hour would raise

        def compute() -> BoardMetrics:
            return board_metrics(
                self.events(session, board), board_workflow(board), asof, window_days=window_days
            )

        return self._metrics.get_or_compute((*self._version(board), window_days, asof), compute)

    def events(self, session: object, board: Board) -> pd.DataFrame:
        """The board's event log as of its last sync and settings change."""
        workflow = board_workflow(board)
        return self._events.get_or_compute(
            self._version(board),
            lambda: load_events(session, board.id, workflow),  # type: ignore[arg-type]
        )

    @staticmethod
    def _version(board: Board) -> tuple[object, ...]:
        return (board.id, board.last_synced_at, board.updated_at)
