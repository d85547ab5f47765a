"""Azure DevOps work item revisions → event-log records, and the sync cursor that remembers where we are.

The reporting revisions API streams every revision of every work item in the project, oldest watermark
first, each with a snapshot of the asked-for fields. A revision says what an item looked like, not what
changed, so turning revisions into transitions needs each item's previous status. That status is kept in
the cursor (see :class:`SyncState`), so an incremental sync — which only sees revisions newer than the
stored continuation token — still knows where every item came from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, PlainValidator, ValidationInfo

from bot.connectors.base import SourceEvent, SourceItem
from bot.connectors.cursor import VersionedCursor

STATE, COLUMN = "System.State", "System.BoardColumn"
REVISION_FIELDS = (
    "System.Id",
    "System.Title",
    "System.WorkItemType",
    "System.State",
    "System.BoardColumn",
    "System.AreaPath",
    "System.ChangedDate",
    "System.CreatedDate",
    "System.AssignedTo",
    "System.Rev",
    "System.IsDeleted",
)
Revision = Mapping[str, Any]
_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str) -> dt.datetime:
    """An aware datetime from ``2026-01-05T09:00:00.1234567Z`` (.NET writes up to seven fraction digits)."""
    parsed = dt.datetime.fromisoformat(_FRACTION.sub(r"\1", text.strip()))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def person(value: object) -> str | None:
    """A display name from an identity field: ``"Ann Lee <ann@x.com>"`` (the default) or an IdentityRef."""
    if isinstance(value, Mapping):
        name = value.get("displayName") or value.get("uniqueName")
        return str(name) if name else None
    if not value:
        return None
    text = str(value)
    return text.split(" <", 1)[0].strip() or text


@dataclass(frozen=True)
class Scope:
    """Which revisions belong to the board: work item types, and optionally an area path and its children."""

    types: frozenset[str]
    area_path: str | None = None

    def holds(self, fields: Mapping[str, Any]) -> bool:
        if str(fields.get("System.WorkItemType") or "") not in self.types:
            return False
        if self.area_path is None:
            return True
        area = str(fields.get("System.AreaPath") or "").lower()
        wanted = self.area_path.lower()
        return area == wanted or area.startswith(wanted + "\\")


def encode_ids(ids: Iterable[int]) -> str:
    """Sorted ids as runs: ``1-480,482``; work item ids are mostly consecutive within a project."""
    runs: list[list[int]] = []
    for n in sorted(set(ids)):
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def decode_ids(text: str) -> list[int]:
    ids: list[int] = []
    for run in filter(None, text.split(",")):
        first, _, last = run.partition("-")
        ids.extend(range(int(first), int(last or first) + 1))
    return ids


def _statuses(value: Any, info: ValidationInfo) -> dict[int, str]:
    if not isinstance(value, dict):
        raise ValueError(f"statuses must be an object, not {type(value).__name__}")
    if info.mode != "json":  # built in Python: already id → status
        return value
    return {n: str(status) for status, ids in value.items() for n in decode_ids(ids)}


def _grouped(statuses: Mapping[int, str]) -> dict[str, str]:
    grouped: dict[str, list[int]] = {}
    for n, status in statuses.items():
        grouped.setdefault(status, []).append(n)
    return {status: encode_ids(ids) for status, ids in sorted(grouped.items())}


StatusRuns = Annotated[dict[int, str], PlainValidator(_statuses), PlainSerializer(_grouped)]
"""Work item id → status, written grouped by status as runs of ids (``{"Closed": "1-950,960"}``)."""


class SyncState(VersionedCursor):
    """The cursor: the reporting API's continuation token, and each board item's last status.

    ``statuses`` maps work item id → last seen status (State or BoardColumn) for the items on the board.
    Written as :data:`StatusRuns`, its size grows with the number of *distinct runs*, not items: a board of
    20,000 items that are mostly Closed in id order stays a few kilobytes. The worst case (ids scattered over
    many statuses) is ~8 bytes per item, written once per page; the alternative, deriving the last status
    from the store, would tie the connector to the database.
    """

    SOURCE = "Azure DevOps"
    LOG = "flowcoach.azure_devops"

    token: str | None = None
    statuses: StatusRuns = Field(default_factory=dict)


@dataclass
class PageResult:
    """What one page of revisions means for the board."""

    items: dict[int, SourceItem] = field(default_factory=dict)
    events: list[SourceEvent] = field(default_factory=list)
    removed: set[int] = field(default_factory=set)


def apply_revisions(
    revisions: Iterable[Revision], state: SyncState, scope: Scope, status_field: str, item_url: str
) -> PageResult:
    """Turn a page of revisions into items, events and removals, updating ``state.statuses`` as it goes.

    An item's first revision on the board gives ``created`` at ``System.CreatedDate`` into its status (exact
    for revision 1; for an item that joins the board later by a type or area change, the status it joined
    in). A later revision whose status differs gives a ``status`` event at ``System.ChangedDate``. A deleted
    item, or one whose type or area takes it off the board, is removed and forgotten.
    """
    result = PageResult()
    for revision in revisions:
        fields = revision.get("fields") or {}
        number = int(revision.get("id") or fields["System.Id"])
        known = state.statuses.get(number)
        if fields.get("System.IsDeleted") or not scope.holds(fields):
            if known is not None:
                del state.statuses[number]
                result.removed.add(number)
                result.items.pop(number, None)
            continue
        status = fields.get(status_field)
        if not status:  # BoardColumn is empty until the item is on a board: nothing to place it by yet
            continue
        # Azure DevOps has no status ids: names are what revisions carry, so the name is the id as well.
        status = str(status)
        key = str(number)
        if known is None:
            created = fields.get("System.CreatedDate") or fields.get("System.ChangedDate")
            result.events.append(SourceEvent(key, parse_time(str(created)), "created", None, status, status))
            result.removed.discard(number)
        elif known != status:
            changed = parse_time(str(fields["System.ChangedDate"]))
            result.events.append(SourceEvent(key, changed, "status", known, status, status))
        state.statuses[number] = status
        result.items[number] = _item(number, fields, status, item_url)
    return result


def _item(number: int, fields: Mapping[str, Any], status: str, item_url: str) -> SourceItem:
    created = fields.get("System.CreatedDate")
    return SourceItem(
        item_id=str(number),
        title=fields.get("System.Title"),
        type=fields.get("System.WorkItemType"),
        url=f"{item_url}/{number}",
        created_at=parse_time(str(created)) if created else None,
        status=status,
        assignee=person(fields.get("System.AssignedTo")),
    )
