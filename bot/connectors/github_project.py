"""GitHub Projects v2 payloads → flowcoach items, statuses and events, and the snapshot cursor.

GitHub keeps no status history for a project that an API can page through, so history comes from two
places. On an item's first sight, the ``ProjectV2ItemStatusChangedEvent`` entries of its issue's or pull
request's timeline (for this project) give the past: a ``created`` event at the content's ``createdAt`` in
the first event's ``previousStatus``, then one ``status`` event per entry. After that, each sync compares the
item's Status option with the one the cursor remembers, and a difference becomes a ``status`` event dated by
the field value's ``updatedAt`` (snapshot polling: a move there and back between two syncs is not seen).

Where the timeline says nothing (draft issues, or a history GitHub did not record) an item starts in "No
Status" at its content's ``createdAt`` and moves to its current status when that value was last set — the
only two facts GitHub keeps. If the timeline ends in another status than the item shows now, a last
``status`` event at the value's ``updatedAt`` reconciles them. Timeline entries name statuses, so names are
mapped to option ids through the field's current options (a deleted or renamed option keeps its name).

Archived items are read too (``items`` lists only unarchived ones unless told otherwise): archiving is how
teams tidy finished work off a board, so an archived item keeps its history and its status, and one archived
in a done status still counts as done. GitHub Enterprise Server versions without the status-changed timeline
event (see :data:`STATUS_EVENTS_QUERY`) give no timeline at all: history there is snapshots only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import Field

from bot.connectors.base import SourceEvent, SourceItem, SourceStatus, StatusCategory
from bot.connectors.cursor import VersionedCursor

NO_STATUS = SourceStatus("no-status", "No Status", "new")  # GitHub's own column for items without a value
_NEW = re.compile(r"\b(todo|to do|to-do|backlog|new|triage|inbox|icebox|ideas?|later|no status)\b", re.I)
_DONE = re.compile(r"\b(done|closed|shipped|released|deployed|complete|completed|finished|merged)\b", re.I)
_TYPES = {"ISSUE": "Issue", "PULL_REQUEST": "Pull request", "DRAFT_ISSUE": "Draft issue"}

_CONTENT = """
          content {
            __typename
            ... on Issue { id number title url createdAt repository { nameWithOwner }
                           assignees(first: 1) { nodes { login } } }
            ... on PullRequest { id number title url createdAt repository { nameWithOwner }
                                 assignees(first: 1) { nodes { login } } }
            ... on DraftIssue { title createdAt assignees(first: 1) { nodes { login } } }
          }"""

PROJECT_QUERY = """
query ProjectInfo($login: String!, $number: Int!, $field: String!) {
  viewer { login }
  OWNER(login: $login) {
    login
    projectV2(number: $number) {
      id number title url
      field(name: $field) {
        __typename
        ... on ProjectV2SingleSelectField { id name options { id name } }
      }
    }
  }
}"""

ITEMS_QUERY = (
    """
query ProjectItems($login: String!, $number: Int!, $field: String!, $first: Int!, $after: String) {
  OWNER(login: $login) {
    projectV2(number: $number) {
      items(first: $first, after: $after, archivedStates: [ARCHIVED, NOT_ARCHIVED]) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id databaseId type createdAt updatedAt
          fieldValueByName(name: $field) {
            ... on ProjectV2ItemFieldSingleSelectValue { name optionId updatedAt }
          }"""
    + _CONTENT
    + """
        }
      }
    }
  }
}"""
)

_TIMELINE = """
      timelineItems(first: $first, after: $after, itemTypes: [PROJECT_V2_ITEM_STATUS_CHANGED_EVENT]) {
        pageInfo { hasNextPage endCursor }
        nodes { ... on ProjectV2ItemStatusChangedEvent { createdAt previousStatus status project { id } } }
      }"""

HISTORIES_QUERY = f"""
query ItemHistories($ids: [ID!]!, $first: Int!, $after: String) {{
  nodes(ids: $ids) {{
    __typename
    ... on Issue {{ id {_TIMELINE} }}
    ... on PullRequest {{ id {_TIMELINE} }}
  }}
}}"""

HISTORY_PAGE_QUERY = f"""
query ItemHistoryPage($id: ID!, $first: Int!, $after: String) {{
  node(id: $id) {{
    __typename
    ... on Issue {{ id {_TIMELINE} }}
    ... on PullRequest {{ id {_TIMELINE} }}
  }}
}}"""


# Whether the server knows the status-changed timeline event: GitHub Enterprise Server versions that predate
# it reject any query naming it, so the history queries are only sent where this answers a type.
STATUS_EVENTS_QUERY = """
query StatusEventSupport {
  __type(name: "ProjectV2ItemStatusChangedEvent") { name }
}"""


def owner_query(query: str, owner_kind: str) -> str:
    """The query against ``organization(login:)`` or ``user(login:)``; both own projects the same way."""
    return query.replace("OWNER(", f"{owner_kind}(")


def category_of(name: str) -> StatusCategory:
    """GitHub has no status categories: guess from the option's name, in progress when in doubt."""
    if _DONE.search(name):
        return "done"
    if _NEW.search(name):
        return "new"
    return "indeterminate"


