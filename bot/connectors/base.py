"""The contract every connector keeps: statuses, a credential check, items and events since a cursor.

Connectors report raw facts; mapping statuses to stages is board policy (the workflow). Events are event-log
records (``spec/data.md``, :class:`SourceEvent`) so that everything downstream speaks one format.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal, Protocol, Self

StatusCategory = Literal["new", "indeterminate", "done"]

# The most characters the store keeps of each field a connector delivers (bot/store/models.py declares its
# columns with these). A value over its limit, or a NUL character anywhere (PostgreSQL keeps none in text),
# would fail the batch's whole transaction in the database with a SQL dump: checked here first instead.
ITEM_LIMITS: dict[str, int | None] = {
    "item_id": 200, "title": None, "type": 100, "url": None, "status": 200, "assignee": 200,
}
EVENT_LIMITS: dict[str, int | None] = {
    "item_id": 200, "event": 20, "from_status": 200, "to_status": 200, "to_status_name": 200, "reason": None,
}


class ProgressCallback(Protocol):
    """Hears how far a fetch got: items done so far and the total if known.

    ``waiting`` is set when the source makes the sync wait that many seconds (a rate limit's reset) before
    it goes on, so that a progress bar can say why nothing moves.
    """

    def __call__(self, done: int, total: int | None, /, *, waiting: float | None = None) -> None: ...


@dataclass(frozen=True)
class SourceStatus:
    """A status as the tracker defines it; ``category`` drives the default stage mapping."""

    id: str
    name: str
    category: StatusCategory
    # Work dropped rather than delivered (Linear's canceled, Azure DevOps' Removed): a "done" category for
    # the tracker, but a first workflow should put it in a discarded stage so it never counts as throughput.
    discarded: bool = False


@dataclass(frozen=True)
class SourceItem:
    """A work item's current attributes."""

    item_id: str
    title: str | None = None
    type: str | None = None
    url: str | None = None
    created_at: dt.datetime | None = None
    status: str | None = None
    assignee: str | None = None


EventKind = Literal["created", "status", "blocked", "unblocked"]


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One event-log record (``spec/data.md``), as a connector hands it to the store.

    ``timestamp`` is an aware ``datetime`` (the store refuses a naive one rather than guess its zone).
    ``to_status`` is the tracker's stable id where it has one, ``to_status_name`` the display name alongside;
    ``reason`` goes with ``blocked``. Slots, because a backfill builds hundreds of thousands of these.
    """

    item_id: str
    timestamp: dt.datetime
    event: EventKind = "status"
    from_status: str | None = None
    to_status: str | None = None
    to_status_name: str | None = None
    reason: str | None = None

    @classmethod
    def of(
        cls,
        item_id: object,
        timestamp: dt.datetime,
        event: EventKind,
        from_status: object = None,
        to_status: object = None,
        to_status_name: object = None,
        reason: object = None,
    ) -> SourceEvent:
        """An event from a tracker's JSON values, which give ids as numbers or strings: the log keeps text."""
        return cls(
            str(item_id),
            timestamp,
            event,
            None if from_status is None else str(from_status),
            None if to_status is None else str(to_status),
            None if to_status_name is None else str(to_status_name),
            None if reason is None else str(reason),
        )


@dataclass(frozen=True)
class Batch:
    """One unit of a sync, stored in one transaction; ``cursor`` is where to resume once it is committed.

    ``removed`` lists items that no longer belong to the board (deleted or moved away), found by a periodic
    sweep. ``warnings`` tell what the sync could not see (items the credentials may not read, history the
    source cannot give), in one sentence each, for the person who reads the sync's outcome.
    """

    items: tuple[SourceItem, ...]
    events: tuple[SourceEvent, ...]
    cursor: str | None
    removed: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())


def batch_problems(batch: Batch) -> list[str]:
    """What in ``batch`` the store cannot keep, one sentence per value (the first few); empty when all fits.

    Checks whole columns in C loops (``"".join``, ``max(map(len, …))``) and looks at single values only in
    a column that fails, since a backfill hands over hundreds of thousands of events.
    """
    problems = _field_problems(batch.items, ITEM_LIMITS) + _field_problems(batch.events, EVENT_LIMITS)
    return problems[:_LISTED_PROBLEMS] + (
        [f"… and {len(problems) - _LISTED_PROBLEMS} more"] if len(problems) > _LISTED_PROBLEMS else []
    )


_LISTED_PROBLEMS = 10
_FIELD_WORDS = {"item_id": "item id"}


def _field_problems(
    records: Sequence[SourceItem] | Sequence[SourceEvent], limits: dict[str, int | None]
) -> list[str]:
    problems: list[str] = []
    for name, limit in limits.items():
        values = [value or "" for value in map(attrgetter(name), records)]
        too_long = limit is not None and max(map(len, values), default=0) > limit
        if not too_long and "\x00" not in "".join(values):
            continue
        field_name = _FIELD_WORDS.get(name, name)
        for item_id, value in zip(map(attrgetter("item_id"), records), values, strict=True):
            if limit is not None and len(value) > limit:
                problems.append(
                    f"item {shown_id(item_id)}: {field_name} is {len(value):,} characters long; "
                    f"at most {limit} can be stored"
                )
            elif "\x00" in value:
                problems.append(
                    f"item {shown_id(item_id)}: {field_name} contains a NUL character (a zero byte), "
                    "which cannot be stored"
                )
    return problems


def shown_id(item_id: str) -> str:
    """An item id for a message: quoted and shortened; ``repr`` shows a NUL or control character escaped."""
    return repr(item_id if len(item_id) <= 40 else item_id[:37] + "...")


class Connector(Protocol):
    """What the sync engine and the onboarding flow need from a source."""

    def check(self) -> str:
        """Verify credentials and scope; returns a one-line description. Raises ``ConnectorError``."""
        ...

    def statuses(self) -> list[SourceStatus]:
        """Every status items of this board can be in, with its category."""
        ...

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        """Items and events changed since ``cursor`` (``None``: everything), in batches."""
        ...

    def close(self) -> None:
        """Release connections; the connector is not used afterwards."""
        ...


class ClosesOnExit:
    """``with connector:`` closes it on the way out; the connector defines ``close``."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError
