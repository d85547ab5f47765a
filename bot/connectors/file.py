"""A board backed by an event-log file (CSV, JSON Lines or the wide format), re-read when it changes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, Field, field_validator

from analytics.eventlog import EventLogError, TextLimits
from analytics.workflow import Workflow
from bot.connectors.base import (
    EVENT_LIMITS,
    ITEM_LIMITS,
    Batch,
    ProgressCallback,
    SourceEvent,
    SourceItem,
    SourceStatus,
)
from bot.connectors.errors import ConnectorError, NotFound, UnexpectedResponse
from bot.connectors.files import read_event_log
from bot.connectors.mapping import status_paths

EVENTS_PER_BATCH = 20_000


def _limit(*limits: int | None) -> int:
    return min(limit for limit in limits if limit is not None)


# What the store keeps of each column of the file (a column may feed an event's field and an item's), checked
# by the reader so that a value too long for the database is named by its line, before anything is stored.
STORABLE = TextLimits(
    {
        "item_id": _limit(EVENT_LIMITS["item_id"], ITEM_LIMITS["item_id"]),
        "from_status": _limit(EVENT_LIMITS["from_status"]),
        "to_status": _limit(EVENT_LIMITS["to_status"], ITEM_LIMITS["status"]),
        "type": _limit(ITEM_LIMITS["type"]),
        "assignee": _limit(ITEM_LIMITS["assignee"]),
    }
)


class FileSettings(BaseModel):
    """Where the event log lives."""

    path: str = Field(description="path of the event-log file (.csv, .jsonl, or a wide ActionableAgile CSV)")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        """Stored absolute: a relative path would be read from wherever the next sync runs (another folder,
        the worker), not from where the board was added."""
        if not value.strip():
            raise ValueError("give the path of the event-log file")
        return str(Path(value).expanduser().absolute())


class FileConnector:
    """Reads the whole file when its content changed (its SHA-256 is the cursor), and nothing otherwise.

    Every event is handed over again on a change; the store keeps each once, so edits that append rows
    cost one read, and rows that disappear from the file stay in the store (an event log only grows).
    """

    def __init__(self, settings: FileSettings, workflow: Workflow | None) -> None:
        if workflow is None:  # its time zone reads naive timestamps, its stages read a wide file
            raise ConnectorError("a file board needs its workflow: give --workflow FILE")
        self.path = Path(settings.path).expanduser()
        self.workflow = workflow

    def check(self) -> str:
        if not self.path.is_file():
            raise NotFound(f"{self.path}: no such file")
        return f"event-log file {self.path} ({self.path.stat().st_size:,} bytes)"

    def statuses(self) -> list[SourceStatus]:
        """The statuses the file uses; a file has no categories, so each is reported as in progress."""
        events = self._read()
        names = sorted(events["to_status"].dropna().unique())
        return [SourceStatus(id=str(name), name=str(name), category="indeterminate") for name in names]

    def status_paths(self) -> dict[tuple[str, ...], int]:
        """The statuses each item went through, in time order: what a first workflow is proposed from."""
        events = self._read()
        moves = events.loc[events["to_status"].notna()].sort_values("timestamp", kind="stable")
        return status_paths(zip(moves["item_id"], moves["to_status"], strict=True))

    def fetch(self, cursor: str | None, progress: ProgressCallback | None = None) -> Iterator[Batch]:
        self.check()
        fingerprint = hashlib.sha256(self.path.read_bytes()).hexdigest()
        if fingerprint == cursor:
            return
        events = self._read()
        # An empty file (or one with only a header) is not an error, it may be a log not written yet; but a
        # sync that stores nothing from it must say so rather than look like every other success.
        warnings = (f"{self.path}: no events in the file",) if events.empty else ()
        items = _items(events)
        records = events[["item_id", "timestamp", "event", "from_status", "to_status", "reason"]]
        # Timestamps stay pandas Timestamps (aware datetimes): the store converts them as it binds them.
        # The reader has checked every value: ids and event kinds are present, text columns are text or NaN.
        rows = [
            SourceEvent(item_id, timestamp, event, from_status, to_status, None, reason)
            for item_id, timestamp, event, from_status, to_status, reason in records.astype(object)
            .where(records.notna(), None)
            .itertuples(index=False, name=None)
        ]
        for start in range(0, max(len(rows), 1), EVENTS_PER_BATCH):
            last = start + EVENTS_PER_BATCH >= len(rows)
            # Only the last batch carries the fingerprint: an interrupted read is simply read again.
            yield Batch(
                items=tuple(items) if start == 0 else (),
                events=tuple(rows[start : start + EVENTS_PER_BATCH]),
                cursor=fingerprint if last else None,
                warnings=warnings if start == 0 else (),
            )
            if progress is not None:
                progress(min(start + EVENTS_PER_BATCH, len(rows)), len(rows))

    def close(self) -> None:
        """Nothing to release: the file is opened only while it is read."""

    def _read(self) -> pd.DataFrame:
        try:
            return read_event_log(self.path, self.workflow, limits=STORABLE).events
        except EventLogError as error:
            # Each problem already reads "file:line: what is wrong"; a heading only when there are several.
            heading = "" if len(error.problems) == 1 else f"{self.path} has malformed rows:\n"
            raise UnexpectedResponse(f"{heading}{error}") from None
        except OSError as error:
            raise ConnectorError(f"{self.path}: cannot read the file ({error.strerror or error})") from None


def _items(events: pd.DataFrame) -> list[SourceItem]:
    """Each item's last non-empty attributes and status, and its first event as its creation time."""
    if events.empty:
        return []
    grouped = events.groupby("item_id", sort=True)
    last = grouped[["title", "type", "url", "assignee", "to_status"]].last()
    first_seen = dict(zip(grouped["timestamp"].min().index, grouped["timestamp"].min(), strict=True))
    return [
        SourceItem(
            item_id=str(item_id),
            title=_text(row["title"]),
            type=_text(row["type"]),
            url=_text(row["url"]),
            created_at=pd.Timestamp(first_seen[item_id]).to_pydatetime(),
            status=_text(row["to_status"]),
            assignee=_text(row["assignee"]),
        )
        for item_id, row in last.iterrows()
    ]


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)  # type: ignore[call-overload]
