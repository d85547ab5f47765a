"""A columnar copy of each board's event log: reading a large board without a Python object per value.

Reading a board's events row by row through the driver was most of a one-shot command's time on a large
board (155k events: SQLite's ``fetchall`` alone builds a million Python objects). After each sync the
board's events as stored are written as one value in ``event_log_copies``: ids and times as integer arrays,
each text column as its distinct values and a code per event. A read takes the copy, adds the events stored
after it (ids above the copy's last one) and counts the board's events. When the count is not the copy's
plus the newer ones (an event committed late with a lower id, a deleted event), when the copy was written
under another schema revision, or when it cannot be decoded, the events are read row by row as before. So a
copy can make a read slower, never different.

This relies on events being append-only: nothing updates a stored event (``bot/store/eventstore.py``
inserts with ``ON CONFLICT DO NOTHING``), and a migration that rewrote events would change the schema
revision, which retires every copy. Items are not copied: their titles and removal change in place, and the
reader reads them every time.

No ORM here: ``bot/store/boardread.py`` reads through this module without importing SQLAlchemy.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bot.store.dbapi import Cursor, columns_of
from bot.store.revision import head_revision

TEXT_COLUMNS = ("item_id", "event", "from_status", "to_status", "to_status_name", "reason")
FORMAT = 1  # of the encoded copy; a copy of another format is not read


def take(values: np.ndarray, positions: np.ndarray, missing: Any) -> np.ndarray:
    """``values[positions]``, where position -1 (a NULL code, an item not stored) reads ``missing``, not the
    last value."""
    return np.append(values, missing).take(positions)


@dataclass(frozen=True)
class Coded:
    """A text column as its distinct values and a code per row, -1 where the database has NULL: whatever is
    decided per value (a status the workflow lists, an item's attributes) is decided once per value."""

    codes: np.ndarray  # integers
    distinct: np.ndarray  # object array of str; may repeat a value (after concatenation)

    @classmethod
    def of(cls, column: np.ndarray) -> Coded:
        codes, distinct = pd.factorize(column, use_na_sentinel=True)
        return cls(codes.astype(np.int32), np.asarray(distinct, dtype=object))

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray) -> Coded:
        return Coded(self.codes[rows], self.distinct)

    def at(self, positions: np.ndarray) -> Coded:
        """The rows at ``positions``, where -1 reads NULL (not the last row)."""
        return Coded(take(self.codes, positions, -1), self.distinct)

    def followed_by(self, other: Coded) -> Coded:
        shifted = np.where(other.codes >= 0, other.codes + len(self.distinct), -1)
        codes = np.concatenate([self.codes, shifted]).astype(np.int32)
        return Coded(codes, np.concatenate([self.distinct, other.distinct]))

    def as_str(self) -> pd.Series:
        """The column in pandas' ``str`` dtype (NaN for NULL), each value checked once rather than per row."""
        dictionary = pd.array(self.distinct, dtype="str")
        return pd.Series(dictionary.take(self.codes, allow_fill=True), copy=False)


@dataclass(frozen=True)
class StoredEvents:
    """A board's events as stored, column by column, in (time, id) order.

    ``timestamps`` are nanoseconds since the epoch (UTC); ``text`` has :data:`TEXT_COLUMNS`; ``to_status``
    and ``to_status_name`` are raw (the workflow decides which one a reader uses).
    """

    ids: np.ndarray
    timestamps: np.ndarray
    text: dict[str, Coded]

    def __len__(self) -> int:
        return len(self.ids)

    def last_id(self) -> int:
        return int(self.ids.max()) if len(self) else 0

    def followed_by(self, newer: StoredEvents) -> StoredEvents:
        """These events and ``newer`` ones, in (time, id) order again."""
        if not len(newer):
            return self
        ids = np.concatenate([self.ids, newer.ids])
        timestamps = np.concatenate([self.timestamps, newer.timestamps])
        order = np.lexsort((ids, timestamps))
        text = {name: self.text[name].followed_by(newer.text[name])[order] for name in TEXT_COLUMNS}
        return StoredEvents(ids[order], timestamps[order], text)


@dataclass(frozen=True)
class Reading:
    """``events``, and whether the stored copy already held them all (then it need not be written again)."""

    events: StoredEvents
    copy_is_current: bool


def stored_events(cursor: Cursor, board_id: int) -> Reading:
    """The board's events as stored: its copy and the events after it, or else row by row."""
    copy = _read_copy(cursor, board_id)
    if copy is not None:
        newer = read_rows(cursor, board_id, after_id=copy.last_id())
        [(count,)] = cursor.rows("SELECT count(*) FROM events WHERE board_id = ?", [board_id])
        if count == len(copy) + len(newer):
            return Reading(copy.followed_by(newer), copy_is_current=not len(newer))
    return Reading(read_rows(cursor, board_id), copy_is_current=False)


