"""A first workflow for a new board, from what the source knows about its statuses.

Only a starting point, which the team then edits: stages list status **ids**, the identifiers connectors
deliver, so renaming a status in the tracker does not break the board. Three kinds of knowledge are used,
the best available first:

- **the order statuses occur in items' histories** (a file knows its whole history): stages follow the
  typical position of each status among an item's started statuses, and statuses met at the same step of
  different paths (``In Development`` for one team, ``In Progress`` for another) share a stage;
- **the board's columns** (Jira): one stage per column, in the board's order;
- **status categories and names**: a category says not started / started / finished, and names say more —
  ``Won't do`` is discarded although its category is done, ``Ready for QA`` and ``Dev Done`` are queues.

Without history or columns the order of started statuses is unknown, so they share one stage for the team
to split.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.connectors.base import SourceStatus, StatusCategory
from bot.connectors.jira_common import BoardColumn

StatusPaths = Mapping[tuple[str, ...], int]  # each distinct path of status ids items took → how many items

BACKLOG_STAGE = "Backlog"
READY_STAGE = "Ready"
IN_PROGRESS_STAGE = "In Progress"
DONE_STAGE = "Done"
DISCARDED_STAGE = "Dropped"
KIND_ORDER = ("backlog", "queue", "active", "done", "discarded")
# A status items end in this often, among those that reach it, is where work finishes (when no name says so).
TERMINAL_SHARE = 0.8

_DISCARDED_NAMES = frozenset(
    {
        "won't do", "wont do", "won't fix", "wont fix", "wontfix", "cancelled", "canceled", "duplicate",
        "rejected", "declined", "abandoned", "obsolete", "removed", "invalid", "not doing", "dropped",
    }
)  # fmt: skip
_DONE_NAMES = frozenset(
    {
        "done", "closed", "complete", "completed", "released", "resolved", "shipped", "delivered",
        "finished", "deployed", "live",
    }
)  # fmt: skip
_BACKLOG_NAMES = frozenset(
    {"backlog", "to do", "todo", "open", "new", "triage", "icebox", "ideas", "inbox", "proposed"}
)
# Waiting in the middle of the flow: "Ready for QA", "Waiting for customer", "To Review", "Dev Done".
_QUEUE = re.compile(
    r"^(ready|selected|waiting|awaiting|pending|on hold|blocked|queued)\b"
    r"|^to (?!do$)\w"
    r"|\b(done|complete|completed|ready)$"
)
_CATEGORY_KIND: dict[StatusCategory, str] = {"new": "backlog", "indeterminate": "active", "done": "done"}


def _plain(name: str) -> str:
    """A status name compared as people read it: case, curly apostrophes and spacing aside."""
    return " ".join(name.casefold().replace("’", "'").replace("_", " ").split()).strip(" .!")


def status_kind(status: SourceStatus) -> str:
    """The stage kind a status most likely belongs to, from the tracker's flags and category and its name.

    Dropped work first (a tracker files ``Won't Do`` under done), then finished work, then waiting (a name
    that says so wins over a "to do" category: ``Selected for Development`` is a commitment queue), then
    not started; anything else is active work.
    """
    name = _plain(status.name)
    if status.discarded or name in _DISCARDED_NAMES:
        return "discarded"
    if name in _DONE_NAMES or status.category == "done":
        return "done"
    if _QUEUE.search(name):
        return "queue"
    if name in _BACKLOG_NAMES:
        return "backlog"
    return _CATEGORY_KIND[status.category]


def proposal_basis(columns: Sequence[BoardColumn], paths: StatusPaths | None) -> str:
    """What :func:`default_stages` goes by: ``history``, ``columns`` or ``categories`` (and names)."""
    return "history" if paths else "columns" if columns else "categories"


def default_stages(
    statuses: Sequence[SourceStatus],
    columns: Sequence[BoardColumn] = (),
    paths: StatusPaths | None = None,
) -> list[dict[str, object]]:
    """Stages as workflow mappings (``name``, ``statuses``, ``kind``), left to right.

    With ``paths`` (the statuses items went through, in order): stages from the history, see the module.
    Else with a board's ``columns``: one stage per column showing a known status, named after it, of its
    statuses' common kind (``active`` when they differ); a backlog-like column right of started work is a
    ``queue``, since backlog stages come before started ones. Else: ``Backlog``, ``Ready`` (waiting
    statuses not yet started for the tracker), ``In Progress``, ``Done``. Dropped work always gets a
    discarded stage of its own, last, so it never counts as throughput.
    """
    kinds = {status.id: status_kind(status) for status in statuses}
    if paths:
        stages = _stages_from_history(statuses, kinds, paths)
    elif columns:
        stages = _stages_from_columns(statuses, kinds, columns)
    else:
        stages = _stages_from_categories(statuses, kinds)
    return _unique_names(stages)


def _stage(name: str, statuses: Iterable[str], kind: str) -> dict[str, object]:
    return {"name": name, "statuses": list(statuses), "kind": kind}


def _dropped(statuses: Sequence[SourceStatus], kinds: Mapping[str, str]) -> list[dict[str, object]]:
    dropped = [s.id for s in statuses if kinds[s.id] == "discarded"]
    return [_stage(DISCARDED_STAGE, dropped, "discarded")] if dropped else []


def _stages_from_categories(
    statuses: Sequence[SourceStatus], kinds: Mapping[str, str]
) -> list[dict[str, object]]:
    def ids(*wanted: str, new: bool | None = None) -> list[str]:
        return [
            s.id for s in statuses if kinds[s.id] in wanted and (new is None or (s.category == "new") == new)
        ]

    groups = [
        (BACKLOG_STAGE, ids("backlog"), "backlog"),
        (READY_STAGE, ids("queue", new=True), "queue"),
        (IN_PROGRESS_STAGE, ids("queue", "active", new=False), "active"),
        (DONE_STAGE, ids("done"), "done"),
    ]
    return [_stage(name, found, kind) for name, found, kind in groups if found] + _dropped(statuses, kinds)


def _stages_from_columns(
    statuses: Sequence[SourceStatus], kinds: Mapping[str, str], columns: Sequence[BoardColumn]
) -> list[dict[str, object]]:
    known = {status.id for status in statuses}
    stages: list[dict[str, object]] = []
    started = False
    for column in columns:
        ids = [i for i in column.status_ids if i in known and kinds[i] != "discarded"]
        if not ids:
            continue
        found = {kinds[i] for i in ids}
        kind = found.pop() if len(found) == 1 else "active"
        if kind == "backlog" and started:
            kind = "queue"
        started = started or kind != "backlog"
        stages.append(_stage(column.name, ids, kind))
    return stages + _dropped(statuses, kinds)


def _stages_from_history(
    statuses: Sequence[SourceStatus], kinds: dict[str, str], paths: StatusPaths
) -> list[dict[str, object]]:
    """Backlog, then started statuses grouped by (typical step, kind), then done, then dropped."""
    reached: Counter[str] = Counter()  # items that were ever in the status
    ended: Counter[str] = Counter()  # items whose last status it is
    steps: defaultdict[str, Counter[int]] = defaultdict(Counter)
    for path, count in paths.items():
        started = list(dict.fromkeys(s for s in path if kinds.get(s) in ("queue", "active")))
        for step, status in enumerate(started):
            steps[status][step] += count
        for status in set(path):
            reached[status] += count
        if path:
            ended[path[-1]] += count
    order = {status.id: index for index, status in enumerate(statuses)}
    step_of = {status: _median_low(counts) for status, counts in steps.items()}
    if not any(kind == "done" for kind in kinds.values()):
        _finish_where_items_end(kinds, step_of, reached, ended)

    def busiest_first(ids: Iterable[str]) -> list[str]:
        return sorted(ids, key=lambda i: (-reached[i], order[i]))

    def flow_order(i: str) -> tuple[int, int, int, int]:
        return (step_of.get(i, len(statuses)), KIND_ORDER.index(kinds[i]), -reached[i], order[i])

    stages: list[dict[str, object]] = []
    if backlog := [s.id for s in statuses if kinds[s.id] == "backlog"]:
        stages.append(_stage(BACKLOG_STAGE, busiest_first(backlog), "backlog"))
    groups: dict[tuple[int, str], list[str]] = {}
    for status_id in sorted((s.id for s in statuses if kinds[s.id] in ("queue", "active")), key=flow_order):
        groups.setdefault((step_of.get(status_id, len(statuses)), kinds[status_id]), []).append(status_id)
    for (_, kind), ids in groups.items():
        names = {s.id: s.name for s in statuses}
        stages.append(_stage(names[ids[0]], ids, kind))  # named after the status most items reach
    if done := [s.id for s in statuses if kinds[s.id] == "done"]:
        stages.append(_stage(DONE_STAGE, busiest_first(done), "done"))
    return stages + _dropped(statuses, kinds)


def _median_low(counts: Counter[int]) -> int:
    """The lower weighted median of whole numbers: a step that really occurs, never a half."""
    total, seen = sum(counts.values()), 0
    for value in sorted(counts):
        seen += counts[value]
        if 2 * seen >= total:
            return value
    return 0


def _finish_where_items_end(
    kinds: dict[str, str], step_of: Mapping[str, int], reached: Counter[str], ended: Counter[str]
) -> None:
    """No name or category says "done": the last started statuses that items rarely leave are (in place)."""
    terminal = [
        status
        for status in step_of
        if kinds[status] == "active" and ended[status] >= TERMINAL_SHARE * reached[status] > 0
    ]
    if terminal:
        last = max(step_of[status] for status in terminal)
        for status in terminal:
            if step_of[status] == last:
                kinds[status] = "done"


def _unique_names(stages: list[dict[str, object]]) -> list[dict[str, object]]:
    """Stage names told apart (a status named like a generic stage), since a workflow needs each once."""
    seen: set[str] = set()
    for stage in stages:
        name, number = str(stage["name"]), 2
        while name.casefold() in seen:
            name, number = f"{stage['name']} {number}", number + 1
        seen.add(name.casefold())
        stage["name"] = name
    return stages


def status_paths(rows: Iterable[tuple[Any, Any]]) -> dict[tuple[str, ...], int]:
    """Distinct status paths and how many items took each, from (item id, status id) rows in time order.

    A status repeated back to back (a re-sent event) counts once; a return to an earlier status is kept.
    """
    paths: dict[Any, list[str]] = {}
    for item_id, status in rows:
        path = paths.setdefault(item_id, [])
        if not path or path[-1] != str(status):
            path.append(str(status))
    return dict(Counter(tuple(path) for path in paths.values()))


def stage_statuses(stage: Mapping[str, object]) -> list[str]:
    """The status ids a proposed stage lists."""
    listed = stage.get("statuses")
    return [str(status) for status in listed] if isinstance(listed, list | tuple) else []


def unmapped_statuses(
    statuses: Iterable[SourceStatus], stages: Iterable[dict[str, object]]
) -> list[SourceStatus]:
    """Statuses no stage lists (by id or by name): items moving into them keep their previous stage."""
    listed = {status for stage in stages for status in stage_statuses(stage)}
    return [status for status in statuses if status.id not in listed and status.name not in listed]
