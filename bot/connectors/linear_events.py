"""Linear payloads as flowcoach facts: states → statuses, issues and their history → events; the cursor.

Events follow ``spec/data.md``: per issue one ``created`` event at ``createdAt`` in the state before its first
state change (the current state when it never changed), then one ``status`` event per history entry that
changed the state. Linear's history mixes every kind of change (title, assignee, labels…); only entries with
a ``toState`` are state changes. Statuses are Linear's workflow-state ids, with the name alongside.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.jira_common import KeySet

log = logging.getLogger("flowcoach.linear")
Issue = Mapping[str, Any]
CURSOR_VERSION = 1

# Linear's state types, in the order a card crosses them; canceled is a done state marked discarded, so the
# proposed workflow keeps it out of throughput.
_CATEGORY_OF: dict[str, StatusCategory] = {
    "triage": "new",
    "backlog": "new",
    "unstarted": "new",
    "started": "indeterminate",
    "completed": "done",
    "canceled": "done",
}
_TYPE_ORDER = {name: rank for rank, name in enumerate(_CATEGORY_OF)}


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from Linear's ``2026-01-05T09:00:00.000Z``."""
    return dt.datetime.fromisoformat(text)


def utc_text(stamp: dt.datetime) -> str:
    """The form Linear's date filters take and the cursor stores: UTC with milliseconds."""
    return stamp.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
            discarded=s.get("type") == "canceled",
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


@dataclass
class SyncState:
    """The cursor: how far the team is synced, the page a run is on, what was delivered, which keys exist.

    ``updated`` is the newest ``updatedAt`` delivered (Linear's clock, so no skew); the next run asks for
    issues updated since then minus an overlap. ``paging`` is set while a run is paging: the ``since`` that
    run filters by (``None`` for a backfill) and the ``endCursor`` of its last delivered page, so a killed run
    resumes with the very same query after that page. ``recent`` maps identifiers updated within the overlap
    to their ``updatedAt``, so the overlap does not deliver unchanged issues again; ``known`` is every
    identifier delivered, for the sweep to tell which vanished.
    """

    updated: dt.datetime | None = None
    paging: dict[str, str | None] | None = None
    recent: dict[str, str] = field(default_factory=dict)
    known: KeySet = field(default_factory=KeySet)
    swept_at: dt.datetime | None = None

    @classmethod
    def load(cls, cursor: str | None) -> SyncState:
        """The state a cursor describes; no cursor, or an unreadable one, starts a full backfill."""
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            if data.get("version") != CURSOR_VERSION:
                raise ValueError(f"cursor version {data.get('version')!r}")
            paging = data.get("paging")
            return cls(
                updated=_time_or_none(data.get("updated")),
                paging=None
                if paging is None
                else {"since": paging.get("since"), "after": paging.get("after")},
                recent=dict(data.get("recent") or {}),
                known=KeySet.decode(data.get("known") or {}),
                swept_at=_time_or_none(data.get("swept_at")),
            )
        except (ValueError, TypeError, AttributeError) as error:
            log.warning("unreadable Linear sync cursor (%s); syncing everything again", error)
            return cls()

    def dump(self) -> str:
        return json.dumps(
            {
                "version": CURSOR_VERSION,
                "updated": utc_text(self.updated) if self.updated else None,
                "paging": self.paging,
                "recent": dict(sorted(self.recent.items())),
                "known": self.known.encode(),
                "swept_at": self.swept_at.isoformat() if self.swept_at else None,
            },
            separators=(",", ":"),
        )

    def delivered(self, issue: Issue) -> bool:
        """Whether this exact version of the issue (same identifier, same ``updatedAt``) was delivered."""
        key = str(issue["identifier"])
        return self.recent.get(key) == utc_text(parse_time(issue["updatedAt"])) and key in self.known

    def observe(self, issues: Sequence[Issue], overlap: dt.timedelta) -> None:
        """Record issues as delivered: advance ``updated``, remember the recent ones and every identifier."""
        for issue in issues:
            key, stamp = str(issue["identifier"]), parse_time(issue["updatedAt"])
            self.known.add(key)
            self.updated = max(self.updated, stamp) if self.updated else stamp
            self.recent[key] = utc_text(stamp)
        if self.updated is not None:
            horizon = utc_text(self.updated - overlap)
            self.recent = {k: v for k, v in self.recent.items() if v >= horizon and k in self.known}


def _time_or_none(text: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(text)) if text else None