def read_rows(cursor: Cursor, board_id: int, after_id: int | None = None) -> StoredEvents:
    """The board's events row by row (those with ids above ``after_id`` when given), in (time, id) order."""
    # The newer events by the primary key: through the board's index, SQLite walks every event of the board.
    # (``+board_id`` keeps both SQLite and PostgreSQL off that index; the newer ones are few.)
    where = "board_id = ?" if after_id is None else "+board_id = ? AND id > ?"
    rows = cursor.rows(
        "SELECT id, timestamp, item_id, event, from_status, to_status, to_status_name, reason "  # noqa: S608
        f"FROM events WHERE {where} ORDER BY timestamp, id",
        [board_id] if after_id is None else [board_id, after_id],
    )
    ids, timestamps, *text = columns_of(rows, 2 + len(TEXT_COLUMNS))
    coded = {name: Coded.of(column) for name, column in zip(TEXT_COLUMNS, text, strict=True)}
    return StoredEvents(ids.astype(np.int64), _nanoseconds(timestamps), coded)


def _nanoseconds(values: np.ndarray) -> np.ndarray:
    """SQLite's UTC text and PostgreSQL's aware datetimes alike, as nanoseconds since the epoch."""
    parsed = pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    return pd.DatetimeIndex(parsed.dt.as_unit("ns")).asi8.astype(np.int64, copy=False)


def encode(events: StoredEvents) -> bytes:
    """The copy's stored form: a NumPy ``.npz`` of plain arrays (no pickles), text as JSON dictionaries."""
    arrays: dict[str, np.ndarray] = {
        "format": np.array([FORMAT], dtype=np.int64),
        "ids": events.ids.astype(np.int64, copy=False),
        "timestamps": events.timestamps.astype(np.int64, copy=False),
    }
    for name in TEXT_COLUMNS:
        column = events.text[name]
        # Each value once (concatenated columns repeat them), then the rows' codes to match.
        once, distinct = pd.factorize(column.distinct)
        codes = take(once, column.codes, -1)
        arrays[f"{name}.codes"] = codes.astype(np.int32)
        # JSON rather than NumPy's fixed-width strings, which drop trailing NUL characters.
        arrays[f"{name}.distinct"] = np.frombuffer(json.dumps(list(distinct)).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types the keywords as bool
    return buffer.getvalue()


def decode(blob: bytes) -> StoredEvents:
    """The events of an encoded copy; ``ValueError`` when it is not one this module wrote."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
            if arrays["format"].tolist() != [FORMAT]:
                raise ValueError("another format")
            ids, timestamps = arrays["ids"], arrays["timestamps"]
            text = {name: _decoded(arrays, name, len(ids)) for name in TEXT_COLUMNS}
    except Exception as error:  # whatever the bytes hold (NumPy, zipfile and json each raise their own)
        raise ValueError(f"not an event-log copy: {error}") from error
    if ids.dtype != np.int64 or timestamps.dtype != np.int64 or ids.shape != timestamps.shape:
        raise ValueError("not an event-log copy: its ids and times do not match")
    return StoredEvents(ids, timestamps, text)


def _decoded(arrays: Any, name: str, rows: int) -> Coded:
    values = json.loads(arrays[f"{name}.distinct"].tobytes())
    codes = arrays[f"{name}.codes"]
    if not isinstance(values, list) or not set(map(type, values)) <= {str}:  # one pass in C: 20k item ids
        raise ValueError(f"{name}: the values are not text")
    if (
        codes.dtype != np.int32
        or codes.shape != (rows,)
        or (rows and not -1 <= codes.min() <= codes.max() < len(values))
    ):
        raise ValueError(f"{name}: the codes do not match the values")
    distinct = np.empty(len(values), dtype=object)
    distinct[:] = values
    return Coded(codes, distinct)


def _read_copy(cursor: Cursor, board_id: int) -> StoredEvents | None:
    found = cursor.rows(
        "SELECT schema_revision, events, last_event_id, columns FROM event_log_copies WHERE board_id = ?",
        [board_id],
    )
    if not found:
        return None
    revision, count, last_id, blob = found[0]
    if revision != head_revision():
        return None
    try:
        events = decode(bytes(blob))
    except ValueError:
        return None  # read row by row; the next sync writes a good copy
    return events if len(events) == count and events.last_id() == last_id else None
