"""One shape for every connector's sync cursor: versioned JSON that starts a backfill when it is unreadable.

A cursor is stored with the board after every batch and handed back at the next sync. Each connector's cursor
is a small :class:`VersionedCursor` subclass that declares its fields (and, for a field stored in a compact
form, its encoding); this module writes them as compact JSON led by ``"version"`` and reads them back. A
cursor that cannot be read, was written by another version, or belongs to another scope starts a full
backfill with a warning: re-reading everything is slow, but never wrong.

Cursors already stored in databases must keep working, so each subclass writes exactly the JSON its
connector wrote before these classes existed: the same keys in the same order, the same time formats
(:data:`IsoTime`, :data:`UtcTime`), ``json.dumps`` with ASCII escapes. Byte-equal matters beyond loading:
connectors compare the cursor they would write with the one they were given to tell "nothing changed".
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    model_validator,
)


def utc_millis(stamp: dt.datetime) -> str:
    """UTC with milliseconds and ``Z`` (``2026-01-05T09:00:00.000Z``): Linear's and GitLab's own form."""
    return stamp.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _from_iso(value: object) -> object:
    # fromisoformat, not pydantic's own parser: cursors hold what isoformat() wrote, offsets included.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _iso(stamp: dt.datetime) -> str:
    return stamp.isoformat()


IsoTime = Annotated[dt.datetime, BeforeValidator(_from_iso), PlainSerializer(_iso)]
"""A time written with ``isoformat()``, in the offset it came with."""

UtcTime = Annotated[dt.datetime, BeforeValidator(_from_iso), PlainSerializer(utc_millis)]
"""A time written as :func:`utc_millis`."""


def _sorted_by_key(texts: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(texts.items()))


SortedTexts = Annotated[dict[str, str], PlainSerializer(_sorted_by_key)]
"""A text mapping written sorted by key, so equal states write equal cursors."""


class KeySet:
    """Issue keys as sorted runs of numbers per project: ``{"PAY": "1-480,482-20000"}`` when encoded.

    Jira and Linear number a project's (a team's) issues consecutively, so even 20,000 keys are a handful of
    runs, and adding a key or encoding the set costs in proportion to the runs — the cursor is written after
    every page.
    """

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._runs: dict[str, list[list[int]]] = {}
        for key in keys:
            self.add(key)

    def add(self, key: str) -> None:
        project, _, number = key.rpartition("-")
        n, runs = int(number), self._runs.setdefault(project, [])
        i = bisect.bisect_right(runs, n, key=lambda run: run[0])  # runs[i - 1] starts at or before n
        if i and runs[i - 1][1] >= n:
            return
        joins_left, joins_right = bool(i) and runs[i - 1][1] == n - 1, i < len(runs) and runs[i][0] == n + 1
        if joins_left and joins_right:
            runs[i - 1][1] = runs.pop(i)[1]
        elif joins_left:
            runs[i - 1][1] = n
        elif joins_right:
            runs[i][0] = n
        else:
            runs.insert(i, [n, n])

    def __contains__(self, key: object) -> bool:
        project, _, number = str(key).rpartition("-")
        runs = self._runs.get(project, [])
        i = bisect.bisect_right(runs, int(number), key=lambda run: run[0]) if number.isdigit() else 0
        return bool(i) and runs[i - 1][1] >= int(number)

    def __eq__(self, other: object) -> bool:
        # Cursors compare by value (a cursor read back equals the one written); runs are kept canonical.
        if not isinstance(other, KeySet):
            return NotImplemented
        return self.encode() == other.encode()

    __hash__ = None  # type: ignore[assignment]  # mutable, like a set

    def __repr__(self) -> str:
        return f"KeySet({self.encode()!r})"

    def keys(self) -> set[str]:
        return {f"{p}-{n}" for p, runs in self._runs.items() for a, b in runs for n in range(a, b + 1)}

    def encode(self) -> dict[str, str]:
        return {
            project: ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
            for project, runs in sorted(self._runs.items())
            if runs
        }

    @classmethod
    def decode(cls, encoded: Mapping[str, str]) -> KeySet:
        keys = cls()
        for project, text in encoded.items():
            for run in filter(None, text.split(",")):
                first, _, last = run.partition("-")
                keys._runs.setdefault(project, []).append([int(first), int(last or first)])
            keys._runs[project].sort()
        return keys


def _key_set(value: object) -> KeySet:
    if isinstance(value, KeySet):
        return value
    if value is None or isinstance(value, Mapping):
        return KeySet.decode(value or {})
    raise ValueError(f"expected runs of issue numbers by project, not {type(value).__name__}")


def _encode_keys(keys: KeySet) -> dict[str, str]:
    return keys.encode()


Keys = Annotated[KeySet, PlainValidator(_key_set), PlainSerializer(_encode_keys)]
"""A :class:`KeySet`, written as its runs."""


class VersionedCursor(BaseModel):
    """A sync cursor: the fields a subclass declares, written as JSON after ``"version": VERSION``.

    :meth:`load` reads a stored cursor; with keyword ``context`` (GitLab's scope) the cursor must also hold
    those values, or it was written for something else and a backfill starts. :meth:`dump` writes it.
    ``SOURCE`` and ``LOG`` name the source and the logger of the warning about an unreadable cursor;
    ``FIRST_KEYS`` are written right after the version, where a connector wrote them before the shared
    shapes of this module existed (fields otherwise follow their declaration, inherited ones first).
    """

    VERSION: ClassVar[int] = 1
    SOURCE: ClassVar[str]
    LOG: ClassVar[str]
    FIRST_KEYS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def load(cls, cursor: str | None, **context: Any) -> Self:
        """The state a cursor describes; no cursor, or an unusable one, is a fresh state (a full backfill)."""
        if not cursor:
            return cls(**context)
        try:
            state = cls.model_validate_json(cursor)
            for name, value in context.items():
                if getattr(state, name) != value:
                    raise ValueError(f"a cursor for {name} {getattr(state, name)!r}")
            return state
        except ValidationError as error:
            problems = (str(problem["msg"]).removeprefix("Value error, ") for problem in error.errors())
            reason = "; ".join(problems)
        except (ValueError, TypeError, AttributeError, KeyError) as error:
            reason = str(error)
        logging.getLogger(cls.LOG).warning(
            "unreadable %s sync cursor (%s); syncing everything again", cls.SOURCE, reason
        )
        return cls(**context)

    def dump(self) -> str:
        """The cursor as compact JSON (what :meth:`load` reads)."""
        data = self.model_dump(mode="json", by_alias=True)
        first = {name: data.pop(name) for name in self.FIRST_KEYS}
        return json.dumps({"version": self.VERSION, **first, **data}, separators=(",", ":"))

    @model_validator(mode="before")
    @classmethod
    def _stored_version(cls, data: Any, info: ValidationInfo) -> Any:
        """A stored cursor (JSON) must be an object of this version; Python callers build the state itself."""
        if info.mode != "json":
            return data
        if not isinstance(data, dict):
            raise ValueError(f"not a JSON object but {type(data).__name__}")
        if data.get("version") != cls.VERSION:
            raise ValueError(f"cursor version {data.get('version')!r}")
        return data


Mark = tuple[str, dt.datetime | None]
"""An item's key and when the source last updated it (``None`` when it does not say)."""


class UpdatedSince(VersionedCursor):
    """How far an updated-since sync got: the newest update delivered, and what was delivered near it.

    ``updated`` is the newest update time delivered (the source's clock, so no skew); the next sync asks for
    items updated since then minus an overlap. ``recent`` maps the keys updated within that overlap to
    their update time (as :meth:`stamp` text, compared as text): the overlap re-reads them every sync, and
    an item whose update time has not moved was delivered already, so it costs no history requests.
    """

    updated: UtcTime | None = None
    recent: SortedTexts = Field(default_factory=dict)

    @staticmethod
    def stamp(moment: dt.datetime) -> str:
        """How ``recent`` writes a time; one fixed form, so that texts compare like the times."""
        return utc_millis(moment)

    def delivered(self, key: str, updated: dt.datetime | None) -> bool:
        """Whether this exact version of the item (same key, same update time) was delivered already."""
        return updated is not None and self.recent.get(key) == self.stamp(updated)

    def observe(self, marks: Sequence[Mark], window: dt.timedelta) -> None:
        """Record items as delivered: advance ``updated``, remember those updated within ``window`` of it."""
        newest = self.updated
        for key, updated in marks:
            if updated is None:
                continue
            newest = updated if newest is None else max(newest, updated)
            self.recent[key] = self.stamp(updated)
        self.updated = newest
        if newest is not None:
            horizon = self.stamp(newest - window)
            self.recent = {k: v for k, v in self.recent.items() if v >= horizon and self._keeps(k)}

    def _keeps(self, key: str) -> bool:
        """Whether ``recent`` may keep a key (every key here; :class:`SweptSince` only the known ones)."""
        return True


class SweptSince(UpdatedSince):
    """:class:`UpdatedSince` for sources whose deletions need a sweep: every key delivered, and when swept.

    Deleted items and items moved elsewhere never show up in an updated-since search, so a periodic sweep
    lists the board's keys: ``known`` (every key delivered) tells which vanished and which were never seen,
    and ``swept_at`` when that was last done.
    """

    known: Keys = Field(default_factory=KeySet)
    swept_at: IsoTime | None = None

    def delivered(self, key: str, updated: dt.datetime | None) -> bool:
        return super().delivered(key, updated) and key in self.known

    def observe(self, marks: Sequence[Mark], window: dt.timedelta) -> None:
        for key, _ in marks:
            self.known.add(key)
        super().observe(marks, window)

    def _keeps(self, key: str) -> bool:
        return key in self.known

    def sweep_due(self, now: dt.datetime, every: dt.timedelta) -> bool:
        return self.swept_at is None or now - self.swept_at >= every

    def swept(self, current: Collection[str], now: dt.datetime) -> None:
        """Record a sweep that found the keys ``current`` on the board at ``now``."""
        self.known = KeySet(current)
        self.recent = {key: stamp for key, stamp in self.recent.items() if key in current}
        self.swept_at = now
