"""GitLab issues → items, statuses and event-log records, and the sync cursor.

An issue's status at any moment is read from its scoped workflow labels (``workflow::Doing``) and its state:

- Open with no workflow label: the synthetic status ``Open`` (category new).
- Open with workflow labels: the one added most recently among those it still has. With scoped labels
  (Premium) an issue holds one label per scope anyway; without them (Free), labels pile up, and removing the
  newest falls back to the one before.
- Closed: ``Closed`` (done), unless the label it holds is itself a done label (``workflow::Done``): closing
  a Done issue does not move it again. Closing an issue still labelled ``Doing`` (an MR's "Closes #12")
  finishes it; reopening returns it to its label, or to ``Open``.

History comes from resource label events (add/remove, GitLab 11.2+) and resource state events (closed,
reopened; never the initial "opened"). An issue closed before GitLab recorded state events has none: it is
taken as closed at its ``closed_at``. Changes GitLab records together (a scoped label
swap removes the old label and adds the new one at the same instant) are applied together, so no
intermediate status appears. Label and state changes within ``CREATION_GRACE`` of the creation (labels and
state given in the "new issue" form are recorded a moment after the issue) are its initial status.
Events of deleted labels (``label: null``) are skipped: their name is gone.

Statuses are label ids (stable across renames), with the name after the prefix as the display name:
``workflow::In review`` → ``In review``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.cursor import Mark, UpdatedSince

OPEN = SourceStatus("opened", "Open", "new")
CLOSED = SourceStatus("closed", "Closed", "done")
CREATION_GRACE = dt.timedelta(seconds=5)
_DONE = re.compile(r"^(done|closed|complete[d]?|finished|resolved|released|shipped|deployed)$", re.I)
_NEW = re.compile(r"^(backlog|to[\s_-]?do|todo|new|open|icebox|triage)$", re.I)
_ORDER: dict[StatusCategory, int] = {"new": 0, "indeterminate": 1, "done": 2}


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from GitLab's ``2026-01-05T09:15:30.123Z`` (a naive one is read as UTC)."""
    stamp = dt.datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def category_of(name: str) -> StatusCategory:
    """A label's category from its name: GitLab labels have none, so the usual words decide."""
    if _DONE.match(name.strip()):
        return "done"
    if _NEW.match(name.strip()):
        return "new"
    return "indeterminate"


def label_status(label: Mapping[str, Any] | None, prefix: str) -> SourceStatus | None:
    """The status a label stands for, or ``None`` if it is not a workflow label (or was deleted)."""
    if not label or not isinstance(label.get("name"), str) or label.get("id") is None:
        return None
    name: str = label["name"]
    if not name.casefold().startswith(prefix.casefold()) or len(name) == len(prefix):
        return None
    short = name[len(prefix) :].strip()
    return SourceStatus(str(label["id"]), short, category_of(short))


def statuses_from(labels: Iterable[Mapping[str, Any]], prefix: str) -> list[SourceStatus]:
    """``Open``, the workflow labels (new, started, then done ones, each in GitLab's order), ``Closed``."""
    found: dict[str, SourceStatus] = {}
    for label in labels:
        status = label_status(label, prefix)
        if status is not None:
            # Projects of a group each define their own workflow::Doing: one status, by name, which the
            # workflow maps whatever label id an event carries.
            found.setdefault(status.name.casefold(), status)
    ordered = sorted(found.values(), key=lambda status: _ORDER[status.category])
    return [OPEN, *ordered, CLOSED]


def item_id_of(issue: Mapping[str, Any]) -> str:
    """``group/project#12``: the reference GitLab shows, unique across a group's projects."""
    full = (issue.get("references") or {}).get("full")
    return str(full) if full else f"{issue.get('project_id')}#{issue['iid']}"


def item_from(issue: Mapping[str, Any], status: SourceStatus) -> SourceItem:
    """A work item from an issues list entry; ``status`` is its current status (from its history)."""
    person = issue.get("assignee") or next(iter(issue.get("assignees") or []), None) or {}
    return SourceItem(
        item_id=item_id_of(issue),
        title=issue.get("title"),
        type=issue.get("issue_type") or issue.get("type"),
        url=issue.get("web_url"),
        created_at=parse_time(issue["created_at"]) if issue.get("created_at") else None,
        status=status.name,
        assignee=person.get("username"),
    )


@dataclass
class _Replay:
    """An issue's workflow labels and state while its history is replayed."""

    held: dict[str, tuple[int, SourceStatus]] = field(default_factory=dict)  # label id → (added as nth, …)
    closed: bool = False
    added: int = 0

    def apply(self, change: Mapping[str, Any], prefix: str) -> None:
        if "state" in change:
            self.closed = change["state"] == "closed"
            return
        status = label_status(change.get("label"), prefix)
        if status is None:
            return
        if change.get("action") == "add":
            self.added += 1
            self.held[status.id] = (self.added, status)
        elif change.get("action") == "remove":
            self.held.pop(status.id, None)

    def status(self) -> SourceStatus:
        label = max(self.held.values(), key=lambda held: held[0])[1] if self.held else None
        if self.closed:
            return label if label is not None and label.category == "done" else CLOSED
        return label or OPEN


def events_from(
    issue: Mapping[str, Any],
    label_events: Sequence[Mapping[str, Any]],
    state_events: Sequence[Mapping[str, Any]],
    prefix: str,
) -> tuple[list[SourceEvent], SourceStatus]:
    """The issue's ``created`` and ``status`` events, and its status now (see the module docstring)."""
    key, created = item_id_of(issue), parse_time(issue["created_at"])
    if issue.get("state") == "closed" and not state_events and issue.get("closed_at"):
        state_events = [{"id": 0, "created_at": issue["closed_at"], "state": "closed"}]
    changes = sorted(
        [*label_events, *state_events], key=lambda c: (parse_time(c["created_at"]), _number(c.get("id")))
    )
    replay = _Replay()
    events: list[SourceEvent] = []
    current: SourceStatus | None = None  # None until the creation-time changes are applied
    for at, group in _by_time(changes):
        if current is None and at > created + CREATION_GRACE:
            current = replay.status()
            events.append(SourceEvent(key, created, "created", None, current.id, current.name))
        for change in group:
            replay.apply(change, prefix)
        after = replay.status()
        if current is not None and after.id != current.id:
            events.append(SourceEvent(key, at, "status", current.id, after.id, after.name))
            current = after
    if current is None:
        current = replay.status()
        events.append(SourceEvent(key, created, "created", None, current.id, current.name))
    return events, current


def _by_time(changes: list[Mapping[str, Any]]) -> Iterable[tuple[dt.datetime, list[Mapping[str, Any]]]]:
    group: list[Mapping[str, Any]] = []
    at: dt.datetime | None = None
    for change in changes:
        stamp = parse_time(change["created_at"])
        if at is not None and stamp != at:
            yield at, group
            group = []
        at = stamp
        group.append(change)
    if at is not None:
        yield at, group


def _number(value: object) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() else 0


class SyncState(UpdatedSince):
    """GitLab's cursor (see :class:`UpdatedSince`): the newest ``updated_at`` delivered, the issues near it.

    ``scope`` is the project or group the cursor belongs to; a cursor of another scope starts a backfill.
    """

    SOURCE = "GitLab"
    LOG = "flowcoach.gitlab"
    FIRST_KEYS = ("scope",)

    scope: str


def mark(issue: Mapping[str, Any]) -> Mark:
    """An issue's item id and ``updated_at``, what the cursor tells delivered versions of an issue by."""
    updated = issue.get("updated_at")
    return item_id_of(issue), parse_time(updated) if updated else None