def statuses_from(options: Iterable[Mapping[str, Any]]) -> list[SourceStatus]:
    """The Status field's options, then "No Status" for items without a value."""
    found = [SourceStatus(str(o["id"]), str(o["name"]), category_of(str(o["name"]))) for o in options]
    return [*found, NO_STATUS]


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from GitHub's ``2026-01-05T09:00:00Z``."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def item_key(node: Mapping[str, Any]) -> str:
    """``acme/web#42`` for issues and pull requests, ``draft-<id>`` for drafts (they have no number)."""
    content = node.get("content") or {}
    repository = (content.get("repository") or {}).get("nameWithOwner")
    if repository and content.get("number") is not None:
        return f"{repository}#{content['number']}"
    kind = "draft" if node.get("type") == "DRAFT_ISSUE" else "item"
    return f"{kind}-{node.get('databaseId') or node['id']}"


def current_status(node: Mapping[str, Any]) -> tuple[str, str, dt.datetime | None]:
    """The item's Status option id, name and when it was set (``NO_STATUS`` without a value)."""
    value = node.get("fieldValueByName") or {}
    if not value.get("optionId"):
        return NO_STATUS.id, NO_STATUS.name, None
    return str(value["optionId"]), str(value.get("name") or value["optionId"]), _time(value.get("updatedAt"))


def item_from(node: Mapping[str, Any], project_url: str) -> SourceItem:
    content = node.get("content") or {}
    assignees = (content.get("assignees") or {}).get("nodes") or []
    url = content.get("url")
    if url is None and node.get("databaseId"):
        url = f"{project_url}?pane=issue&itemId={node['databaseId']}"  # where GitHub opens a draft
    return SourceItem(
        item_id=item_key(node),
        title=content.get("title"),
        type=_TYPES.get(str(node.get("type")), str(node.get("type") or "").title() or None),
        url=url,
        created_at=_time(content.get("createdAt")) or _time(node.get("createdAt")),
        status=current_status(node)[1],
        assignee=assignees[0].get("login") if assignees else None,
    )


def first_events(
    node: Mapping[str, Any], timeline: Sequence[Mapping[str, Any]], ids_by_name: Mapping[str, str]
) -> list[SourceEvent]:
    """Every event of an item seen for the first time, from its timeline for this project (may be empty)."""
    key = item_key(node)
    content = node.get("content") or {}
    created = _time(content.get("createdAt")) or parse_time(str(node["createdAt"]))
    now_id, now_name, set_at = current_status(node)

    def status(name: str | None) -> tuple[str, str]:
        if not name:
            return NO_STATUS.id, NO_STATUS.name
        return ids_by_name.get(name, name), name

    changes = sorted(timeline, key=lambda entry: parse_time(str(entry["createdAt"])))
    if changes:
        start_id, start_name = status(changes[0].get("previousStatus"))
    elif set_at is not None and set_at > created:
        start_id, start_name = NO_STATUS.id, NO_STATUS.name
    else:
        start_id, start_name = now_id, now_name
    events = [SourceEvent(key, created, "created", None, start_id, start_name)]
    last = start_id
    for change in changes:
        to_id, to_name = status(change.get("status"))
        events.append(SourceEvent(key, parse_time(str(change["createdAt"])), "status", last, to_id, to_name))
        last = to_id
    if last != now_id:
        at = set_at or _time(node.get("updatedAt")) or created
        events.append(SourceEvent(key, max(at, created), "status", last, now_id, now_name))
    return events


def change_events(node: Mapping[str, Any], before: str) -> list[SourceEvent]:
    """A ``status`` event if the item's status differs from the one the cursor remembers."""
    now_id, now_name, set_at = current_status(node)
    if now_id == before:
        return []
    # A cleared value has no updatedAt of its own; the item's is the best date GitHub gives.
    at = set_at or _time(node.get("updatedAt")) or parse_time(str(node["createdAt"]))
    return [SourceEvent(item_key(node), at, "status", before, now_id, now_name)]


class ProjectState(VersionedCursor):
    """The cursor: each item's last seen status, and how far the current pass over the items got.

    ``seen`` maps the item's node id to ``[key, status id, pass, updatedAt]``. A pass reads every item page
    by page; ``after`` is the page cursor to resume from, and items still marked with an older pass number
    when a pass completes have left the project. ``mode`` tells it from a labels board's cursor.
    """

    SOURCE = "GitHub"
    LOG = "flowcoach.github"

    mode: Literal["project"] = "project"
    pass_number: int = Field(default=0, alias="pass")
    in_pass: bool = False
    after: str | None = None
    seen: dict[str, list[Any]] = Field(default_factory=dict)

    def start_pass(self) -> None:
        """Begin a pass over every item, unless a killed sync left one to resume."""
        if not self.in_pass:
            self.pass_number += 1
            self.in_pass, self.after = True, None

    def finish_pass(self) -> tuple[str, ...]:
        """End the pass; the keys of items it did not meet, which have left the project."""
        gone = [node for node, entry in self.seen.items() if entry[2] < self.pass_number]
        removed = tuple(sorted(str(self.seen.pop(node)[0]) for node in gone))
        self.in_pass, self.after = False, None
        return removed


def _time(text: object) -> dt.datetime | None:
    return parse_time(str(text)) if text else None
