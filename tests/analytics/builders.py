"""Small builders that keep hand-computed analytics tests readable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pandas as pd

from analytics.eventlog import events_from_records
from analytics.measures import BoardMetrics, board_metrics
from analytics.timeline import Timeline, build_timeline
from analytics.workflow import Workflow, parse_workflow

WORKFLOW_YAML = """
name: Payments
timezone: {timezone}
stages:
  - {{name: Backlog, statuses: [Backlog, To Do], kind: backlog}}
  - {{name: Ready, statuses: [Selected], kind: queue, wip_limit: 6}}
  - {{name: Development, statuses: [In Progress], kind: active, wip_limit: 4}}
  - {{name: Review, statuses: [In Review], kind: queue, wip_limit: 3}}
  - {{name: Done, statuses: [Done, Closed], kind: done}}
  - {{name: Dropped, statuses: [Won't Do], kind: discarded}}
wip_limit: 12
sle: {{percentile: 85, window_days: 90}}
"""


def workflow(timezone: str = "UTC") -> Workflow:
    """The spec's example board (Backlog, Ready, Development, Review, Done, Dropped) in ``timezone``."""
    return parse_workflow(WORKFLOW_YAML.format(timezone=timezone))


def events(rows: Iterable[tuple[str, ...]], timezone: str = "UTC") -> pd.DataFrame:
    """Rows of (item_id, timestamp, to_status) for status moves, or (item_id, timestamp, event[, to_status]).

    ``event`` is one of created/blocked/unblocked/status; naive timestamps are local to ``timezone``.
    """
    records = []
    for row in rows:
        item_id, timestamp, *rest = row
        if len(rest) == 1 and rest[0] not in ("blocked", "unblocked"):
            records.append(
                {"item_id": item_id, "timestamp": timestamp, "event": "status", "to_status": rest[0]}
            )
        else:
            event, *status = rest
            records.append(
                {
                    "item_id": item_id,
                    "timestamp": timestamp,
                    "event": event,
                    "to_status": status[0] if status else "",
                }
            )
    return events_from_records(records, timezone).events


def at(text: str) -> pd.Timestamp:
    """An aware instant from ISO text (UTC when no offset is given)."""
    stamp = pd.Timestamp(text)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp


def timeline(rows: Iterable[tuple[str, ...]], asof: str, timezone: str = "UTC") -> Timeline:
    return build_timeline(events(rows, timezone), workflow(timezone), at(asof))


def metrics(
    rows: Iterable[tuple[str, ...]], asof: str, window_days: int = 30, timezone: str = "UTC"
) -> BoardMetrics:
    return board_metrics(events(rows, timezone), workflow(timezone), at(asof), window_days=window_days)


def finishing_board(per_day: Callable[[dt.date], int], first: str, last: str) -> list[tuple[str, ...]]:
    """Rows of a board that finishes ``per_day(day)`` items on each weekday from ``first`` to ``last``.

    Each item starts a day before it finishes (In Progress → Done), finishes on its day between 09:00 and
    17:00, and one item finished on the Saturday before ``first`` opens the board's history (the weeks of
    process behaviour begin at the first finish). Naive local times, for :func:`events`.
    """
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    opening = start - dt.timedelta(days=start.weekday() + 2)
    rows: list[tuple[str, ...]] = [
        ("F-0", f"{opening - dt.timedelta(days=1)}T10:00", "In Progress"),
        ("F-0", f"{opening}T10:00", "Done"),
    ]
    day = start
    while day <= end:
        count = per_day(day) if day.weekday() < 5 else 0
        for n in range(count):
            finish = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=n * 480 // max(count, 1))
            item = f"F-{day:%m%d}-{n}"
            rows.append((item, (finish - dt.timedelta(days=1)).isoformat(timespec="minutes"), "In Progress"))
            rows.append((item, finish.isoformat(timespec="minutes"), "Done"))
        day += dt.timedelta(days=1)
    return rows
