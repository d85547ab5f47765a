"""A first workflow for a new board, from the tracker's status categories (and board columns if known).

Only a starting point: the user then splits stages, marks queues and sets limits. Stages list status
**ids**, the identifiers connectors deliver, so renaming a status in the tracker does not break the board.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.connectors.base import SourceStatus, StatusCategory
from bot.connectors.jira_common import BoardColumn

_KIND_OF: dict[StatusCategory, str] = {"new": "backlog", "indeterminate": "active", "done": "done"}
_STAGE_OF: dict[StatusCategory, str] = {"new": "Backlog", "indeterminate": "In Progress", "done": "Done"}
DISCARDED_STAGE = "Dropped"


def default_stages(
    statuses: Sequence[SourceStatus], columns: Sequence[BoardColumn] = ()
) -> list[dict[str, object]]:
    """Stages as workflow mappings (``name``, ``statuses``, ``kind``), left to right.

    Without columns: one stage per category in flow order — new → ``backlog``, indeterminate → ``active``,
    done → ``done`` — skipping empty ones. With a board's columns: one stage per column that shows a known
    status, named after it; its kind is its statuses' common category, ``active`` when they differ (a column
    mixing "to do" and "in progress" statuses has started work in it). A backlog-like column to the right
    of started work becomes a ``queue``, because a workflow allows backlog stages only before started ones.
    """
    by_id = {status.id: status for status in statuses}
    if not columns:
        kept = [s for s in statuses if not s.discarded]
        stages: list[dict[str, object]] = [
            {
                "name": _STAGE_OF[category],
                "statuses": [s.id for s in kept if s.category == category],
                "kind": _KIND_OF[category],
            }
            for category in _KIND_OF
            if any(s.category == category for s in kept)
        ]
        if dropped := [s.id for s in statuses if s.discarded]:
            stages.append({"name": DISCARDED_STAGE, "statuses": dropped, "kind": "discarded"})
        return stages
    stages = []
    started = False
    for column in columns:
        ids = [status_id for status_id in column.status_ids if status_id in by_id]
        if not ids:
            continue
        categories = {by_id[status_id].category for status_id in ids}
        kind = _KIND_OF[categories.pop()] if len(categories) == 1 else "active"
        if kind == "backlog" and started:
            kind = "queue"
        started = started or kind != "backlog"
        stages.append({"name": column.name, "statuses": ids, "kind": kind})
    return stages


def unmapped_statuses(
    statuses: Iterable[SourceStatus], stages: Iterable[dict[str, object]]
) -> list[SourceStatus]:
    """Statuses no stage lists (by id or by name): items moving into them keep their previous stage."""
    listed: set[str] = set()
    for stage in stages:
        names = stage.get("statuses")
        if isinstance(names, list | tuple):
            listed.update(str(name) for name in names)
    return [status for status in statuses if status.id not in listed and status.name not in listed]
