"""Linear payloads as flowcoach facts: states → statuses, issues and their history → events; the cursor.

Events follow ``spec/data.md``: per issue one ``created`` event at ``createdAt`` in the state before its first
state change (the current state when it never changed), then one ``status`` event per history entry that
changed the state. Linear's history mixes every kind of change (title, assignee, labels…); only entries with
a ``toState`` are state changes. Statuses are Linear's workflow-state ids, with the name alongside.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.cursor import Mark, SweptSince

Issue = Mapping[str, Any]

# Linear's state types, in the order a card crosses them. Canceled and duplicate close an issue without
# delivering it: done states marked discarded, so the proposed workflow keeps them out of throughput.
_CATEGORY_OF: dict[str, StatusCategory] = {
    "triage": "new",
    "backlog": "new",
    "unstarted": "new",
    "started": "indeterminate",
    "completed": "done",
    "canceled": "done",
    "duplicate": "done",
}
_DISCARDED = frozenset({"canceled", "duplicate"})
_TYPE_ORDER = {name: rank for rank, name in enumerate(_CATEGORY_OF)}


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from Linear's ``2026-01-05T09:00:00.000Z``."""
    return dt.datetime.fromisoformat(text)


def statuses_from(states: Iterable[Mapping[str, Any]]) -> list[SourceStatus]:
    """The team's workflow states, left to right (by type, then Linear's own ``position``)."""
    ordered = sorted(
        states, key=lambda s: (_TYPE_ORDER.get(str(s.get("type")), 3), float(s.get("position") or 0))
    )
    # A state type Linear adds later counts as started work, so it is never silently backlog.
    return [
        SourceStatus(
            str(s["id"]),
            str(s["name"]),
            _CATEGORY_OF.get(str(s.get("type")), "indeterminate"),
            discarded=s.get("type") in _DISCARDED,
        )
        for s in ordered
    ]


def item_from(issue: Issue) -> SourceItem:
    """A work item from an issue node; Linear has no issue types, so its first label stands in for one."""
    labels = ((issue.get("labels") or {}).get("nodes")) or []
    return SourceItem(
        item_id=str(issue["identifier"]),
        title=issue.get("title"),
        type=str(labels[0]["name"]) if labels else None,
        url=issue.get("url"),
        created_at=parse_time(issue["createdAt"]) if issue.get("createdAt") else None,
        status=(issue.get("state") or {}).get("name"),
        assignee=(issue.get("assignee") or {}).get("name"),
    )


def events_from(issue: Issue, history: Iterable[Mapping[str, Any]]) -> list[SourceEvent]:
    """The issue's events from its whole history (any order; entries other than state changes are ignored)."""
    key = str(issue["identifier"])
    changes = sorted(
        (entry for entry in history if entry.get("toState")),
        key=lambda entry: (parse_time(entry["createdAt"]), str(entry.get("id") or "")),
    )
    state = issue.get("state") or {}
    start: Mapping[str, Any] = state
    if changes:
        first = changes[0]
        if first.get("fromState"):
            start = first["fromState"]
        else:
            # An entry without a fromState is the issue getting its first state: the created event says that.
            start = first["toState"]
            changes = changes[1:]
    created = parse_time(issue["createdAt"])
    events = [SourceEvent.of(key, created, "created", None, start.get("id"), start.get("name"))]
    for entry in changes:
        before, after = (entry.get("fromState") or {}).get("id"), entry["toState"]
        at = parse_time(entry["createdAt"])
        events.append(SourceEvent.of(key, at, "status", before, after.get("id"), after.get("name")))
    return events


class SyncState(SweptSince):
    """Linear's cursor (see :class:`SweptSince`), and the page a run is on.

    ``updated`` is the newest ``updatedAt`` delivered. ``paging`` is set while a run is paging: the ``since``
    that run filters by (``None`` for a backfill) and the ``endCursor`` of its last delivered page, so a
    killed run resumes with the very same query after that page.
    """

    SOURCE = "Linear"
    LOG = "flowcoach.linear"
    FIRST_KEYS = ("updated", "paging")

    paging: dict[str, str | None] | None = None


def mark(issue: Issue) -> Mark:
    """An issue's identifier and ``updatedAt``, what the cursor tells delivered versions of an issue by."""
    return str(issue["identifier"]), parse_time(issue["updatedAt"])
